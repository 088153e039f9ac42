"""``fastredact eval truth``: the scoring rules against an independent count, and the report
on real runs reproducing what ``benches/eval_faces.py`` and ``benches/eval_plates.py`` report
for the same run (their own code, reading the same manifest), to the face."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastredact import cli
from fastredact.evaluate import LabelledObject, Truth, evaluate_truth
from tests.support import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "benches"))

# -- the rules, against a brute-force count ---------------------------------------------------

coordinate = st.integers(0, 60)


@st.composite
def boxes(draw: st.DrawFn) -> tuple[float, float, float, float]:
    x0, y0 = draw(coordinate), draw(coordinate)
    return (float(x0), float(y0), float(x0 + draw(st.integers(1, 30))),
            float(y0 + draw(st.integers(1, 30))))  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    objects=st.lists(st.tuples(st.sampled_from(["face", "plate"]), boxes(), st.booleans()),
                     max_size=6),
    hidden=st.lists(st.tuples(st.sampled_from(["face", "plate"]), boxes(),
                              st.floats(0.05, 0.99)), max_size=6),
)  # fmt: skip
def test_found_hidden_and_false_boxes_match_a_brute_force_count(
    objects: list[tuple[str, tuple[float, float, float, float], bool]],
    hidden: list[tuple[str, tuple[float, float, float, float], float]],
) -> None:
    thresholds = {"face": 0.5, "plate": 0.4}
    truth = Truth({"a.jpg": [LabelledObject(lb, box, ign) for lb, box, ign in objects]},
                  source="labels", declared={"face", "plate"})  # fmt: skip
    row = {"status": "ok", "path": "a.jpg", "width": 200, "height": 200,
           "detections": [{"label": lb, "box": list(b), "score": s, "frame": 0}
                          for lb, b, s in hidden]}  # fmt: skip
    report = evaluate_truth([row], truth, thresholds)

    def holds(box: tuple[float, ...], obj: tuple[float, ...]) -> bool:
        cx, cy = (obj[0] + obj[2]) / 2, (obj[1] + obj[3]) / 2
        return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]

    for label in ("face", "plate"):
        counted = [b for lb, b, ign in objects if lb == label and not ign]
        found_boxes = [b for lb, b, s in hidden if lb == label and s >= thresholds[label]]
        cell = report.overall[label]
        assert cell.objects == len(counted)
        assert cell.found == sum(any(holds(f, o) for f in found_boxes) for o in counted)
        assert cell.hidden == sum(any(holds(h, o) for _, h, _ in hidden) for o in counted)
        every = [b for lb, b, _ in objects if lb == label]
        assert report.false_found[label] == sum(
            not any(holds(f, o) for o in every) for f in found_boxes
        )
        assert cell.found_iou <= cell.found or cell.found_iou <= len(found_boxes)
    assert len(report.misses) == sum(
        not any(holds(h, o) for _, h, _ in hidden) for _, o, ign in objects if not ign
    )


# -- real runs -------------------------------------------------------------------------------


def _redact(folder: Path, out: Path, *flags: str) -> Path:
    manifest = out.with_suffix(".jsonl")
    code = cli.main(["redact", str(folder), "-o", str(out), "--manifest", str(manifest), *flags])
    assert code == 0
    return manifest


def _truth_report(labels: Path, manifest: Path, out: Path, *flags: str) -> dict:
    code = cli.main(["eval", "truth", "--truth", str(labels), "--manifest", str(manifest),
                     "-o", str(out), *flags])  # fmt: skip
    assert code == 0
    assert (out / "report.md").is_file() and (out / "misses.jsonl").is_file()
    return json.loads((out / "report.json").read_text())


@pytest.fixture(scope="module")
def faces_run(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default run over faces-eval (198 WIDER FACE photos), faces and plates on."""
    return _redact(shared_data / "faces-eval" / "images", tmp_path_factory.mktemp("fe") / "out")


@pytest.mark.slow
def test_truth_reproduces_eval_faces_by_height(
    shared_data: Path, faces_run: Path, tmp_path: Path
) -> None:
    import eval_faces

    report = _truth_report(shared_data / "faces-eval" / "labels.txt", faces_run, tmp_path / "r")
    face = report["labels"]["face"]
    photos = eval_faces.crowds(None)
    tally = eval_faces.Tally()
    for item, hidden in zip(photos, eval_faces.manifest_tool(faces_run)(photos), strict=True):
        eval_faces.score(item, hidden, tally)
    bins = [face["by_height"][name] for name in eval_faces.BIN_NAMES]
    assert [b["objects"] for b in bins] == tally.faces
    assert [b["found"] for b in bins] == tally.found
    assert [b["hidden"] for b in bins] == tally.hidden
    assert face["false_found"] == tally.false_found
    assert report["photos"] == tally.photos == 198
    # And the numbers are what a detector of this quality gives (not a vacuous pass).
    assert 0.85 < face["recall_hidden"] < 1
    assert face["found"] < face["hidden"]
    scenarios = face["by_scenario"]
    assert set(scenarios) == {p.name for p in (shared_data / "faces-eval" / "images").iterdir()}
    assert sum(s["objects"] for s in scenarios.values()) == face["objects"]
    misses = (tmp_path / "r" / "misses.jsonl").read_text().splitlines()
    assert len(misses) == face["objects"] - face["hidden"]


@pytest.mark.slow
def test_truth_reproduces_eval_plates(shared_data: Path, tmp_path: Path) -> None:
    import eval_plates

    valid = shared_data / "openimages-plates" / "valid"
    manifest = _redact(valid / "images", tmp_path / "out")
    report = _truth_report(valid, manifest, tmp_path / "r")
    plate = report["labels"]["plate"]
    bench = eval_plates.score_manifest(valid, manifest)
    assert plate["objects"] == bench["plates"]
    assert (plate["found"], plate["hidden"]) == (bench["found"], bench["hidden"])
    assert round(plate["recall_found_iou"] * plate["objects"]) == bench["found_iou50"]
    assert round(plate["recall_hidden_iou"] * plate["objects"]) == bench["hidden_iou50"]
    assert 0.6 < plate["recall_hidden"] <= 1
    assert "vehicle" not in report["labels"]  # a class fastredact does not detect


@pytest.mark.slow
def test_a_run_without_faces_finds_no_face(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / "faces-eval" / "images"
    folder = tmp_path / "in"
    shutil.copytree(source / "19--Couple", folder / "19--Couple")  # a scenario, quickly
    manifest = _redact(folder, tmp_path / "out", "--no-faces")
    report = _truth_report(
        source.parent / "labels.txt", manifest, tmp_path / "r", "--allow-missing"
    )
    face = report["labels"]["face"]
    assert face["objects"] > 20
    assert face["found"] == 0 and face["recall_found"] == 0
    assert report["labelled_images_not_in_run"] > 100
    # Faces a plate box happened to cover count as hidden, never as found.
    assert face["hidden"] <= face["objects"] // 10
