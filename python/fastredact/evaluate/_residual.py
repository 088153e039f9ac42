"""The residual-detection pass: every detector over every output photo and every video frame.

What a reviewer (or an attacker) running detectors on the published files would find: each
detection is a residual row (file, frame, box, score, label). The detectors
(:class:`ResidualDetectors`) are the defaults, CenterFace also with the small-face schedule
(3x-enlarged tiles: faces down to ~10 px), at the thresholds down to which a run hides (0.7
x the reporting thresholds) unless ``threshold`` is given. A residual is *strong* at or
above its label's reporting threshold; given the run's manifest, each also says whether it
lies on a region the run hid (the hidden blob itself). Crops of the residuals go to a folder
readable by its owner only (mode 0700): they may show a person.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastredact.detect import (
    HIDE_THRESHOLD_FACTOR,
    Detections,
    MultiDetector,
    default_threshold,
    load_detector,
)
from fastredact.detect._nms import nms
from fastredact.detect._set import as_rgb8
from fastredact.errors import FastRedactError, one_line
from fastredact.formats import MEDIA_SUFFIXES, SNIFF_BYTES, sniff_photo, sniff_video
from fastredact.options import SMALL_FACE_TILE_SCALES

__all__ = [
    "Residual",
    "ResidualDetectors",
    "ResidualScan",
    "hidden_regions",
    "residual_summary",
    "scan_outputs",
]


@dataclass(frozen=True)
class Residual:
    """Something a detector still finds in an output."""

    path: str
    frame: int
    label: str
    box: tuple[float, float, float, float]
    score: float
    strong: bool
    """Scoring at least the label's reporting threshold (else between it and the scan's)."""
    on_hidden: bool | None = None
    """Its centre lies in a region the run hid (the hidden blob itself still looks like a
    face or plate: whether it identifies anyone is what ``eval reid`` measures); ``None``
    when the run's manifest was not given or does not list the frame's boxes."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "frame": self.frame,
            "label": self.label,
            "box": [round(v, 1) for v in self.box],
            "score": round(self.score, 3),
            "strong": self.strong,
            "on_hidden": self.on_hidden,
        }


@dataclass
class ResidualScan:
    residuals: list[Residual]
    files: int
    frames: int
    thresholds: dict[str, float]
    reporting: dict[str, float]
    errors: list[str]


HiddenRegions = Mapping[str, Mapping[int, NDArray[np.float64]]]
"""Per output path without its suffix, per frame: the hidden regions' bounding boxes (N, 4)
(each hidden box grown by the run's mask scale), in the pixels the run's manifest uses."""


class ResidualDetectors:
    """Faces: the default ensemble over the standard schedule, and CenterFace with the
    small-face schedule (3x-enlarged tiles, faces down to ~10 px); plates: PlateNet. Each
    detector at ``threshold`` (else its hiding threshold); overlapping boxes of one label
    found by two detectors count once (the higher score).

    YuNet does not get the enlarged tiles here: on them it fires on fabric and wood grain
    (39 boxes at 0.46 on egoblur's kitchen photo, CenterFace none), which would bury a
    real residual among false ones."""

    def __init__(self, threshold: float | None = None) -> None:
        def low(model: str) -> float:
            return (
                HIDE_THRESHOLD_FACTOR * default_threshold(model) if threshold is None else threshold
            )

        self.reporting = {
            "face": default_threshold("yunet+centerface"),
            "plate": default_threshold("platenet"),
        }
        self.thresholds = {"face": low("yunet+centerface"), "plate": low("platenet")}
        self.detectors = MultiDetector(
            [
                load_detector("yunet+centerface", threshold=self.thresholds["face"]),
                load_detector(
                    "centerface",
                    threshold=low("centerface"),
                    tile_scales=SMALL_FACE_TILE_SCALES,
                ),
                load_detector("platenet", threshold=self.thresholds["plate"], labels=["plate"]),
            ]
        )

    def detect(self, rgb: NDArray[np.uint8]) -> Detections:
        found = self.detectors.detect(rgb)
        keep: list[int] = []
        for label in dict.fromkeys(found.labels):
            mine = np.flatnonzero(np.asarray(found.labels) == label)
            kept = nms(found.boxes[mine], found.scores[mine], SAME_OBJECT_IOU)
            keep.extend(int(i) for i in mine[kept])
        return found.select(np.asarray(sorted(keep), np.intp))


SAME_OBJECT_IOU = 0.4
"""Boxes of one label overlapping this much are one object."""


def _outputs(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if Path(name).suffix.lower() in MEDIA_SUFFIXES:
                yield Path(root) / name


def scan_outputs(
    folder: Path,
    *,
    threshold: float | None = None,
    every: int = 1,
    crops: Path | None = None,
    hidden: HiddenRegions | None = None,
) -> ResidualScan:
    """Residual detections in every photo and video (every ``every``-th frame) under
    ``folder``; crops of each go to ``crops`` when given (created with mode 0700). With
    ``hidden`` (:func:`hidden_regions` of the run's manifest) each residual says whether it
    lies on a region the run hid."""
    detectors = ResidualDetectors(threshold)
    if crops is not None:
        crops.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(crops, 0o700)
    scan = ResidualScan([], 0, 0, detectors.thresholds, detectors.reporting, [])
    for path in _outputs(folder):
        relative = path.relative_to(folder).as_posix()
        regions = None if hidden is None else hidden.get(str(Path(relative).with_suffix("")))
        try:
            for index, rgb, to_stored in _frames(path, every):
                scan.frames += 1
                for residual in _residuals(detectors, relative, index, rgb, to_stored, regions):
                    scan.residuals.append(residual)
                    if crops is not None:
                        _save_crop(crops, residual, rgb, len(scan.residuals))
        except (
            FastRedactError,
            OSError,
            ValueError,
        ) as exc:  # PyAV's errors are OSErrors/ValueErrors
            scan.errors.append(f"{relative}: {type(exc).__name__}: {one_line(exc)}")
            continue
        scan.files += 1
    return scan


def _residuals(
    detectors: ResidualDetectors,
    relative: str,
    index: int,
    rgb: NDArray[np.uint8],
    to_stored: Callable[[NDArray[np.float32]], NDArray[np.float32]],
    regions: Mapping[int, NDArray[np.float64]] | None,
) -> Iterator[Residual]:
    found = detectors.detect(rgb)
    frame_regions = None if regions is None else regions.get(index, np.zeros((0, 4)))
    stored = to_stored(found.boxes.astype(np.float32)) if len(found) else found.boxes
    for box, at, score, label in zip(found.boxes, stored, found.scores, found.labels, strict=True):
        on_hidden = None
        if frame_regions is not None:
            cx, cy = (at[0] + at[2]) / 2, (at[1] + at[3]) / 2
            r = frame_regions
            on_hidden = bool(
                ((r[:, 0] <= cx) & (cx <= r[:, 2]) & (r[:, 1] <= cy) & (cy <= r[:, 3])).any()
            )
        strong = float(score) >= detectors.reporting.get(label, 0.0)
        x0, y0, x1, y1 = (float(v) for v in box)
        yield Residual(relative, index, label, (x0, y0, x1, y1), float(score), strong, on_hidden)


def hidden_regions(
    rows: Iterable[Mapping[str, Any]], mask_scale: float
) -> dict[str, dict[int, NDArray[np.float64]]]:
    """The regions a run hid, from its manifest rows (full form), keyed for
    :func:`scan_outputs`: each box grown ``mask_scale`` times about its centre (the hidden
    ellipse's bounding box). A video row contributes only when the run listed its boxes."""
    out: dict[str, dict[int, NDArray[np.float64]]] = {}
    for row in rows:
        if row.get("status") != "ok":
            continue
        listed = [d for d in row.get("detections") or [] if "box" in d]
        if row.get("video") is not None and not listed:
            continue
        frames: dict[int, list[list[float]]] = {}
        for d in listed:
            x0, y0, x1, y1 = d["box"]
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            hw, hh = (x1 - x0) * mask_scale / 2, (y1 - y0) * mask_scale / 2
            frames.setdefault(int(d.get("frame", 0)), []).append(
                [cx - hw, cy - hh, cx + hw, cy + hh]
            )
        key = str(Path(str(row["path"])).with_suffix(""))
        out[key] = {i: np.array(b, np.float64) for i, b in frames.items()}
    return out


def _identity(boxes: NDArray[np.float32]) -> NDArray[np.float32]:
    return boxes


def _frames(
    path: Path, every: int
) -> Iterator[tuple[int, NDArray[np.uint8], Callable[[NDArray[np.float32]], NDArray[np.float32]]]]:
    """Each picture of the output at ``path`` as displayed, with the mapping of its boxes to
    the pixels the manifest uses (stored pixels for video, displayed for photos)."""
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    if sniff_video(head) is not None:
        yield from _video_frames(path, every)
        return
    if sniff_photo(head) is None:
        return
    from fastredact.photo import decode_image

    decoded = decode_image(path.read_bytes())
    for index, frame in enumerate(decoded.frames):
        yield index, as_rgb8(frame), _identity


def _video_frames(
    path: Path, every: int
) -> Iterator[tuple[int, NDArray[np.uint8], Callable[[NDArray[np.float32]], NDArray[np.float32]]]]:
    import av

    from fastredact.video._display import DisplayTransform
    from fastredact.video._job import _display_matrix

    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index % every:
                continue
            transform = DisplayTransform.from_side_data(_display_matrix(frame))
            rgb = np.ascontiguousarray(transform.to_display(frame.to_ndarray(format="rgb24")))
            width, height = frame.width, frame.height

            def to_stored(
                boxes: NDArray[np.float32],
                t: DisplayTransform = transform,
                w: int = width,
                h: int = height,
            ) -> NDArray[np.float32]:
                return t.boxes_to_stored(boxes, w, h)

            yield index, rgb, to_stored


def _save_crop(folder: Path, residual: Residual, rgb: NDArray[np.uint8], number: int) -> None:
    from PIL import Image

    x0, y0, x1, y1 = (round(v) for v in residual.box)
    crop = rgb[max(0, y0) : max(y0 + 1, y1), max(0, x0) : max(x0 + 1, x1)]
    if crop.size == 0:
        return
    name = f"{number:05d}_{residual.label}_{Path(residual.path).stem}_{residual.frame}.png"
    target = folder / name
    Image.fromarray(crop).save(target)
    os.chmod(target, 0o600)


def residual_summary(scan: ResidualScan) -> dict[str, Any]:
    """Counts for the report: per label, strong (at the reporting threshold) and weak, and
    how many lie on the regions the run hid."""
    counts: dict[str, dict[str, int]] = {}
    files: dict[str, set[str]] = {}
    for r in scan.residuals:
        c = counts.setdefault(
            r.label, {"strong": 0, "weak": 0, "on_hidden": 0, "outside_hidden": 0}
        )
        c["strong" if r.strong else "weak"] += 1
        if r.on_hidden is not None:
            c["on_hidden" if r.on_hidden else "outside_hidden"] += 1
        if r.strong and not r.on_hidden:
            files.setdefault(r.label, set()).add(r.path)
    return {
        "files": scan.files,
        "frames": scan.frames,
        "thresholds": scan.thresholds,
        "reporting_thresholds": scan.reporting,
        "residuals": len(scan.residuals),
        "residuals_by_label": counts,
        "files_with_strong_residuals_not_on_hidden_regions": {k: len(v) for k, v in files.items()},
        "errors": scan.errors,
    }
