"""Pascal VOC: one XML per image, written beside its output: ``filename`` and ``size`` of
the output, each ``bndbox`` mapped, and ``fastredact_hidden_fraction`` in each object."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath

from fastredact.annotations._coco import HIDDEN_KEY
from fastredact.annotations._geometry import hidden_fraction
from fastredact.annotations._outcomes import Outcomes
from fastredact.annotations._report import CarryReport
from fastredact.errors import LabelError

__all__ = ["rewrite_voc"]

_EDGES = ("xmin", "ymin", "xmax", "ymax")


def rewrite_voc(
    folder: Path, outcomes: Outcomes, report: CarryReport, *, ellipse: bool, mask_scale: float
) -> dict[str, str]:
    files: dict[str, str] = {}
    for xml_path in sorted(folder.rglob("*.xml")):
        try:
            tree = ET.parse(xml_path)
        except ET.ParseError as exc:
            raise LabelError(f"{xml_path}: not XML ({exc})") from None
        root = tree.getroot()
        name = (root.findtext("filename") or "").strip() or xml_path.stem
        outcome = outcomes.labelled(name, report)
        if outcome is None:
            continue
        size = root.find("size")
        declared = None
        if size is not None:
            try:
                declared = (int(float(size.findtext("width") or 0)),
                            int(float(size.findtext("height") or 0)))  # fmt: skip
            except ValueError:
                raise LabelError(f"{xml_path}: size is not numbers") from None
            declared = declared if min(declared) > 0 else None
        frame = outcome.label_frame(declared)
        if frame is None:
            report.dropped_size_mismatch += 1
            continue
        report.assumed_displayed += outcome.ambiguous(declared)
        to_out, (width, height), _ = outcome.to_output(frame)
        to_display = outcome.to_displayed(frame)
        _set(root, "filename", PurePosixPath(outcome.output).name)
        if root.find("path") is not None:
            _set(root, "path", outcome.output)
        if size is not None:
            _set(size, "width", str(width))
            _set(size, "height", str(height))
        for index, obj in enumerate(root.iter("object")):
            box = obj.find("bndbox")
            if box is None:
                raise LabelError(f"{xml_path}: object {index} has no bndbox")
            try:
                edges = tuple(float(box.findtext(k) or "nan") for k in _EDGES)
            except ValueError:
                raise LabelError(f"{xml_path}: object {index}: bndbox is not numbers") from None
            mapped = to_out.box(edges)
            for key, value in zip(_EDGES, mapped, strict=True):
                _set(box, key, f"{value:g}")
            fraction = hidden_fraction(to_display.box(edges), outcome.hidden, ellipse=ellipse,
                                       mask_scale=mask_scale)  # fmt: skip
            _set(obj, HIDDEN_KEY, f"{fraction:.4f}")
            report.objects += 1
        target = f"{PurePosixPath(outcome.output).with_suffix('')}.xml"
        if target in files:
            raise LabelError(f"{xml_path}: two outputs would share the label file {target}")
        files[target] = ET.tostring(root, encoding="unicode") + "\n"
        report.images += 1
    return files


def _set(parent: ET.Element, tag: str, text: str) -> None:
    child = parent.find(tag)
    if child is None:
        child = ET.SubElement(parent, tag)
    child.text = text
