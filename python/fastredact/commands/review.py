"""`fastredact review`: look at a run's outputs for what it missed, on a local page, and write
the corrections `redact --corrections` re-applies."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
import webbrowser
from pathlib import Path

from fastredact.commands import EXIT_OK, EXIT_USAGE
from fastredact.errors import FastRedactError

__all__ = ["register"]

DEFAULT_SAMPLE = 100

DESCRIPTION = """\
Review a run's redacted outputs in your browser and record what it missed.

The page shows a sample of the outputs, one picture at a time, with every hidden box
outlined (label, score, found at the threshold or hidden by the margin). Drag on the
picture to draw a missed face or plate (with a tag from the playbook: reflection,
poster or screen, mirrored helmet, painting, crowd, other); click a hidden box to mark
it a false positive, or to see the original pixels inside that box only (the view is
recorded; needs --inputs). Every action is saved to REVIEW_DIR/corrections.jsonl at
once; reloading the page, or starting the review again, keeps everything.

The sample seeks misses: stratified over scenarios (the input's top folder) and formats,
weighted toward pictures with boxes near the threshold, with many small boxes, with no
box where most of their stratum had some, and video frames between detections. The page
says how it was drawn and what share of the run it covers.

The server listens on 127.0.0.1 with a random token in its URL (printed here); nothing
is served without the token, and only the files the manifest lists.

Then re-run the same redaction with the corrections:
  fastredact redact INPUTS -o OUT2 --manifest run2.jsonl --corrections REVIEW_DIR/corrections.jsonl
"""

EXAMPLES = """\
examples:
  fastredact review out/manifest.jsonl --inputs photos/ --reviewer ana
  fastredact review run.jsonl --outputs out/ --inputs photos/ --sample 200 --seed 7
  fastredact review --summary out/manifest.review/corrections.jsonl
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "review",
        help="review a run's outputs on a local page; record misses and false positives",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("manifest", nargs="?", type=Path, metavar="MANIFEST",
                   help="the run's manifest (JSON Lines)")  # fmt: skip
    p.add_argument(
        "--outputs", type=Path, metavar="OUTDIR",
        help="the run's output folder (default: the manifest's folder, when the outputs are there)",
    )  # fmt: skip
    p.add_argument(
        "--inputs", type=Path, action="append", default=[], metavar="DIR",
        help="an input folder of the run (repeatable): lets the reviewer see the original "
        "inside a hidden box; without it, originals are never shown",
    )  # fmt: skip
    p.add_argument(
        "-o", "--output", type=Path, metavar="REVIEW_DIR",
        help="where the sample and corrections.jsonl are kept (default: MANIFEST's name with "
        "'.review' beside it)",
    )  # fmt: skip
    size = p.add_mutually_exclusive_group()
    size.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, metavar="N",
                      help=f"pictures to draw (default: {DEFAULT_SAMPLE})")  # fmt: skip
    size.add_argument("--all", action="store_true", help="every candidate picture of the run")
    p.add_argument("--seed", type=int, default=0, help="the sample's random seed (default: 0)")
    p.add_argument("--run", metavar="FINGERPRINT",
                   help="the run to review, by (the start of) its settings fingerprint "
                   "(default: the manifest's last)")  # fmt: skip
    p.add_argument("--reviewer", default=None, metavar="NAME",
                   help="your name in every correction (default: your login name)")  # fmt: skip
    p.add_argument("--span", type=int, default=0, metavar="N",
                   help="video: a box drawn on a frame applies to N frames either side too "
                   "(default: 0; the page can change it per box)")  # fmt: skip
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only)")  # fmt: skip
    p.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    p.add_argument("--no-open", action="store_true",
                   help="do not open a browser (it is opened only where a desktop is)")  # fmt: skip
    p.add_argument(
        "--summary", type=Path, metavar="CORRECTIONS",
        help="print what a review found (misses by tag and scenario, false positives) and exit",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="with --summary: print JSON")
    p.set_defaults(handler=run_review)


def run_review(args: argparse.Namespace) -> int:
    if args.summary is not None:
        return _summary(args)
    if args.manifest is None:
        print("fastredact review: error: give a MANIFEST (or --summary FILE)", file=sys.stderr)
        return EXIT_USAGE
    if args.sample < 1 or args.span < 0:
        print("fastredact review: error: --sample must be >= 1 and --span >= 0", file=sys.stderr)
        return EXIT_USAGE
    from fastredact.review import ReviewServer, ReviewSession, SampleSpec, load_review_run

    folder = args.output or args.manifest.with_name(args.manifest.name + ".review")
    started = time.perf_counter()
    try:
        run = load_review_run(args.manifest, args.outputs, args.inputs, args.run)
        spec = SampleSpec(None if args.all else args.sample, args.seed)
        session = ReviewSession(run, folder, spec, args.reviewer or _login(), args.span)
        server = ReviewServer(session, args.host, args.port)
    except (FastRedactError, OSError) as exc:
        print(f"fastredact review: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    how = session.sample.how
    print(
        f"review of {len(run.files)} ok file(s) of {args.manifest}: {how['drawn']} picture(s) "
        f"drawn from {how['candidates']} in {time.perf_counter() - started:.1f} s; "
        f"corrections go to {session.corrections_path}",
        file=sys.stderr,
    )
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"fastredact review: warning: listening on {args.host}: anyone who can reach it "
              "and has the URL sees the outputs", file=sys.stderr)  # fmt: skip
    print(f"open {server.url}   (Ctrl-C to stop)", flush=True)
    if not args.no_open and _has_desktop():
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print(
        f"corrections saved in {session.corrections_path}; apply them with "
        f"fastredact redact ... --corrections {session.corrections_path}",
        file=sys.stderr,
    )
    return EXIT_OK


def _summary(args: argparse.Namespace) -> int:
    from fastredact.review import format_summary, summarise

    try:
        summary = summarise(args.summary)
    except FastRedactError as exc:
        print(f"fastredact review: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return EXIT_OK


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "reviewer"


def _has_desktop() -> bool:
    """Whether a graphical browser can open here (a text-mode one would take the terminal)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
