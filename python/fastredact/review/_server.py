"""The review page's web server: local, token-protected, serving only what the session
names.

Every URL starts with ``/<token>/`` (a random token made per start; without it, or with
another, the answer is 403 and nothing else). After the token, only these paths exist:

- ``""``, ``review.js``, ``review.css``: the page (static files shipped in the package);
- ``api/state``: the sample, how it was drawn, the standing corrections (JSON);
- ``api/picture/<item>``: the output's frame (JPEG);
- ``api/original/<item>/<box>``: the original inside one hidden box (PNG; recorded);
- ``api/corrections`` (POST): one reviewer action.

Anything else, ``..`` and absolute paths included, is 404: no part of a URL is ever joined
to a path on disk. Answers are never cached and carry a content security policy that keeps
the page to its own origin; the token travels in the path, so no referrer is sent.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import unquote, urlsplit

from fastredact.review._session import RequestError, ReviewSession

__all__ = ["MAX_BODY", "ReviewServer", "new_token"]

MAX_BODY = 64 * 1024
"""The largest request body accepted (one correction is a few hundred bytes)."""

STATIC = {
    "": ("index.html", "text/html; charset=utf-8"),
    "review.js": ("review.js", "text/javascript; charset=utf-8"),
    "review.css": ("review.css", "text/css; charset=utf-8"),
}
"""The page's files: URL name -> (file in fastredact/review/static, content type)."""

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
}


def new_token() -> str:
    return secrets.token_urlsafe(24)


class ReviewServer:
    """The server of one :class:`ReviewSession` on ``host:port`` (port 0: a free one)."""

    def __init__(
        self, session: ReviewSession, host: str = "127.0.0.1", port: int = 0, token: str = ""
    ) -> None:
        self.session = session
        self.token = token or new_token()
        handler = type("Handler", (_Handler,), {"server_state": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{name}]" if ":" in name else name
        return f"http://{shown}:{port}/{self.token}/"

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def start(self) -> None:
        """Serve on a background thread (tests)."""
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.session.close()


class _Handler(BaseHTTPRequestHandler):
    server_state: ReviewServer
    server_version = "fastredact-review"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: the URLs hold the token

    def do_GET(self) -> None:
        route = self._route()
        if route is None:
            return
        if route in STATIC:
            name, kind = STATIC[route]
            body = _static(name)
            self._send(HTTPStatus.OK, body, kind)
            return
        parts = route.split("/")
        try:
            if route == "api/state":
                self._json(self.server_state.session.state())
            elif len(parts) == 3 and parts[:2] == ["api", "picture"]:
                data = self.server_state.session.picture(_number(parts[2]))
                self._send(HTTPStatus.OK, data, "image/jpeg")
            elif len(parts) == 4 and parts[:2] == ["api", "original"]:
                data = self.server_state.session.original(_number(parts[2]), _number(parts[3]))
                self._send(HTTPStatus.OK, data, "image/png")
            else:
                self._error(HTTPStatus.NOT_FOUND, "not found")
        except RequestError as exc:
            self._error(exc.status, str(exc))

    def do_POST(self) -> None:
        route = self._route()
        if route is None:
            return
        if route != "api/corrections":
            self._error(HTTPStatus.NOT_FOUND, "not found")
            return
        length = self.headers.get("Content-Length", "")
        if not length.isdigit() or int(length) > MAX_BODY:
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body missing or too large")
            return
        try:
            body = json.loads(self.rfile.read(int(length)) or b"null")
        except ValueError:
            self._error(HTTPStatus.BAD_REQUEST, "the body is not JSON")
            return
        try:
            self._json(self.server_state.session.record(body))
        except RequestError as exc:
            self._error(exc.status, str(exc))

    def _route(self) -> str | None:
        """The path after ``/<token>/``, or ``None`` once a 403 / 404 was sent."""
        raw = urlsplit(self.path).path
        head, _, rest = raw.lstrip("/").partition("/")
        if not hmac.compare_digest(unquote(head).encode(), self.server_state.token.encode()):
            self._error(HTTPStatus.FORBIDDEN, "forbidden")
            return None
        if not raw.startswith("/") or raw.startswith("//"):
            self._error(HTTPStatus.NOT_FOUND, "not found")
            return None
        route = unquote(rest)
        if route.startswith("/") or ".." in route or "\\" in route or "\x00" in route:
            self._error(HTTPStatus.NOT_FOUND, "not found")
            return None
        if route not in STATIC and not route.startswith("api/"):
            self._error(HTTPStatus.NOT_FOUND, "not found")
            return None
        return route

    def _json(self, value: Any) -> None:
        body = json.dumps(value, ensure_ascii=False).encode("utf-8")
        self._send(HTTPStatus.OK, body, "application/json")

    def _error(self, status: int, message: str) -> None:
        body = json.dumps({"error": message}).encode("utf-8")
        self._send(status, body, "application/json")

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _static(name: str) -> bytes:
    folder = resources.files("fastredact.review").joinpath("static")
    return folder.joinpath(name).read_bytes()


def _number(text: str) -> int:
    if not text.isdigit() or len(text) > 9:
        raise RequestError(404, "not found")
    return int(text)
