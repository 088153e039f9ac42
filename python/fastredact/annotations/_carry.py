"""Carry a dataset's labels to a run's outputs (``redact --annotations``)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastredact._atomic import write_atomically
from fastredact.annotations._coco import rewrite_coco
from fastredact.annotations._outcomes import Outcomes
from fastredact.annotations._report import CarryReport
from fastredact.annotations._voc import rewrite_voc
from fastredact.annotations._yolo import label_folder, rewrite_yolo, yolo_box
from fastredact.errors import LabelError, OutputUnwritable

__all__ = ["annotation_layout", "carry_annotations", "check_annotations"]


def annotation_layout(source: Path) -> str:
    """``"coco"``, ``"voc"`` or ``"yolo"`` for ``source`` (:class:`LabelError` otherwise)."""
    if source.is_file() and source.suffix.lower() == ".json":
        return "coco"
    if source.is_dir():
        if next(source.rglob("*.xml"), None) is not None:
            return "voc"
        if next(label_folder(source).rglob("*.txt"), None) is not None:
            return "yolo"
    raise LabelError(
        f"{source}: not a COCO .json file, a folder of Pascal VOC .xml files, or a YOLO "
        "folder of .txt labels"
    )


def check_annotations(source: Path) -> str:
    """The layout of ``source``, after reading every label in it once: a broken file is a
    :class:`LabelError` before the run starts, not after its outputs are written."""
    layout = annotation_layout(source)
    if layout == "coco":
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
            images, annotations = list(data["images"]), list(data["annotations"])
            if any("file_name" not in image or "id" not in image for image in images):
                raise KeyError("an image without file_name or id")
            for ann in annotations:
                if len([float(v) for v in ann["bbox"]]) != 4 or "image_id" not in ann:
                    raise ValueError(f"annotation {ann.get('id')}: bbox needs x, y, w, h")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LabelError(f"{source}: not a COCO file ({type(exc).__name__}: {exc})") from None
    elif layout == "voc":
        for xml_path in sorted(source.rglob("*.xml")):
            try:
                ET.parse(xml_path)
            except ET.ParseError as exc:
                raise LabelError(f"{xml_path}: not XML ({exc})") from None
    else:
        for txt in sorted(label_folder(source).rglob("*.txt")):
            if txt.name == "classes.txt":
                continue
            try:
                lines = txt.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise LabelError(f"{txt}: cannot read ({exc})") from None
            for number, line in enumerate(lines, 1):
                if line.strip():
                    yolo_box(line, f"{txt}: line {number}")
    return layout


def carry_annotations(
    source: Path,
    results: Iterable[Any],
    out_root: Path,
    *,
    orientation: str,
    shape: str,
    mask_scale: float,
) -> CarryReport:
    """Rewrite the labels at ``source`` (of the run's *inputs*) for the outputs under
    ``out_root``, from the run's results: COCO into ``out_root/<source name>``, YOLO and VOC
    one file beside each output photo. Labels of failed inputs, of images the run did not
    have and of another size are dropped and counted (:class:`CarryReport`)."""
    layout = annotation_layout(source)
    outcomes = Outcomes.from_results(results, out_root, mask_baked=orientation == "bake")
    report = CarryReport(layout)
    ellipse = shape == "ellipse"
    if layout == "coco":
        data = rewrite_coco(source, outcomes, report, ellipse=ellipse, mask_scale=mask_scale)
        files = {source.name: json.dumps(data, ensure_ascii=False) + "\n"}
    elif layout == "voc":
        files = rewrite_voc(source, outcomes, report, ellipse=ellipse, mask_scale=mask_scale)
    else:
        files = rewrite_yolo(source, outcomes, report, ellipse=ellipse, mask_scale=mask_scale)
    for relative, text in files.items():
        target = out_root / relative
        if target.resolve() == source.resolve():
            raise LabelError(f"{source}: the rewritten labels would replace the source labels")
        try:
            write_atomically(target, text.encode("utf-8"))
        except OSError as exc:
            raise OutputUnwritable(f"{target}: {exc.strerror or exc}") from None
        report.written.append(target)
    return report
