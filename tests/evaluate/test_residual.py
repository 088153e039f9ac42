"""``fastredact eval residual``: on the clean outputs of the fixtures (photos and a video)
no strong residual lies off the regions the run hid; an unredacted face planted into an
output is found where it was planted; crops stay private."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fastredact import cli, read_manifest
from tests.support import PROJECT_ROOT
from tests.support.video_quality import trim_clip

sys.path.insert(0, str(PROJECT_ROOT / "benches"))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fixture_run(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The default run (boxes of videos listed) over the photo fixtures of the benches and
    30 frames of egoblur's gen1 video: (output folder, manifest)."""
    from bench_pipeline import FACES, STREET

    root = tmp_path_factory.mktemp("residual")
    folder = root / "in"
    folder.mkdir()
    for relative in {**FACES, **STREET}:
        src = shared_data / relative
        shutil.copyfile(src, folder / f"{src.parent.name}_{src.name}")
    trim_clip(shared_data / "egoblur/gen1/test_video.mp4", folder / "gen1.mp4", 30)
    manifest = root / "run.jsonl"
    code = cli.main(["redact", str(folder), "-o", str(root / "out"), "--manifest",
                     str(manifest), "--list-video-boxes"])  # fmt: skip
    assert code == 0
    return root / "out", manifest


def _residual(out: Path, report: Path, *flags: str) -> dict:
    code = cli.main(["eval", "residual", str(out), "-o", str(report), *flags])
    assert code == 0
    data = json.loads((report / "report.json").read_text())
    rows = [json.loads(line) for line in (report / "residuals.jsonl").read_text().splitlines()]
    assert rows == data["residuals"]
    return data


def test_clean_outputs_show_no_face_off_hidden_regions(
    fixture_run: tuple[Path, Path], tmp_path: Path
) -> None:
    """No residual off the hidden regions is a face of the fixtures' hand-made labels
    (benches/faces_truth.json), and none is one a detector is sure of: the two strong ones
    the fixtures give (a patch of foliage and a door recess, 0.46-0.47) are just over the
    reporting threshold, where a planted face scores over 0.8 (next test). The weak ones
    include the 8-14 px people far behind the car of car_image.webp, labelled "unsure":
    what the default run leaves (it finds faces from ~24 px) and a reviewer should see."""
    out, manifest = fixture_run
    data = _residual(out, tmp_path / "report", "--manifest", str(manifest), "--every", "3")
    assert data["files"] == len(list(out.iterdir())) == 14
    assert data["frames"] == 13 + 10  # every photo, every third of 30 video frames
    assert all(r["on_hidden"] is not None for r in data["residuals"])
    truth = json.loads((PROJECT_ROOT / "benches" / "faces_truth.json").read_text())["photos"]
    off = [r for r in data["residuals"] if not r["on_hidden"]]
    for r in off:
        centres = truth.get(Path(r["path"]).stem, {"faces": []})["faces"]
        x0, y0, x1, y1 = r["box"]
        assert not any(x0 <= x <= x1 and y0 <= y <= y1 for x, y in centres), r
    assert max((r["score"] for r in off), default=0) < CONFIDENT


CONFIDENT = 0.6
"""A score no false residual of the fixtures reaches (the highest is 0.47)."""


def _planted(out: Path, manifest: Path, shared_data: Path, target: Path) -> tuple[float, float]:
    """Copy ``out`` to ``target`` with the unredacted face of obama.jpeg pasted into the
    output of the street photo platedet/1.jpg, away from every region the run hid; returns
    the planted face's centre."""
    shutil.copytree(out, target)
    rows = {r["path"]: r for r in read_manifest(manifest)}
    face = next(d["box"] for d in rows["redact-client_obama.jpeg"]["detections"]
                if d["label"] == "face")  # fmt: skip
    with Image.open(shared_data / "redact-client/obama.jpeg") as im:
        crop = im.convert("RGB").crop(tuple(int(v) for v in face)).resize((120, 170))
    street = target / "platedet_1.jpg"
    hidden = [d["box"] for d in rows["platedet_1.jpg"]["detections"]]
    with Image.open(street) as im:
        picture = im.convert("RGB")
    for x in range(0, picture.width - 120, 40):
        box = (x, 10, x + 120, 180)
        if not any(h[0] < box[2] + 60 and box[0] - 60 < h[2] and h[1] < box[3] + 60
                   for h in hidden):  # fmt: skip
            break
    else:
        pytest.fail("no free place to plant the face")
    picture.paste(crop, box[:2])
    picture.save(street, quality=95)
    return box[0] + 60, box[1] + 85


def test_a_face_planted_into_an_output_is_found(
    fixture_run: tuple[Path, Path], shared_data: Path, tmp_path: Path
) -> None:
    out, manifest = fixture_run
    planted = tmp_path / "planted"
    cx, cy = _planted(out, manifest, shared_data, planted)
    crops = tmp_path / "crops"
    data = _residual(planted, tmp_path / "report", "--manifest", str(manifest),
                     "--every", "10", "--crops", str(crops))  # fmt: skip
    off = [r for r in data["residuals"] if not r["on_hidden"] and r["score"] >= CONFIDENT]
    assert len(off) == 1, off
    (hit,) = off
    x0, y0, x1, y1 = hit["box"]
    assert hit["path"] == "platedet_1.jpg" and hit["label"] == "face" and hit["strong"]
    assert x0 <= cx <= x1 and y0 <= cy <= y1
    assert hit["score"] > 0.8
    # The crops may show people: a folder only its owner can open, files only they can read.
    assert stat.S_IMODE(crops.stat().st_mode) == 0o700
    files = sorted(crops.iterdir())
    assert len(files) == len(data["residuals"])
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert any("platedet_1" in f.name and "face" in f.name for f in files)


def test_crops_inside_the_scanned_folder_are_refused(
    fixture_run: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out, _ = fixture_run
    before = sorted(os.listdir(out))
    code = cli.main(["eval", "residual", str(out), "--crops", str(out / "crops"),
                     "-o", str(tmp_path / "r")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert err.count("\n") == 1 and "inside" in err
    assert sorted(os.listdir(out)) == before


def test_an_unreadable_output_is_listed_not_fatal(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(folder / "fine.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    data = _residual(folder, tmp_path / "report")
    assert data["files"] == 1
    assert len(data["errors"]) == 1 and data["errors"][0].startswith("broken.jpg: ")
    assert data["residuals"] == []
