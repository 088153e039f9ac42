"""What rewriting a run's annotations did."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CarryReport"]


@dataclass
class CarryReport:
    """Counts of one rewrite: what was carried to the outputs and what was dropped, why."""

    layout: str
    written: list[Path] = field(default_factory=list)
    images: int = 0
    objects: int = 0
    dropped_failed: int = 0
    """Images (and their objects) whose input failed: no output to label."""
    dropped_not_in_run: int = 0
    """Labelled images the run did not have (or a video)."""
    dropped_size_mismatch: int = 0
    """Images whose labels declare a size that is neither the photo's stored nor displayed."""
    assumed_displayed: int = 0
    """Images with an EXIF orientation whose labels fit the stored and the displayed picture
    alike (orientations 2-4, square photos, no size given): taken as drawn on the displayed
    picture, as browsers and YOLO loaders show it."""
    masks_dropped: int = 0
    """COCO RLE masks of scaled or turned images (run-length masks are not re-drawn)."""

    def summary(self) -> str:
        parts = [
            f"{self.layout} annotations: {self.images} images, {self.objects} objects "
            f"rewritten ({len(self.written)} file(s))"
        ]
        for count, why in (
            (self.dropped_failed, "failed inputs"),
            (self.dropped_not_in_run, "not in the run"),
            (self.dropped_size_mismatch, "labels of another size"),
        ):
            if count:
                parts.append(f"{count} image(s) dropped: {why}")
        if self.assumed_displayed:
            parts.append(
                f"{self.assumed_displayed} image(s) with an EXIF orientation whose labels fit "
                "either way: taken as drawn on the displayed picture"
            )
        if self.masks_dropped:
            parts.append(f"{self.masks_dropped} RLE mask(s) dropped (scaled or turned)")
        return "; ".join(parts)
