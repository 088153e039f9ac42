"""COCO JSON: images renamed to their outputs, sized and turned like them; each annotation's
box, polygons and area mapped, plus ``fastredact_hidden_fraction``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from fastredact.annotations._geometry import hidden_fraction
from fastredact.annotations._outcomes import Outcomes, declared_size
from fastredact.annotations._report import CarryReport
from fastredact.errors import LabelError

__all__ = ["HIDDEN_KEY", "rewrite_coco"]

HIDDEN_KEY = "fastredact_hidden_fraction"
"""The key each rewritten annotation gets: the share of its box the run hid (0 to 1)."""


def rewrite_coco(
    source: Path, outcomes: Outcomes, report: CarryReport, *, ellipse: bool, mask_scale: float
) -> dict[str, Any]:
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
        images, annotations = list(data["images"]), list(data["annotations"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LabelError(f"{source}: not a COCO file ({type(exc).__name__}: {exc})") from None
    kept: dict[Any, tuple[Any, Any, Any, Any]] = {}
    out_images = []
    for image in images:
        name = str(image.get("file_name", ""))
        outcome = outcomes.labelled(name, report)
        if outcome is None:
            continue
        frame = outcome.label_frame(declared_size(image))
        if frame is None:
            report.dropped_size_mismatch += 1
            continue
        report.assumed_displayed += outcome.ambiguous(declared_size(image))
        to_out, size, _ = outcome.to_output(frame)
        kept[image["id"]] = (outcome, frame, to_out, outcome.to_displayed(frame))
        out_images.append({**image, "file_name": outcome.output, "width": size[0],
                           "height": size[1]})  # fmt: skip
    out_annotations = []
    for ann in annotations:
        entry = kept.get(ann.get("image_id"))
        if entry is None:
            continue
        outcome, _, to_out, to_display = entry
        try:
            x, y, w, h = (float(v) for v in ann["bbox"])
        except (KeyError, TypeError, ValueError) as exc:
            raise LabelError(f"{source}: annotation {ann.get('id')}: bbox {exc}") from None
        new = dict(ann)
        x0, y0, x1, y1 = to_out.box((x, y, x + w, y + h))
        new["bbox"] = [x0, y0, x1 - x0, y1 - y0]
        if "area" in ann and isinstance(ann["area"], (int, float)):
            new["area"] = float(ann["area"]) * to_out.sx * to_out.sy
        segmentation = ann.get("segmentation")
        if isinstance(segmentation, list):
            new["segmentation"] = [_polygon(poly, to_out) for poly in segmentation]
        elif segmentation is not None and not to_out.identity:
            del new["segmentation"]
            report.masks_dropped += 1
        new[HIDDEN_KEY] = round(
            hidden_fraction(to_display.box((x, y, x + w, y + h)), outcome.hidden,
                            ellipse=ellipse, mask_scale=mask_scale), 4
        )  # fmt: skip
        out_annotations.append(new)
    report.images += len(out_images)
    report.objects += len(out_annotations)
    return {**data, "images": out_images, "annotations": out_annotations}


def _polygon(poly: Any, to_out: Any) -> list[float]:
    values = np.asarray(poly, np.float64).reshape(-1, 2)
    xs, ys = to_out.points(values[:, 0], values[:, 1])
    return [float(v) for v in np.column_stack([xs, ys]).ravel()]
