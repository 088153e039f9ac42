"""Annotations carried through (``redact --annotations``): a dataset's labels rewritten for
its redacted outputs — file names mapped, boxes and polygons scaled with ``--max-size`` and
turned with ``--orientation bake`` — each with the fraction of its area the run hid."""

from fastredact.annotations._carry import (
    annotation_layout,
    carry_annotations,
    check_annotations,
)
from fastredact.annotations._coco import HIDDEN_KEY
from fastredact.annotations._geometry import PointMap, hidden_fraction, orientation_map
from fastredact.annotations._report import CarryReport

__all__ = [
    "HIDDEN_KEY",
    "CarryReport",
    "PointMap",
    "annotation_layout",
    "carry_annotations",
    "check_annotations",
    "hidden_fraction",
    "orientation_map",
]
