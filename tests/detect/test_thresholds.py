"""Per-label thresholds: ``--face-threshold`` and ``--plate-threshold`` override ``--threshold``
for their label only (plates can be made stricter without touching faces)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fastredact import Redactor
from fastredact.detect import HIDE_THRESHOLD_FACTOR, DetectorSet
from fastredact.detect._vehicles import IN_VEHICLE_FACTOR
from fastredact.options import RedactOptions
from tests.support import shared_file


def _inner_thresholds(detectors: DetectorSet) -> dict[str, float]:
    parts = detectors.detector.detectors  # type: ignore[union-attr]
    return {part.classes[0]: part.threshold for part in parts}


@pytest.mark.parametrize(
    ("options", "face", "plate"),
    [
        (RedactOptions(), 0.46, 0.45),
        (RedactOptions(threshold=0.5), 0.5, 0.5),
        (RedactOptions(threshold=0.5, plate_threshold=0.8), 0.5, 0.8),
        (RedactOptions(face_threshold=0.2), 0.2, 0.45),
    ],
)
def test_each_label_gets_its_own_threshold(
    options: RedactOptions, face: float, plate: float
) -> None:
    detectors = DetectorSet.load(options)
    assert detectors.thresholds == pytest.approx({"face": face, "plate": plate})
    hiding = _inner_thresholds(detectors)
    assert hiding["face"] == pytest.approx(face * HIDE_THRESHOLD_FACTOR)
    assert hiding["plate"] == pytest.approx(plate * HIDE_THRESHOLD_FACTOR)


def test_unset_label_thresholds_leave_the_fingerprint_as_it_was() -> None:
    settings = RedactOptions().output_settings()
    assert "face_threshold" not in settings and "plate_threshold" not in settings
    assert RedactOptions(plate_threshold=0.6).fingerprint() != RedactOptions().fingerprint()
    with pytest.raises(ValueError, match="plate_threshold"):
        RedactOptions(plate_threshold=1.5)


def test_a_stricter_plate_threshold_hides_fewer_plates(shared_data: Path, tmp_path: Path) -> None:
    src = shared_file(shared_data, "anonymizer/coco02.jpg")  # two readable plates, 0.61-0.69

    def plates(**options: float | bool) -> list[float]:
        result = Redactor(faces=False, workers=1, **options).redact_file(src, tmp_path / "o.jpg")
        assert result.ok, result.error
        return [d["score"] for d in result.detections if d["label"] == "plate"]

    default = plates(vehicle_plates=False)
    strict = plates(plate_threshold=0.95, vehicle_plates=False)
    assert len(default) >= 2 and min(default) >= 0.45 * HIDE_THRESHOLD_FACTOR - 1e-3
    assert len(strict) < len(default)
    assert all(s >= 0.95 * HIDE_THRESHOLD_FACTOR - 1e-3 for s in strict)
    # Inside vehicles plates count from IN_VEHICLE_FACTOR of the threshold.
    inside = plates(plate_threshold=0.95)
    floor = 0.95 * IN_VEHICLE_FACTOR * HIDE_THRESHOLD_FACTOR
    assert len(inside) >= len(strict) and all(s >= floor - 1e-3 for s in inside)


def test_the_cli_takes_them(shared_data: Path, tmp_path: Path) -> None:
    src = shared_file(shared_data, "scikit-image/coffee.png")
    done = subprocess.run(
        [sys.executable, "-m", "fastredact", "redact", str(src), "-o", str(tmp_path / "out"),
         "--face-threshold", "0.3", "--plate-threshold", "0.6", "--no-progress"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "fastredact", "redact", str(src), "-o", str(tmp_path / "out2"),
         "--plate-threshold", "2"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "plate_threshold must be between 0 and 1" in bad.stderr
