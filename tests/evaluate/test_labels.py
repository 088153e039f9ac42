"""Ground-truth readers (COCO, VOC, YOLO, WIDER) and what makes labels bad: each bad case is
one clear line naming the file, and ``fastredact eval truth`` exits 2 on it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fastredact import LabelError, cli
from fastredact.evaluate import read_labels


def _coco(tmp_path: Path, boxes: list[list[float]], width: int = 100, height: int = 80) -> Path:
    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": width, "height": height}],
        "categories": [{"id": 3, "name": "face"}, {"id": 4, "name": "license-plate"}],
        "annotations": [
            {"image_id": 1, "category_id": 3 if i % 2 == 0 else 4, "bbox": b}
            for i, b in enumerate(boxes)
        ],
    }
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(data))
    return path


def test_coco_boxes_become_corners_and_labels_are_mapped(tmp_path: Path) -> None:
    truth = read_labels(_coco(tmp_path, [[10, 20, 30, 40], [0, 0, 5, 5]]))
    objects = truth.lookup("sub/a.jpg")  # a manifest path under a folder: found by name
    assert objects is not None
    assert [(o.label, o.box) for o in objects] == [
        ("face", (10.0, 20.0, 40.0, 60.0)),
        ("plate", (0.0, 0.0, 5.0, 5.0)),
    ]
    assert truth.sizes["a.jpg"] == (100, 80)


def test_voc_reads_difficult_as_ignored(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_text(
        "<annotation><filename>a.jpg</filename><size><width>50</width><height>40</height>"
        "</size><object><name>face</name><difficult>1</difficult><bndbox><xmin>1</xmin>"
        "<ymin>2</ymin><xmax>11</xmax><ymax>22</ymax></bndbox></object></annotation>"
    )
    (objects,) = read_labels(tmp_path).objects.values()
    assert objects[0].box == (1.0, 2.0, 11.0, 22.0) and objects[0].ignored


def test_yolo_uses_the_displayed_size_of_each_image(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 200x100, displayed 100x200
    Image.new("RGB", (200, 100)).save(tmp_path / "images" / "a.jpg", exif=exif)
    (tmp_path / "labels" / "a.txt").write_text(
        "0 0.5 0.5 0.2 0.1\n1 0.1 0.1 0.3 0.1 0.3 0.3 0.1 0.3\n"
    )
    (tmp_path / "data.yaml").write_text("nc: 2\nnames: ['face', 'license-plate']\n")
    objects = read_labels(tmp_path).objects["a.jpg"]
    assert objects[0].box == pytest.approx((40.0, 90.0, 60.0, 110.0))
    assert objects[1].label == "plate"
    assert objects[1].box == pytest.approx((10.0, 20.0, 30.0, 60.0))


def test_wider_skips_invalid_and_zero_size_faces(tmp_path: Path) -> None:
    path = tmp_path / "wider.txt"
    path.write_text(
        "0--Parade/a.jpg\n3\n"
        "10 10 20 30 0 0 0 0 0 0\n"
        "50 50 8 8 0 0 0 1 0 0\n"  # invalid
        "70 70 0 0 0 0 0 0 0 0\n"  # zero size
        "0--Parade/b.jpg\n0\n0 0 0 0 0 0 0 0 0 0\n"
    )
    truth = read_labels(path)
    a = truth.objects["0--Parade/a.jpg"]
    assert [o.ignored for o in a] == [False, True, True]
    assert a[0].box == (10.0, 10.0, 30.0, 40.0)
    assert truth.objects["0--Parade/b.jpg"] == []


@pytest.mark.parametrize(
    ("write", "expected"),
    [
        (lambda p: p.write_text("{not json"), "not a COCO label file"),
        (lambda p: p.write_text(json.dumps({"images": []})), "not a COCO label file"),
    ],
)
def test_broken_coco_is_a_label_error(tmp_path: Path, write: object, expected: str) -> None:
    path = tmp_path / "labels.json"
    write(path)  # type: ignore[operator]
    with pytest.raises(LabelError, match=expected):
        read_labels(path)


def test_coco_box_outside_its_image_is_a_label_error(tmp_path: Path) -> None:
    with pytest.raises(LabelError, match=r"outside the 100x80 image"):
        read_labels(_coco(tmp_path, [[90, 10, 30, 20]]))


def test_yolo_class_without_a_name_is_a_label_error(tmp_path: Path) -> None:
    Image.new("RGB", (10, 10)).save(tmp_path / "a.png")
    (tmp_path / "a.txt").write_text("5 0.5 0.5 0.1 0.1\n")
    (tmp_path / "classes.txt").write_text("face\n")
    with pytest.raises(LabelError, match="class 5 has no name"):
        read_labels(tmp_path)


# -- the command line: one line, exit 2 --------------------------------------------------------


def _run_with_one_photo(tmp_path: Path) -> Path:
    """A manifest of a run over one 64x48 photo without faces (made by the real command)."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(np.full((48, 64, 3), 128, np.uint8)).save(folder / "a.jpg")
    manifest = tmp_path / "run.jsonl"
    assert cli.main(["redact", str(folder), "-o", str(tmp_path / "out"),
                     "--manifest", str(manifest), "--no-plates"]) == 0  # fmt: skip
    return manifest


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"a.jpg": [[50, 10, 30, 20]]}, "box [50.0, 10.0, 80.0, 30.0] lies outside the 64x48"),
        ({"a.jpg": [], "unknown.jpg": [[1, 1, 5, 5]]}, "did not redact (first: unknown.jpg)"),
        (None, "not a COCO label file"),
    ],
)
def test_bad_labels_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], labels: dict | None, message: str
) -> None:
    manifest = _run_with_one_photo(tmp_path)
    capsys.readouterr()
    path = tmp_path / "labels.json"
    if labels is None:
        path.write_text('{"images": [')
    else:
        names = list(labels)
        path.write_text(json.dumps({
            # sizes the labels claim are large: the run's own size (64x48) is what is checked
            "images": [{"id": i, "file_name": n, "width": 640, "height": 480}
                       for i, n in enumerate(names)],
            "categories": [{"id": 1, "name": "face"}],
            "annotations": [{"image_id": i, "category_id": 1, "bbox": b}
                            for i, n in enumerate(names) for b in labels[n]],
        }))  # fmt: skip
    code = cli.main(["eval", "truth", "--truth", str(path), "--manifest", str(manifest),
                     "-o", str(tmp_path / "report")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert err.count("\n") == 1 and err.startswith("fastredact: error: ")
    assert message in err
    assert str(path) in err
    assert not (tmp_path / "report" / "report.md").exists()
