"""``redact --annotations``: labels carried to the outputs. YOLO on coco8 (lines kept, hidden
fractions against a pixel-exact mask drawn here), COCO built from openimages-plates valid
(boxes scaled exactly, a failed input dropped and counted), and synthetic photos of every
EXIF orientation whose labelled box is a solid square: after ``--orientation bake`` (and a
scale) the rewritten box lands on the square's pixels, for COCO and Pascal VOC."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageOps

from fastredact import cli, read_manifest
from fastredact.annotations import HIDDEN_KEY

pytestmark = pytest.mark.slow


def _redact(*args: str) -> int:
    return cli.main(["redact", *args, "--no-progress", "--workers", "1"])


def _pixel_fraction(box: list[float], hidden: list[list[float]], scale: float) -> float:
    """The hidden share of ``box`` counted pixel by pixel (pixel centres inside an ellipse
    of a hidden box grown ``scale`` times): the reference for the rewriter's grid."""
    x0, y0, x1, y1 = (round(v) for v in box)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5
    inside = np.zeros(xs.shape, bool)
    for hx0, hy0, hx1, hy1 in hidden:
        cx, cy = (hx0 + hx1) / 2, (hy0 + hy1) / 2
        rx, ry = (hx1 - hx0) * scale / 2, (hy1 - hy0) * scale / 2
        inside |= ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1
    return float(inside.mean())


def test_yolo_labels_are_carried_with_their_hidden_fractions(
    shared_data: Path, tmp_path: Path
) -> None:
    dataset = shared_data / "coco8"
    out, manifest = tmp_path / "out", tmp_path / "m.jsonl"
    assert _redact(str(dataset / "images"), "-o", str(out), "--manifest", str(manifest),
                   "--annotations", str(dataset), "--max-size", "320") == 0  # fmt: skip
    rows = {r["path"]: r for r in read_manifest(manifest) if r["status"] == "ok"}
    assert len(rows) == 8
    checked = 0
    for path, row in rows.items():
        stem = Path(path).with_suffix("")
        source = (dataset / "labels" / stem).with_suffix(".txt").read_text().splitlines()
        carried = (out / stem).with_suffix(".txt").read_text().splitlines()
        fractions = [float(v) for v in (out / stem).with_suffix(".hidden").read_text().split()]
        assert carried == [line for line in source if line.strip()]  # normalised: unchanged
        assert len(fractions) == len(carried)
        hidden = [d["box"] for d in row["detections"]]
        for line, fraction in zip(carried, fractions, strict=True):
            cx, cy, w, h = (float(v) for v in line.split()[1:5])
            W, H = row["width"], row["height"]
            box = [(cx - w / 2) * W, (cy - h / 2) * H, (cx + w / 2) * W, (cy + h / 2) * H]
            # The manifest rounds hidden boxes outwards to whole pixels: the true box lies
            # between that and the box 1 px smaller on each side.
            inner = [[x0 + 1, y0 + 1, x1 - 1, y1 - 1] for x0, y0, x1, y1 in hidden]
            low = _pixel_fraction(box, [b for b in inner if b[2] > b[0] and b[3] > b[1]], 1.45)
            high = _pixel_fraction(box, hidden, 1.45)
            assert low - 0.03 <= fraction <= high + 0.03, (path, line, fraction, low, high)
            checked += fraction > 0
    assert checked >= 3  # some labelled objects (people) were partly hidden: not vacuous


def _coco_from_yolo(valid: Path) -> dict[str, Any]:
    images, annotations = [], []
    for index, image in enumerate(sorted((valid / "images").iterdir())):
        width, height = Image.open(image).size
        images.append({"id": index, "file_name": image.name, "width": width, "height": height})
        for line in (valid / "labels" / f"{image.stem}.txt").read_text().splitlines():
            values = [float(v) for v in line.split()]
            xs, ys = values[1::2], values[2::2]
            x0, y0 = min(xs) * width, min(ys) * height
            x1, y1 = max(xs) * width, max(ys) * height
            poly = [v for x, y in zip(xs, ys, strict=True) for v in (x * width, y * height)]
            annotations.append({"id": len(annotations), "image_id": index,
                                "category_id": int(values[0]), "bbox": [x0, y0, x1 - x0, y1 - y0],
                                "area": (x1 - x0) * (y1 - y0), "segmentation": [poly],
                                "iscrowd": 0})  # fmt: skip
    categories = [{"id": 0, "name": "license-plate"}, {"id": 1, "name": "vehicle"}]
    return {"images": images, "annotations": annotations, "categories": categories}


def test_coco_boxes_are_scaled_exactly_and_a_failed_input_is_dropped(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    valid = shared_data / "openimages-plates" / "valid"
    folder = tmp_path / "in"
    shutil.copytree(valid / "images", folder)
    coco = _coco_from_yolo(valid)
    broken = folder / "broken.jpg"
    broken.write_bytes((folder / coco["images"][0]["file_name"]).read_bytes()[:4000])
    coco["images"].append({"id": 999, "file_name": "broken.jpg", "width": 416, "height": 416})
    coco["annotations"].append({"id": 9999, "image_id": 999, "category_id": 0,
                                "bbox": [1, 1, 5, 5], "area": 25})  # fmt: skip
    labels = tmp_path / "instances.json"
    labels.write_text(json.dumps(coco))
    out = tmp_path / "out"
    code = _redact(str(folder), "-o", str(out), "--annotations", str(labels), "--max-size", "200")
    assert code == 1  # the broken input failed
    assert "1 image(s) dropped: failed inputs" in capsys.readouterr().err
    carried = json.loads((out / "instances.json").read_text())
    assert len(carried["images"]) == len(coco["images"]) - 1
    source = {a["id"]: a for a in coco["annotations"]}
    images = {i["id"]: i for i in carried["images"]}
    assert 9999 not in {a["id"] for a in carried["annotations"]}
    plates_hidden = []
    for ann in carried["annotations"]:
        image = images[ann["image_id"]]
        assert (out / image["file_name"]).is_file()
        assert Image.open(out / image["file_name"]).size == (image["width"], image["height"])
        assert (image["width"], image["height"]) == (200, 200)  # the 416 px photos, scaled
        s = 200 / 416
        x, y, w, h = source[ann["id"]]["bbox"]
        assert ann["bbox"] == pytest.approx([x * s, y * s, w * s, h * s], rel=1e-9, abs=1e-9)
        assert ann["area"] == pytest.approx(source[ann["id"]]["area"] * s * s)
        polygon = np.array(ann["segmentation"][0]).reshape(-1, 2)
        original = np.array(source[ann["id"]]["segmentation"][0]).reshape(-1, 2)
        assert polygon == pytest.approx(original * s)
        assert 0.0 <= ann[HIDDEN_KEY] <= 1.0
        if ann["category_id"] == 0:
            plates_hidden.append(ann[HIDDEN_KEY])
    # Most labelled plates were found and hidden (0.83 at the centre rule): mostly covered.
    assert np.mean(np.array(plates_hidden) > 0.5) > 0.6
    assert np.mean([a[HIDDEN_KEY] for a in carried["annotations"] if a["category_id"] == 1]) < 0.5


def _oriented_photo(path: Path, orientation: int) -> tuple[int, int, list[int]]:
    """A 120x80 stored JPEG, grey with a solid red 24x20 square, tagged ``orientation``;
    returns the stored size and the square's stored box."""
    stored = np.full((80, 120, 3), 128, np.uint8)
    box = [70, 10, 94, 30]
    stored[box[1] : box[3], box[0] : box[2]] = (220, 20, 20)
    image = Image.fromarray(stored)
    exif = Image.Exif()
    exif[0x0112] = orientation
    image.save(path, quality=100, subsampling=0, exif=exif.tobytes())
    return 120, 80, box


def _labels(layout: str, folder: Path, name: str, size: tuple[int, int], box: list[int]) -> Path:
    if layout == "coco":
        data = {"images": [{"id": 1, "file_name": name, "width": size[0], "height": size[1]}],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
                                 "bbox": [box[0], box[1], box[2] - box[0], box[3] - box[1]]}],
                "categories": [{"id": 1, "name": "thing"}]}  # fmt: skip
        path = folder / "labels.json"
        path.write_text(json.dumps(data))
        return path
    xml = (f"<annotation><filename>{name}</filename><size><width>{size[0]}</width>"
           f"<height>{size[1]}</height><depth>3</depth></size><object><name>thing</name>"
           f"<bndbox><xmin>{box[0]}</xmin><ymin>{box[1]}</ymin><xmax>{box[2]}</xmax>"
           f"<ymax>{box[3]}</ymax></bndbox></object></annotation>")  # fmt: skip
    voc = folder / "voc"
    voc.mkdir()
    (voc / "photo.xml").write_text(xml)
    return voc


def _carried_box(layout: str, out: Path) -> tuple[list[float], tuple[int, int]]:
    if layout == "coco":
        data = json.loads((out / "labels.json").read_text())
        x, y, w, h = data["annotations"][0]["bbox"]
        image = data["images"][0]
        return [x, y, x + w, y + h], (image["width"], image["height"])
    root = ET.parse(out / "photo.xml").getroot()
    box = root.find("object/bndbox")
    assert box is not None and root.findtext("filename") == "photo.png"
    values = [float(box.findtext(k) or "nan") for k in ("xmin", "ymin", "xmax", "ymax")]
    return values, (int(root.findtext("size/width") or 0), int(root.findtext("size/height") or 0))


def _displayed_square(path: Path) -> tuple[tuple[int, int], list[int]]:
    """The photo as a viewer shows it (Pillow's EXIF transpose) and its red square's box."""
    shown = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"), np.int16)
    ys, xs = np.nonzero(np.abs(shown - (220, 20, 20)).max(axis=2) < 60)
    return (shown.shape[1], shown.shape[0]), [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]


@pytest.mark.parametrize("layout", ["coco", "voc"])
@pytest.mark.parametrize(
    ("orientation", "frame"),
    [(o, "displayed") for o in range(1, 9)] + [(o, "stored") for o in range(5, 9)],
)
@pytest.mark.parametrize("scale", [None, 60])
def test_baked_boxes_land_on_the_labelled_pixels(
    layout: str, orientation: int, frame: str, scale: int | None, tmp_path: Path
) -> None:
    """Labels drawn on the displayed picture (every orientation), or on the stored pixels
    (the orientations that swap the sides, where the labels' size tells the two apart)."""
    folder = tmp_path / "in"
    folder.mkdir()
    width, height, box = _oriented_photo(folder / "photo.jpg", orientation)
    if frame == "displayed":
        (width, height), box = _displayed_square(folder / "photo.jpg")
    labels = _labels(layout, tmp_path, "photo.jpg", (width, height), [int(v) for v in box])
    out = tmp_path / "out"
    flags = ["--max-size", str(scale)] if scale else []
    assert _redact(str(folder), "-o", str(out), "--annotations", str(labels), "--orientation",
                   "bake", "--no-faces", "--no-plates", "--format", "png", *flags) == 0  # fmt: skip
    picture = np.asarray(Image.open(out / "photo.png").convert("RGB"), np.int16)
    (x0, y0, x1, y1), size = _carried_box(layout, out)
    assert size == (picture.shape[1], picture.shape[0])
    inset = 2 if scale else 1
    inside = picture[round(y0) + inset : round(y1) - inset, round(x0) + inset : round(x1) - inset]
    assert inside.size and np.abs(inside - (220, 20, 20)).max() < 40  # all red
    ring = np.ones(picture.shape[:2], bool)
    ring[max(0, round(y0) - inset) : round(y1) + inset, max(0, round(x0) - inset) :
         round(x1) + inset] = False  # fmt: skip
    assert np.abs(picture[ring] - 128).max() < 40  # and nothing red outside it


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("nothing", None, "not a COCO .json file"),
        ("broken.json", '{"images": [', "not a COCO file"),
        (
            "boxless.json",
            '{"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": '
            '[{"image_id": 1, "bbox": [1, 2]}]}',
            "not a COCO file",
        ),
        ("voc", "<annotation><filename>a.jpg", "not XML"),
        ("yolo", "0 0.5 0.5 0.1", "expected class cx cy w h"),
    ],
)
def test_bad_annotations_are_one_line_before_anything_runs(
    name: str, text: str | None, message: str, shared_data: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    source = tmp_path / name
    if text is None:
        source.mkdir()
    elif name.endswith(".json"):
        source.write_text(text)
    else:
        source.mkdir()
        (source / ("a.xml" if name == "voc" else "a.txt")).write_text(text)
    out = tmp_path / "out"
    code = _redact(str(shared_data / "coco8" / "images"), "-o", str(out), "--annotations",
                   str(source))  # fmt: skip
    assert code == 2 and not out.exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
