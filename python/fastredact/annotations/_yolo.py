"""YOLO: one ``.txt`` per image, ``class cx cy w h`` (or a polygon ``class x1 y1 ...``),
normalised to the picture as displayed. Scaling and baking the orientation keep normalised
coordinates where they are, so the lines are carried as they are; each gets its hidden
fraction on the same line of a ``.hidden`` side file."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from fastredact.annotations._geometry import hidden_fraction
from fastredact.annotations._outcomes import Outcomes
from fastredact.annotations._report import CarryReport
from fastredact.errors import LabelError

__all__ = ["label_folder", "rewrite_yolo", "yolo_box"]


def label_folder(folder: Path) -> Path:
    return folder / "labels" if (folder / "labels").is_dir() else folder


def rewrite_yolo(
    folder: Path, outcomes: Outcomes, report: CarryReport, *, ellipse: bool, mask_scale: float
) -> dict[str, str]:
    """``{output-relative path: text}``: each label file beside its output photo (as YOLO
    loaders look for it when the path holds no ``images/`` folder), and its ``.hidden`` side
    file."""
    labels = label_folder(folder)
    files: dict[str, str] = {}
    for txt in sorted(labels.rglob("*.txt")):
        if txt.name == "classes.txt":
            continue
        relative = txt.relative_to(labels).with_suffix("").as_posix()
        outcome = outcomes.labelled(relative, report)
        if outcome is None:
            continue
        try:
            lines = [line for line in txt.read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise LabelError(f"{txt}: cannot read ({exc})") from None
        fractions = []
        for number, line in enumerate(lines, 1):
            box = yolo_box(line, f"{txt}: line {number}")
            x0, y0, x1, y1 = box
            w, h = outcome.width, outcome.height
            fraction = hidden_fraction((x0 * w, y0 * h, x1 * w, y1 * h), outcome.hidden,
                                       ellipse=ellipse, mask_scale=mask_scale)  # fmt: skip
            fractions.append(f"{fraction:.4f}")
        stem = PurePosixPath(outcome.output).with_suffix("")
        target = f"{stem}.txt"
        if target in files:
            raise LabelError(f"{txt}: two outputs would share the label file {target}")
        files[target] = "".join(f"{line}\n" for line in lines)
        files[f"{stem}.hidden"] = "".join(f"{f}\n" for f in fractions)
        report.images += 1
        report.objects += len(lines)
    classes = labels / "classes.txt"
    if classes.is_file():
        files["classes.txt"] = classes.read_text(encoding="utf-8")
    return files


def yolo_box(line: str, where: str) -> tuple[float, float, float, float]:
    """The normalised bounding box of a YOLO line (a box or a polygon)."""
    try:
        values = [float(v) for v in line.split()[1:]]
    except ValueError:
        raise LabelError(f"{where}: not numbers: {line!r}") from None
    if len(values) == 4:
        cx, cy, w, h = values
        return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
    if len(values) >= 6 and len(values) % 2 == 0:
        xs, ys = values[0::2], values[1::2]
        return min(xs), min(ys), max(xs), max(ys)
    raise LabelError(f"{where}: expected class cx cy w h or a polygon, got {line!r}")
