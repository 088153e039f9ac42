"""The review server over a real run: the token, paths that must not reach the disk, what
the page reads (pictures decoded like the outputs, originals only inside a hidden box and
recorded), what it writes (checked and completed from the manifest), files changed since
the run refused, and ``--summary``."""

from __future__ import annotations

import http.client
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from fastredact.cli import main
from fastredact.corrections import read_corrections
from fastredact.photo import decode_image
from fastredact.review import (
    ReviewServer,
    ReviewSession,
    SampleSpec,
    format_summary,
    load_review_run,
    summarise,
)
from fastredact.run import Redactor
from tests.support import shared_file

PHOTOS = {
    "people/coco01.jpg": "anonymizer/coco01.jpg",
    "street/coco02.jpg": "anonymizer/coco02.jpg",
    "people/astronaut.png": "scikit-image/astronaut.png",
    "objects/coffee.png": "scikit-image/coffee.png",
}


@pytest.fixture(scope="module")
def run_folder(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run over four shared photos in two scenario folders: inputs, outputs, manifest."""
    root = tmp_path_factory.mktemp("review")
    for name, relative in PHOTOS.items():
        target = root / "in" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared_file(shared_data, relative), target)
    results = Redactor(workers=1).redact_paths(
        [root / "in"], root / "out", manifest=root / "out" / "manifest.jsonl"
    )
    assert all(r.ok for r in results)
    return root


class Client:
    def __init__(self, server: ReviewServer) -> None:
        self.port = server.httpd.server_address[1]
        self.prefix = f"/{server.token}/"

    def raw(self, path: str, body: Any = None) -> tuple[int, bytes, dict[str, str]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        conn.request("GET" if body is None else "POST", path, body=data, headers=headers)
        response = conn.getresponse()
        out = response.status, response.read(), dict(response.getheaders())
        conn.close()
        return out

    def get(self, route: str) -> tuple[int, bytes]:
        status, body, _ = self.raw(self.prefix + route)
        return status, body

    def json(self, route: str) -> Any:
        status, body = self.get(route)
        assert status == 200, body
        return json.loads(body)

    def post(self, body: Any) -> tuple[int, Any]:
        status, data, _ = self.raw(self.prefix + "api/corrections", body)
        return status, json.loads(data)


def _serve(run_folder: Path, review_dir: Path, **kwargs: Any) -> ReviewServer:
    run = load_review_run(
        run_folder / "out" / "manifest.jsonl", None, [run_folder / "in"], kwargs.pop("run", None)
    )
    session = ReviewSession(run, review_dir, SampleSpec(kwargs.pop("size", None), 0), "tester")
    server = ReviewServer(session)
    server.start()
    return server


@pytest.fixture
def client(run_folder: Path, tmp_path: Path) -> Iterator[Client]:
    server = _serve(run_folder, tmp_path / "review")
    yield Client(server)
    server.stop()


def test_nothing_is_served_without_the_token(client: Client) -> None:
    for path in ("/", "/index.html", "/api/state", "/x" + client.prefix, client.prefix[:-2] + "/"):
        status, body, _ = client.raw(path)
        assert status == 403, path
        assert b"forbidden" in body
    assert client.get("")[0] == 200


@pytest.mark.parametrize(
    "route",
    [
        "../../../etc/passwd",
        "..%2f..%2fetc%2fpasswd",
        "/etc/passwd",
        "%2fetc%2fpasswd",
        "api/picture/../../out/manifest.jsonl",
        "api/picture/-1",
        "api/picture/99",
        "api/picture/x",
        "api/original/0",
        "static/review.js",
        "people/coco01.jpg",
        "api/state/../state",
    ],
)
def test_no_path_in_a_url_reaches_the_disk(client: Client, route: str) -> None:
    status, body = client.get(route)
    assert status == 404, (route, body[:80])


def test_answers_are_not_cached_and_keep_to_their_origin(client: Client) -> None:
    _, _, headers = client.raw(client.prefix)
    assert headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"


def test_the_state_lists_the_sample_with_the_manifest_boxes(
    client: Client, run_folder: Path
) -> None:
    state = client.json("api/state")
    assert {i["path"] for i in state["items"]} == set(PHOTOS)
    by_path = {i["path"]: i for i in state["items"]}
    assert by_path["people/astronaut.png"]["boxes"], "the astronaut's face was hidden"
    face = by_path["people/astronaut.png"]["boxes"][0]
    assert face["label"] == "face" and face["state"] == "found"
    strata = {s["name"] for s in state["how"]["strata"]}
    assert strata == {"objects · png", "people · jpeg", "people · png", "street · jpeg"}
    assert state["how"]["files_drawn"] == 4 and state["how"]["photos_in_run"] == 4


def test_a_picture_is_the_output_as_decoded(client: Client, run_folder: Path) -> None:
    state = client.json("api/state")
    for n, item in enumerate(state["items"]):
        status, body = client.get(f"api/picture/{n}")
        assert status == 200
        shown = np.asarray(Image.open(io.BytesIO(body)).convert("RGB")).astype(np.int16)
        output = decode_image((run_folder / "out" / item["path"]).read_bytes()).frames[0]
        assert shown.shape == output.shape
        assert np.abs(shown - output.astype(np.int16)).mean() < 3, item["path"]


def test_an_original_is_shown_inside_one_hidden_box_and_recorded(
    client: Client, run_folder: Path, tmp_path: Path
) -> None:
    state = client.json("api/state")
    n, item = next((n, i) for n, i in enumerate(state["items"]) if i["boxes"])
    status, body = client.get(f"api/original/{n}/0")
    assert status == 200
    crop = np.asarray(Image.open(io.BytesIO(body)))
    x0, y0, x1, y1 = (int(v) for v in item["boxes"][0]["box"])
    original = decode_image((run_folder / "in" / item["path"]).read_bytes()).frames[0]
    assert np.array_equal(crop, original[y0:y1, x0:x1])
    rows = read_corrections(tmp_path / "review" / "corrections.jsonl")
    assert [(r.action, r.input, r.box) for r in rows] == [
        ("view-original", item["path"], tuple(float(v) for v in item["boxes"][0]["box"]))
    ]
    assert client.get(f"api/original/{n}/{len(item['boxes'])}")[0] == 404


def test_actions_are_checked_and_completed_from_the_manifest(
    client: Client, tmp_path: Path
) -> None:
    state = client.json("api/state")
    n, item = next((n, i) for n, i in enumerate(state["items"]) if i["boxes"])
    status, row = client.post({"item": n, "action": "remove", "box_index": 0, "score": 0.01})
    assert status == 200
    assert row["score"] == item["boxes"][0]["score"], "the score comes from the manifest"
    assert row["input_sha256"] == item["input_sha256"] and row["reviewer"] == "tester"
    status, added = client.post({"item": n, "action": "add", "box": [5, 5, 40, 50],
                                 "label": "face", "tag": "reflection"})  # fmt: skip
    assert status == 200 and added["tag"] == "reflection"
    for bad, code in [
        ({"item": n, "action": "add", "box": [5, 5, 4, 50], "label": "face"}, 400),
        ({"item": n, "action": "add", "box": [5, 5, 40, 50], "label": "cat"}, 400),
        ({"item": n, "action": "remove", "box_index": 99}, 404),
        ({"item": 99, "action": "accept"}, 404),
        ({"item": n, "action": "erase"}, 400),
        ({"item": n, "action": "withdraw", "target": "nope"}, 404),
        ([1, 2], 400),
    ]:
        status, answer = client.post(bad)
        assert status == code, (bad, answer)
    status, _ = client.post({"item": n, "action": "withdraw", "target": added["id"]})
    assert status == 200
    reloaded = client.json("api/state")["corrections"]
    assert [r["action"] for r in reloaded] == ["remove"], "a reload shows what still stands"
    rows = read_corrections(tmp_path / "review" / "corrections.jsonl")
    assert [r.action for r in rows] == ["remove", "add", "withdraw"]


def test_a_changed_original_or_output_is_not_shown(run_folder: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_folder, copy)
    server = _serve(copy, tmp_path / "review")
    client = Client(server)
    try:
        state = client.json("api/state")
        n, item = next((n, i) for n, i in enumerate(state["items"]) if i["boxes"])
        with open(copy / "in" / item["path"], "ab") as f:
            f.write(b"\0")
        status, body = client.get(f"api/original/{n}/0")
        assert status == 409 and b"changed since the run" in body
        with open(copy / "out" / item["path"], "ab") as f:
            f.write(b"\0")
        status, body = client.get(f"api/picture/{n}")
        assert status == 409 and b"changed since the run" in body
        assert not (tmp_path / "review" / "corrections.jsonl").read_text()
    finally:
        server.stop()


def test_the_sample_survives_a_restart(run_folder: Path, tmp_path: Path) -> None:
    first = _serve(run_folder, tmp_path / "review", size=2)
    try:
        items = Client(first).json("api/state")["items"]
    finally:
        first.stop()
    again = _serve(run_folder, tmp_path / "review", size=2)
    try:
        assert Client(again).json("api/state")["items"] == items
        assert len(items) == 2
    finally:
        again.stop()


def test_the_summary_counts_misses_by_tag_and_scenario(
    client: Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = client.json("api/state")
    where = {i["path"]: n for n, i in enumerate(state["items"])}
    plan = [
        ("people/coco01.jpg", "reflection"),
        ("people/astronaut.png", "reflection"),
        ("street/coco02.jpg", "poster-or-screen"),
    ]
    for path, tag in plan:
        status, _ = client.post({"item": where[path], "action": "add", "box": [1, 1, 9, 9],
                                 "label": "face", "tag": tag})  # fmt: skip
        assert status == 200
    client.post({"item": where["objects/coffee.png"], "action": "accept"})
    path = tmp_path / "review" / "corrections.jsonl"
    summary = summarise(path)
    assert summary["misses"] == 3
    assert summary["misses_by_tag"] == {"reflection": 2, "poster-or-screen": 1}
    assert summary["misses_by_scenario"] == {"people": 2, "street": 1}
    assert summary["pictures_reviewed"] == 4 and summary["pictures_accepted"] == 1
    text = format_summary(summary)
    assert "reflection 2" in text and "people 2" in text
    assert main(["review", "--summary", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["misses"] == 3


def test_the_command_refuses_a_manifest_without_outputs(
    run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "m.jsonl"
    shutil.copyfile(run_folder / "out" / "manifest.jsonl", manifest)
    assert main(["review", str(manifest), "--no-open"]) == 2
    assert "--outputs" in capsys.readouterr().err
    assert main(["review"]) == 2


def test_a_video_is_reviewed_frame_by_frame(tmp_path: Path) -> None:
    from tests.support.videoclips import make_square_clip

    (tmp_path / "in").mkdir()
    make_square_clip(tmp_path / "in" / "clip.mp4", frames=24, width=96, height=64)
    redactor = Redactor(workers=1, detect_every=4, list_video_boxes=True)
    (result,) = redactor.redact_paths(
        [tmp_path / "in"], tmp_path / "out", manifest=tmp_path / "out" / "manifest.jsonl"
    )
    assert result.ok, result.error
    server = _serve(tmp_path, tmp_path / "review")
    client = Client(server)
    try:
        state = client.json("api/state")
        frames = [i["frame"] for i in state["items"]]
        between = [i["frame"] for i in state["items"] if "between-detections" in i["reasons"]]
        assert len(between) == 6 and all(f % 4 == 2 for f in between), frames
        others = [i for i in state["items"] if "between-detections" not in i["reasons"]]
        assert all(i["frame"] % 4 == 0 and "near-threshold" in i["reasons"] for i in others)
        import av

        with av.open(str(tmp_path / "out" / "clip.mp4")) as c:
            decoded = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        for n, frame in enumerate(frames):
            status, body = client.get(f"api/picture/{n}")
            assert status == 200
            shown = np.asarray(Image.open(io.BytesIO(body)).convert("RGB")).astype(np.int16)
            assert np.abs(shown - decoded[frame].astype(np.int16)).mean() < 3, frame
    finally:
        server.stop()
