"""``redact --corrections``: the file format (strict), what applying means on real photos
(added boxes hidden as drawn, false positives left as the original, everything else as the
first run, byte-identical reruns), and the failures (changed input, input not in the run)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from fastredact.cli import main
from fastredact.corrections import (
    ACTIONS,
    LABELS,
    TAGS,
    Correction,
    CorrectionSet,
    parse_correction,
    read_corrections,
    standing,
)
from fastredact.detect import Detections
from fastredact.errors import CorrectionsError
from fastredact.run import Redactor, read_manifest
from fastredact.video._job import FrameDetections
from fastredact.video._process import _screen
from tests.support import shared_file
from tests.support.videoclips import make_square_clip

SHA = "ab" * 32


def _row(**fields: Any) -> dict[str, Any]:
    base = {"id": "c1", "action": "add", "input": "a.jpg", "input_sha256": SHA,
            "box": [1, 2, 30, 40], "label": "face", "tag": "crowd", "reviewer": "r",
            "time": "t"}  # fmt: skip
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


# -- the file --------------------------------------------------------------------------------

boxes = st.tuples(st.floats(0, 1000), st.floats(0, 1000), st.floats(1, 500), st.floats(1, 500)).map(
    lambda b: [round(b[0], 1), round(b[1], 1), round(b[0] + b[2], 1), round(b[1] + b[3], 1)]
)


@given(
    box=boxes,
    label=st.sampled_from(LABELS),
    tag=st.sampled_from(TAGS),
    frame=st.integers(0, 10_000),
    span=st.integers(0, 100),
)
def test_an_added_row_reads_back_as_written(
    box: list[float], label: str, tag: str, frame: int, span: int
) -> None:
    row = Correction.new("add", "x/y.png", SHA, "ana", box=box, label=label, tag=tag,
                         frame=frame, span=span)  # fmt: skip
    again = parse_correction(json.loads(json.dumps(row.as_row())))
    assert again == row
    assert again.box == tuple(box)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"action": "hide"}, "action must be one of"),
        ({"input_sha256": "12"}, "input_sha256"),
        ({"box": [10, 10, 5, 20]}, "x1 > x0"),
        ({"box": [0, 0, 1]}, "box must be"),
        ({"box": [0, 0, float("nan"), 4]}, "finite"),
        ({"label": "cat"}, "label must be one of"),
        ({"tag": "mirror"}, "tag must be one of"),
        ({"frame": -1}, "frame"),
        ({"action": "remove", "score": None}, "score"),
        ({"action": "withdraw", "target": None}, "target"),
        ({"input": ""}, "input"),
    ],
)
def test_a_bad_row_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_correction(_row(**fields))


def test_the_file_is_read_strictly_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(_row()) + "\n\n" + json.dumps(_row(label="dog")) + "\n")
    with pytest.raises(CorrectionsError, match=r"c\.jsonl, line 3: label must be"):
        read_corrections(path)
    path.write_text(json.dumps(_row()) + "\n{torn")
    with pytest.raises(CorrectionsError, match="line 2"):
        read_corrections(path)
    with pytest.raises(CorrectionsError, match="cannot read"):
        read_corrections(tmp_path / "absent.jsonl")


def test_withdrawn_rows_no_longer_stand() -> None:
    rows = [
        parse_correction(_row(id="a")),
        parse_correction(_row(id="b")),
        parse_correction(_row(id="w", action="withdraw", target="a", box=None, label=None)),
        parse_correction(_row(id="v", action="accept", box=None, label=None)),
    ]
    assert [r.id for r in standing(rows)] == ["b", "v"]
    assert set(ACTIONS) == {"add", "remove", "view-original", "accept", "withdraw"}


def test_one_input_named_with_two_contents_is_refused() -> None:
    rows = [parse_correction(_row(id="a")), parse_correction(_row(id="b", input_sha256="cd" * 32))]
    with pytest.raises(CorrectionsError, match="two SHA-256"):
        CorrectionSet(rows)


@given(
    score=st.floats(0.05, 0.95),
    found=st.floats(0.05, 0.95),
    shift=st.floats(0, 30),
)
def test_a_removal_drops_only_the_same_box_at_no_higher_score(
    score: float, found: float, shift: float
) -> None:
    row = parse_correction(_row(action="remove", box=[100, 100, 160, 160], label="plate",
                                score=score))  # fmt: skip
    mine = CorrectionSet([row]).take("a.jpg")
    assert mine is not None
    box = np.array([[100 + shift, 100, 160 + shift, 160]], np.float32)
    dets = Detections(box, np.array([found], np.float32), ("plate",))
    iou = (60 - shift) * 60 / (2 * 3600 - (60 - shift) * 60)
    dropped = iou >= 0.5 and found <= score + 0.0005
    assert bool(mine.keep(dets)[0]) is (not dropped)
    faces = Detections(box, np.array([found], np.float32), ("face",))
    assert mine.keep(faces)[0], "a removal is for its own label only"


def test_the_video_screen_drops_a_removed_box_and_what_was_attached_to_it() -> None:
    rows = [parse_correction(_row(action="remove", box=[0, 0, 10, 10], score=0.5, frame=4,
                                  span=1))]  # fmt: skip
    mine = CorrectionSet(rows).take("a.jpg")
    assert mine is not None
    screen = _screen(mine)
    found = FrameDetections(
        np.array([[0, 0, 10, 10], [50, 50, 60, 60], [1, 1, 12, 12], [49, 49, 62, 62]], np.float32),
        None,
        np.array([-1, -1, 0, 1]),
        np.array([0.5, 0.9, 0.3, 0.4], np.float32),
    )
    kept = screen(5, found)
    assert kept.boxes.tolist() == [[50, 50, 60, 60], [49, 49, 62, 62]]
    assert list(kept.parents) == [-1, 0]
    assert len(screen(7, found).boxes) == 4, "frame 7 lies outside the span"


# -- applied to real photos ------------------------------------------------------------------


@pytest.fixture(scope="module")
def portrait(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding one lossless portrait (the shared JPEG as PNG: pixels outside the
    masks then survive a re-encode exactly)."""
    folder = tmp_path_factory.mktemp("portrait") / "in"
    folder.mkdir()
    src = shared_file(shared_data, "redact-client/obama.jpeg")
    Image.open(src).convert("RGB").save(folder / "obama.png")
    return folder


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(np.int16)


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _redact(folder: Path, out: Path, **kwargs: Any) -> dict[str, dict[str, Any]]:
    # the run is told to miss every face; the whole-picture plate pass alone (no vehicle
    # pass, whose second look drops it) reports a false plate on the suit
    redactor = Redactor(faces=False, vehicle_plates=False, workers=1)
    results = list(redactor.redact_paths([folder], out, manifest=out / "m.jsonl", **kwargs))
    assert results
    return {r["path"]: r for r in read_manifest(out / "m.jsonl")}


def test_corrections_add_a_missed_face_and_leave_a_false_positive(
    portrait: Path, tmp_path: Path
) -> None:
    first = _redact(portrait, tmp_path / "first")
    row = first["obama.png"]
    plates = [d for d in row["detections"] if d["label"] == "plate"]
    assert plates, "the portrait's suit gives a false plate at the hiding margin"
    plate = plates[0]
    face = [290.0, 180.0, 570.0, 600.0]
    sha = row["input_sha256"]
    removals = [
        _row(id=f"rm{n}", action="remove", input="obama.png", input_sha256=sha, box=p["box"],
             label="plate", score=p["score"], tag=None)
        for n, p in enumerate(plates)
    ]  # fmt: skip
    corrections = _write(tmp_path / "c.jsonl", [
        _row(id="add1", input="obama.png", input_sha256=sha, box=face, tag="other"), *removals,
    ])  # fmt: skip
    again = _redact(portrait, tmp_path / "second", corrections=corrections)["obama.png"]
    assert again["status"] == "ok"
    assert again["corrections"] == ["add1", *(r["id"] for r in removals)]
    labels = [d["label"] for d in again["detections"]]
    assert labels[0] == "face" and again["detections"][0]["score"] == 1.0
    for d in again["detections"][1:]:  # only what verification found around the drawn box
        assert _overlap(d["box"], _grown(face, 1.45)) > 0, d
        assert all(_iou(d["box"], p["box"]) < 0.5 for p in plates), d
    assert again["settings_fingerprint"] != row["settings_fingerprint"]

    original = _pixels(portrait / "obama.png")
    before = _pixels(tmp_path / "first" / "obama.png")
    after = _pixels(tmp_path / "second" / "obama.png")
    fx0, fy0, fx1, fy1 = (int(v) for v in face)
    assert np.abs(after[fy0:fy1, fx0:fx1] - original[fy0:fy1, fx0:fx1]).mean() > 5
    px0, py0, px1, py1 = (int(v) for v in plate["box"])
    assert np.array_equal(after[py0:py1, px0:px1], original[py0:py1, px0:px1])
    assert not np.array_equal(before[py0:py1, px0:px1], original[py0:py1, px0:px1])
    elsewhere = np.ones(original.shape[:2], bool)
    elsewhere[fy0:fy1, fx0:fx1] = False
    for d in plates + again["detections"][1:]:
        elsewhere[_mask_extent(d["box"], 1.45)] = False
    assert np.array_equal(after[elsewhere], before[elsewhere])

    third = _redact(portrait, tmp_path / "third", corrections=corrections)["obama.png"]
    assert third["output_sha256"] == again["output_sha256"]
    assert _sha(tmp_path / "third" / "obama.png") == _sha(tmp_path / "second" / "obama.png")


def _grown(box: list[float], scale: float) -> list[float]:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    hw, hh = (box[2] - box[0]) * scale / 2, (box[3] - box[1]) * scale / 2
    return [cx - hw, cy - hh, cx + hw, cy + hh]


def _overlap(a: list[float], b: list[float]) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _iou(a: list[float], b: list[float]) -> float:
    inter = _overlap(a, b)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _mask_extent(box: list[float], scale: float) -> tuple[slice, slice]:
    x0, y0, x1, y1 = box
    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * scale / 2, (y1 - y0) * scale / 2
    return (slice(int(cy - hh) - 1, int(cy + hh) + 2), slice(int(cx - hw) - 1, int(cx + hw) + 2))


def test_a_removed_box_found_with_a_higher_score_is_hidden(portrait: Path, tmp_path: Path) -> None:
    first = _redact(portrait, tmp_path / "first")["obama.png"]
    plate = next(d for d in first["detections"] if d["label"] == "plate")
    corrections = _write(tmp_path / "c.jsonl", [
        _row(id="rm1", action="remove", input="obama.png", input_sha256=first["input_sha256"],
             box=plate["box"], label="plate", score=plate["score"] - 0.05, tag=None),
    ])  # fmt: skip
    again = _redact(portrait, tmp_path / "second", corrections=corrections)["obama.png"]
    assert [d["box"] for d in again["detections"]] == [plate["box"]]
    assert again["output_sha256"] == first["output_sha256"]


def test_a_changed_input_and_an_absent_one_are_failed_rows(portrait: Path, tmp_path: Path) -> None:
    corrections = _write(tmp_path / "c.jsonl", [
        _row(id="old", input="obama.png", input_sha256="cd" * 32),
        _row(id="gone", input="elsewhere/b.jpg"),
    ])  # fmt: skip
    out = tmp_path / "out"
    code = main([
        "redact", str(portrait), "-o", str(out), "--manifest", str(tmp_path / "m.jsonl"),
        "--no-faces", "--no-progress", "--corrections", str(corrections), "--workers", "1",
    ])  # fmt: skip
    assert code == 1
    rows = {r["path"]: r for r in read_manifest(tmp_path / "m.jsonl")}
    assert rows["obama.png"]["status"] == "failed"
    assert rows["obama.png"]["error_kind"] == "CorrectionMismatch"
    assert "changed since the review" in rows["obama.png"]["error"]
    assert rows["elsewhere/b.jpg"]["error_kind"] == "CorrectionMismatch"
    assert rows["elsewhere/b.jpg"]["corrections"] == ["gone"]
    assert not (out / "obama.png").exists(), "fail closed: nothing written"


def test_a_broken_corrections_file_stops_before_any_output(
    portrait: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "c.jsonl"
    bad.write_text('{"action": "add"}\n')
    out = tmp_path / "out"
    code = main(["redact", str(portrait), "-o", str(out), "--corrections", str(bad)])
    assert code == 2
    assert "line 1" in capsys.readouterr().err
    assert not out.exists()


def test_resumed_inputs_count_as_met(portrait: Path, tmp_path: Path) -> None:
    sha = _sha(portrait / "obama.png")
    corrections = _write(tmp_path / "c.jsonl", [_row(input="obama.png", input_sha256=sha)])
    out = tmp_path / "out"
    redactor = Redactor(faces=False, workers=1)
    manifest = tmp_path / "m.jsonl"
    list(redactor.redact_paths([portrait], out, manifest=manifest, corrections=corrections))
    results = list(
        redactor.redact_paths(
            [portrait], out, manifest=manifest, corrections=corrections, resume=True
        )
    )
    assert [(r.path, r.status) for r in results] == [("obama.png", "skipped")]


# -- applied to a video ----------------------------------------------------------------------


def test_a_box_drawn_on_a_video_frame_covers_its_span(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    clip = make_square_clip(folder / "clip.mp4", frames=20, width=128, height=96)
    box = [60.0, 10.0, 100.0, 50.0]
    corrections = _write(tmp_path / "c.jsonl", [
        _row(input="clip.mp4", input_sha256=_sha(clip), box=box, frame=10, span=2),
    ])  # fmt: skip
    redactor = Redactor(faces=False, plates=False, mode="fill", workers=1)
    (result,) = redactor.redact_paths([folder], tmp_path / "out", corrections=corrections)
    assert result.ok, result.error
    assert result.corrections is not None and len(result.corrections) == 1

    def frames(path: Path) -> list[np.ndarray]:
        with av.open(str(path)) as c:
            return [f.to_ndarray(format="rgb24").astype(np.int16) for f in c.decode(video=0)]

    src, out = frames(clip), frames(tmp_path / "out" / "clip.mp4")
    assert len(src) == len(out) == 20
    inner = (slice(18, 42), slice(68, 92))
    for i in range(20):
        change = np.abs(out[i][inner] - src[i][inner]).mean()
        if 8 <= i <= 12:
            assert change > 15, (i, change)
        else:
            assert change < 4, (i, change)
