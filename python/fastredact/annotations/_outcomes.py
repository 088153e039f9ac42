"""What the annotation rewriters need to know about each input of a run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastredact.annotations._geometry import PointMap, orientation_map

__all__ = ["ImageOutcome", "Outcomes"]

_SWAPS = (5, 6, 7, 8)
"""EXIF orientations that swap width and height."""


@dataclass(frozen=True)
class ImageOutcome:
    """One redacted photo, as its labels see it."""

    path: str
    """The input's path relative to its input root (the manifest's ``path``)."""
    output: str
    """The output's path relative to the output folder."""
    width: int
    height: int
    """The photo as displayed (the detections' pixels)."""
    orientation: int
    output_size: tuple[int, int] | None
    """The written picture as displayed, when it was scaled down."""
    baked: bool
    """The output's pixels were turned upright (``--orientation bake``)."""
    hidden: NDArray[np.float64]
    """Boxes hidden on the photo (its first frame), displayed pixels, one per row."""

    @property
    def stored_size(self) -> tuple[int, int]:
        if self.orientation in _SWAPS:
            return self.height, self.width
        return self.width, self.height

    def label_frame(self, declared: tuple[int, int] | None) -> str | None:
        """Which pixels labels declaring an image of size ``declared`` are in:
        ``"displayed"`` or ``"stored"`` (``None``: neither size; when both fit, as for
        orientations that do not swap the sides, the displayed picture, as current labelling
        tools and YOLO loaders show it)."""
        if declared is None or declared == (self.width, self.height):
            return "displayed"
        if declared == self.stored_size:
            return "stored"
        return None

    def ambiguous(self, declared: tuple[int, int] | None) -> bool:
        """Whether labels of size ``declared`` could be on the stored or on the displayed
        picture of a photo with an orientation: both have that size."""
        if self.orientation == 1:
            return False
        return declared is None or (
            declared == (self.width, self.height) and declared == self.stored_size
        )

    def to_displayed(self, frame: str) -> PointMap:
        """From the labels' pixels to the displayed input's (where the run hid things)."""
        if frame == "stored":
            w, h = self.stored_size
            return orientation_map(self.orientation, w, h)
        return PointMap(1, self.width, self.height)

    def to_output(self, frame: str) -> tuple[PointMap, tuple[int, int], str]:
        """From the labels' pixels to the output's, the output's size in that frame, and
        the frame the rewritten labels are in (stored labels of a baked output become
        displayed ones: the output has no orientation left)."""
        out_w, out_h = self.output_size or (self.width, self.height)
        sx, sy = out_w / self.width, out_h / self.height
        if frame == "stored" and self.baked and self.orientation != 1:
            w, h = self.stored_size
            turn = orientation_map(self.orientation, w, h)
            return PointMap(turn.orientation, w, h, sx, sy), (out_w, out_h), "displayed"
        if frame == "stored" and self.orientation in _SWAPS:
            return PointMap(1, *self.stored_size, sy, sx), (out_h, out_w), "stored"
        if frame == "stored":
            return PointMap(1, *self.stored_size, sx, sy), (out_w, out_h), "stored"
        return PointMap(1, self.width, self.height, sx, sy), (out_w, out_h), "displayed"


class Outcomes:
    """The run's photos by the names labels use for them: the relative path, else the file
    name, else the stem (an ambiguous name or stem is not used)."""

    def __init__(self, outcomes: Iterable[ImageOutcome], failed: Iterable[str] = ()) -> None:
        self.by_path: dict[str, ImageOutcome] = {}
        names: dict[str, list[ImageOutcome]] = {}
        for o in outcomes:
            self.by_path[o.path] = o
            p = PurePosixPath(o.path)
            names.setdefault(p.name, []).append(o)
            names.setdefault(p.stem, []).append(o)
        self.by_name = {k: v[0] for k, v in names.items() if len(v) == 1}
        self.failed = set(failed)
        self.failed_names = {PurePosixPath(p).name for p in self.failed} | {
            PurePosixPath(p).stem for p in self.failed
        }

    def find(self, key: str) -> ImageOutcome | None:
        key = key.replace("\\", "/")
        while key.startswith("./"):
            key = key[2:]
        return (
            self.by_path.get(key)
            or self.by_name.get(PurePosixPath(key).name)
            or (self.by_name.get(PurePosixPath(key).stem))
        )

    def labelled(self, key: str, report: Any) -> ImageOutcome | None:
        """The photo labels call ``key``, or ``None`` after counting in ``report`` (a
        :class:`~fastredact.annotations._report.CarryReport`) why its labels are dropped:
        its input failed, or the run did not have it."""
        outcome = self.find(key)
        if outcome is None:
            if self.failed_input(key):
                report.dropped_failed += 1
            else:
                report.dropped_not_in_run += 1
        return outcome

    def failed_input(self, key: str) -> bool:
        p = PurePosixPath(key)
        return key in self.failed or p.name in self.failed_names or p.stem in self.failed_names

    @classmethod
    def from_results(cls, results: Iterable[Any], out_root: Path, *, mask_baked: bool) -> Outcomes:
        """From a run's :class:`~fastredact.run.FileResult` objects (photos only; videos and
        failed inputs are remembered as such)."""
        outcomes, failed = [], []
        for r in results:
            if r.status != "ok" or r.video is not None or r.output is None:
                if r.status == "failed":
                    failed.append(r.path)
                continue
            boxes = [d["box"] for d in r.detections if int(d.get("frame", 0)) == 0]
            size = (r.output_width, r.output_height) if r.output_width else None
            outcomes.append(
                ImageOutcome(
                    path=r.path,
                    output=Path(r.output).relative_to(out_root).as_posix(),
                    width=int(r.width),
                    height=int(r.height),
                    orientation=int(r.orientation or 1),
                    output_size=size,
                    baked=mask_baked,
                    hidden=np.array(boxes, np.float64).reshape(-1, 4),
                )
            )
        return cls(outcomes, failed)


def declared_size(value: Mapping[str, Any]) -> tuple[int, int] | None:
    try:
        w, h = int(float(value["width"])), int(float(value["height"]))
    except (KeyError, TypeError, ValueError):
        return None
    return (w, h) if w > 0 and h > 0 else None
