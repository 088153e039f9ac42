"""Ground-truth labels for the *originals* of a run, in the layouts datasets come in: COCO JSON,
a YOLO folder, Pascal VOC XML files, and the WIDER FACE text layout.

Every reader returns :class:`Truth`: per image key (its path relative to the dataset's image
folder, as a run's manifest records it, or its file name) the labelled objects, boxes
``x0, y0, x1, y1`` in pixels of the picture as displayed. Label names are mapped onto
fastredact's (``face``, ``plate``, …: ``license-plate`` is a plate). Anything malformed is a
:class:`LabelError` naming the file and the cause: a box outside its image, a broken file, an
unknown class.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from fastredact.detect._yolo import normalize_label
from fastredact.errors import LabelError

__all__ = ["EDGE_SLACK", "LabelledObject", "Truth", "read_labels"]

EDGE_SLACK = 1.0
"""Pixels a box may reach past its image's edge (labelling tools round outwards)."""


@dataclass(frozen=True)
class LabelledObject:
    label: str
    box: tuple[float, float, float, float]
    ignored: bool = False
    """Skipped by the protocol (WIDER's ``invalid`` faces): never a miss, and a box on it
    is not a false one."""

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


@dataclass
class Truth:
    """Labelled objects per image key; ``sizes`` holds the image sizes the labels state."""

    objects: dict[str, list[LabelledObject]] = field(default_factory=dict)
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    source: str = ""
    declared: set[str] = field(default_factory=set)
    """Labels the file says it labels (COCO categories, YOLO names; WIDER: faces), even
    where no image holds one: a photo without one is then labelled as having none."""

    def add(self, key: str, objects: Iterable[LabelledObject]) -> None:
        self.objects.setdefault(key, []).extend(objects)

    def lookup(self, path: str) -> list[LabelledObject] | None:
        """The objects of the image a manifest row's ``path`` names: by the whole relative
        path, else by its file name, else by its stem (YOLO label files); ``None`` when the
        labels do not cover it."""
        for key in (path, Path(path).name, Path(path).stem):
            if key in self.objects:
                return self.objects[key]
        return None

    @property
    def labels(self) -> list[str]:
        """Every label the labels declare or use."""
        used = {o.label for objects in self.objects.values() for o in objects}
        return sorted(used | self.declared)


def read_labels(source: Path, *, names: list[str] | None = None) -> Truth:
    """The labels at ``source``: a COCO ``.json``, a WIDER ``.txt``, a folder of VOC ``.xml``
    files, or a YOLO folder (``.txt`` per image, class names from ``names``, ``data.yaml`` or
    ``classes.txt``)."""
    if not source.exists():
        raise LabelError(f"{source}: no such file or folder")
    if source.is_file() and source.suffix.lower() == ".json":
        truth = _coco(source)
    elif source.is_file():
        truth = _wider(source)
    elif any(source.rglob("*.xml")):
        truth = _voc(source)
    else:
        truth = _yolo(source, names)
    truth.source = str(source)
    if not truth.objects:
        raise LabelError(f"{source}: no labelled image found")
    return truth


def _checked(
    where: str, label: str, box: tuple[float, float, float, float], size: tuple[int, int] | None
) -> LabelledObject:
    x0, y0, x1, y1 = box
    if not all(v == v and abs(v) != float("inf") for v in box):
        raise LabelError(f"{where}: box {list(box)} is not finite")
    if x1 <= x0 or y1 <= y0:
        raise LabelError(f"{where}: box {list(box)} has no area")
    if size is not None:
        width, height = size
        if (
            x0 < -EDGE_SLACK
            or y0 < -EDGE_SLACK
            or x1 > width + EDGE_SLACK
            or y1 > height + EDGE_SLACK
        ):
            raise LabelError(f"{where}: box {list(box)} lies outside the {width}x{height} image")
    return LabelledObject(normalize_label(label), (x0, y0, x1, y1))


def _coco(path: Path) -> Truth:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        images = {int(im["id"]): im for im in data["images"]}
        categories = {int(c["id"]): str(c["name"]) for c in data["categories"]}
        annotations = data["annotations"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LabelError(f"{path}: not a COCO label file ({type(exc).__name__}: {exc})") from None
    truth = Truth(declared={normalize_label(n) for n in categories.values()})
    for im in images.values():
        truth.add(str(im["file_name"]), [])
        truth.sizes[str(im["file_name"])] = (int(im["width"]), int(im["height"]))
    for index, ann in enumerate(annotations):
        where = f"{path}: annotation {index}"
        try:
            image = images[int(ann["image_id"])]
            label = categories[int(ann["category_id"])]
            x, y, w, h = (float(v) for v in ann["bbox"])
        except (KeyError, TypeError, ValueError) as exc:
            raise LabelError(f"{where}: {type(exc).__name__} {exc}") from None
        key = str(image["file_name"])
        size = (int(image["width"]), int(image["height"]))
        obj = _checked(where, label, (x, y, x + w, y + h), size)
        if ann.get("ignore") or ann.get("iscrowd"):
            obj = LabelledObject(obj.label, obj.box, ignored=True)
        truth.add(key, [obj])
    return truth


def _wider(path: Path) -> Truth:
    """WIDER FACE text: a relative image path, a count, then one ``x y w h blur expression
    illumination invalid occlusion pose`` line per face (a zero count has one dummy line)."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelError(f"{path}: cannot read ({exc})") from None
    truth = Truth(declared={"face"})
    at = 0
    while at < len(lines) and lines[at].strip():
        key = lines[at].strip()
        try:
            count = int(lines[at + 1])
        except (IndexError, ValueError):
            raise LabelError(f"{path}: line {at + 2}: expected a face count after {key}") from None
        rows = lines[at + 2 : at + 2 + max(count, 1)]
        objects = []
        for offset, row in enumerate(rows[:count]):
            where = f"{path}: line {at + 3 + offset}"
            values = row.split()
            if len(values) < 4:
                raise LabelError(f"{where}: expected x y w h ..., got {row!r}")
            try:
                x, y, w, h = (float(v) for v in values[:4])
                invalid = len(values) > 7 and int(values[7]) == 1
            except ValueError:
                raise LabelError(f"{where}: not numbers: {row!r}") from None
            if w <= 0 or h <= 0:  # WIDER lists some zero-size faces: the protocol skips them
                objects.append(LabelledObject("face", (x, y, x + max(w, 0), y + max(h, 0)), True))
                continue
            obj = _checked(where, "face", (x, y, x + w, y + h), None)
            objects.append(LabelledObject(obj.label, obj.box, ignored=invalid))
        truth.add(key, objects)
        at += 2 + max(count, 1)
    return truth


def _voc(folder: Path) -> Truth:
    truth = Truth()
    for xml_path in sorted(folder.rglob("*.xml")):
        try:
            root = ET.parse(xml_path).getroot()
            name = (root.findtext("filename") or "").strip() or xml_path.stem
            size = root.find("size")
            dims = None
            if size is not None:
                dims = (
                    int(float(size.findtext("width") or 0)),
                    int(float(size.findtext("height") or 0)),
                )
                dims = dims if dims[0] > 0 and dims[1] > 0 else None
            objects = []
            for index, obj in enumerate(root.iter("object")):
                box = obj.find("bndbox")
                if box is None:
                    raise LabelError(f"{xml_path}: object {index} has no bndbox")
                coords = tuple(
                    float(box.findtext(k) or "nan") for k in ("xmin", "ymin", "xmax", "ymax")
                )
                label = (obj.findtext("name") or "").strip()
                checked = _checked(f"{xml_path}: object {index}", label, coords, dims)  # type: ignore[arg-type]
                ignored = (obj.findtext("difficult") or "0").strip() == "1"
                objects.append(LabelledObject(checked.label, checked.box, ignored))
        except ET.ParseError as exc:
            raise LabelError(f"{xml_path}: not XML ({exc})") from None
        except ValueError as exc:
            if isinstance(exc, LabelError):
                raise
            raise LabelError(f"{xml_path}: {exc}") from None
        truth.add(name, objects)
        if dims is not None:
            truth.sizes[name] = dims
    return truth


def _yolo_names(folder: Path, names: list[str] | None) -> list[str]:
    if names:
        return names
    for candidate in (folder / "data.yaml", folder.parent / "data.yaml", folder / "classes.txt"):
        if candidate.is_file():
            text = candidate.read_text(encoding="utf-8", errors="replace")
            if candidate.suffix == ".txt":
                return [line.strip() for line in text.splitlines() if line.strip()]
            inline = re.search(r"^names:\s*\[(.*?)\]", text, re.M | re.S)
            if inline:
                return [n.strip().strip("'\"") for n in inline.group(1).split(",") if n.strip()]
            block = re.search(r"^names:\s*\n((?:\s+\d+\s*:.*\n?)+)", text, re.M)
            if block:
                pairs = re.findall(r"^\s+(\d+)\s*:\s*(.+?)\s*$", block.group(1), re.M)
                ordered = sorted((int(i), n.strip("'\"")) for i, n in pairs)
                return [n for _, n in ordered]
    raise LabelError(
        f"{folder}: no class names for the YOLO labels (data.yaml or classes.txt beside them, "
        "or --names)"
    )


def _yolo(folder: Path, names: list[str] | None) -> Truth:
    """One ``.txt`` per image (``labels/`` when the folder has one), each line ``class cx cy w
    h`` or the oriented ``class x1 y1 x2 y2 x3 y3 x4 y4``, normalised; image sizes from the
    image beside it (``images/``, same stem)."""
    classes = _yolo_names(folder, names)
    label_dir = folder / "labels" if (folder / "labels").is_dir() else folder
    image_dir = folder / "images" if (folder / "images").is_dir() else label_dir
    images = {
        p.stem: p
        for p in image_dir.rglob("*")
        if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
    }
    truth = Truth(declared={normalize_label(n) for n in classes})
    for txt in sorted(label_dir.rglob("*.txt")):
        if txt.name == "classes.txt":
            continue
        image = images.get(txt.stem)
        if image is None:
            raise LabelError(f"{txt}: no image named {txt.stem}.* in {image_dir}")
        width, height = _displayed_size(image)
        objects = []
        for number, line in enumerate(txt.read_text(encoding="utf-8").splitlines(), 1):
            values = line.split()
            if not values:
                continue
            where = f"{txt}: line {number}"
            try:
                cls = int(values[0])
                coords = [float(v) for v in values[1:]]
            except ValueError:
                raise LabelError(f"{where}: not numbers: {line!r}") from None
            if not 0 <= cls < len(classes):
                raise LabelError(f"{where}: class {cls} has no name ({len(classes)} names)")
            if len(coords) == 4:
                cx, cy, w, h = coords
                box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            elif len(coords) == 8:
                xs, ys = coords[0::2], coords[1::2]
                box = (min(xs), min(ys), max(xs), max(ys))
            else:
                raise LabelError(f"{where}: expected 4 or 8 coordinates, got {len(coords)}")
            pixels = (box[0] * width, box[1] * height, box[2] * width, box[3] * height)
            objects.append(_checked(where, classes[cls], pixels, (width, height)))
        truth.add(image.name, objects)
        truth.sizes[image.name] = (width, height)
    return truth


def _displayed_size(path: Path) -> tuple[int, int]:
    """Width and height of the image at ``path`` as displayed (its EXIF orientation applied):
    what YOLO's normalised coordinates are fractions of."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            width, height = im.size
            orientation = im.getexif().get(0x0112, 1)
    except (OSError, UnidentifiedImageError) as exc:
        raise LabelError(f"{path}: cannot read the image the labels belong to ({exc})") from None
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)
