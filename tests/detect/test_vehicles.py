"""YOLOX-nano (vehicles and people) and what it is used for: the plate search inside
vehicles, and ``--bodies``. YOLOX's decoding is checked against an independent decoding of
the unmodified graph; the plate search against the plates of openimages-plates/valid and
against plate-free photos; ``--bodies`` against coco8's labelled persons and the faces of the
fixtures (criteria in benches/eval_people.py)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from fastredact.cli import main
from fastredact.detect import DetectorSet, _vehicles, _yolox
from fastredact.detect._base import Detections
from fastredact.detect._nms import iou_matrix
from fastredact.detect._platenet import PlateBoxes
from fastredact.detect._vehicles import VehiclePlates
from fastredact.detect._yolox import YOLOX_SHA256, YoloxCoco, default_model_path
from fastredact.errors import ModelNotFound
from fastredact.options import RedactOptions
from fastredact.run import read_manifest
from tests.support import PROJECT_ROOT, shared_file

sys.path.insert(0, str(PROJECT_ROOT / "benches"))
import eval_people
import eval_plates

PLATE_FREE = ("scikit-image/coffee.png", "scikit-image/astronaut.png", "scrfd/newton.png")


def _reference(rgb416: np.ndarray, threshold: float) -> list[tuple[int, float, list[float]]]:
    """YOLOX decoded the textbook way on the unmodified 416x416 graph: (class, score, box)
    for person, car, motorcycle, bus and truck, before NMS."""
    session = ort.InferenceSession(str(default_model_path()), providers=["CPUExecutionProvider"])
    blob = rgb416[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32)
    out = session.run(None, {session.get_inputs()[0].name: blob})[0][0]
    found = []
    k = 0
    for stride in (8, 16, 32):
        n = 416 // stride
        for row in range(n):
            for col in range(n):
                p = out[k]
                k += 1
                for c in (0, 2, 3, 5, 7):
                    score = float(p[4] * p[5 + c])
                    if score >= threshold:
                        cx, cy = (p[0] + col) * stride, (p[1] + row) * stride
                        w, h = np.exp(p[2]) * stride, np.exp(p[3]) * stride
                        found.append((c, score, [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]))
    return found


def test_yolox_decodes_like_the_reference(shared_data: Path) -> None:
    rgb = np.asarray(Image.open(shared_file(shared_data, "anonymizer/coco02.jpg")).convert("RGB"))
    rgb416 = np.ascontiguousarray(cv2.resize(rgb, (416, 416), interpolation=cv2.INTER_AREA))
    mine = YoloxCoco(threshold=0.5, long_side=416).detect(rgb416)
    reference = _reference(rgb416, 0.5)
    assert len(mine) >= 5, "the street holds cars and people"
    for box, score, label in zip(mine.boxes, mine.scores, mine.labels, strict=True):
        same = [r for r in reference if abs(r[1] - score) < 1e-4]
        assert same, (label, score)
        c, _, ref_box = same[0]
        assert label == ("person" if c == 0 else "vehicle")
        assert np.allclose(box, np.clip(ref_box, 0, 416), atol=0.05)
    # every reference box is kept by the NMS or overlaps a kept box of its label
    kept = {label: mine.boxes[[x == label for x in mine.labels]] for label in set(mine.labels)}
    for c, _, ref_box in reference:
        boxes = kept["person" if c == 0 else "vehicle"]
        assert iou_matrix(np.array([ref_box], np.float32), boxes).max() > 0.45


def test_thinning_a_large_picture_keeps_its_vehicles(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large picture is thinned (every k-th pixel) before the area resize to 512 px; the
    vehicles found are those of the plain area resize."""
    rgb = np.asarray(
        Image.open(shared_file(shared_data, "egoblur/gen2/test_lp_image.png")).convert("RGB")
    )
    yolox = YoloxCoco(threshold=0.3)
    thinned = yolox.detect(rgb)
    monkeypatch.setattr(_yolox, "_thinned", lambda image, scale: image)
    plain = yolox.detect(rgb)
    vehicles = [d.boxes[np.array(d.labels) == "vehicle"] for d in (thinned, plain)]
    assert len(vehicles[1]) >= 5, "the street photo holds cars"
    assert len(vehicles[0]) == len(vehicles[1])
    assert (iou_matrix(vehicles[1], vehicles[0]).max(axis=1) >= 0.7).all()


def test_an_altered_model_is_refused(tmp_path: Path) -> None:
    altered = tmp_path / "yolox_nano.onnx"
    data = bytearray(default_model_path().read_bytes())
    data[-1] ^= 1
    altered.write_bytes(bytes(data))
    with pytest.raises(ModelNotFound, match=YOLOX_SHA256[:12]):
        YoloxCoco(altered)
    with pytest.raises(ModelNotFound, match="cannot be read"):
        YoloxCoco(tmp_path / "absent.onnx")


def _plates(vehicles: bool) -> DetectorSet:
    return DetectorSet.load(RedactOptions(faces=False, vehicle_plates=vehicles, workers=1))


def test_the_vehicle_pass_adds_plates_and_drops_only_false_ones(shared_data: Path) -> None:
    """Against the whole-picture pass alone, on 25 street photos: every box on a labelled
    plate is kept, boxes are added inside vehicles, and what is dropped (outside vehicles,
    not confirmed by the second look) holds no labelled plate."""
    with_vehicles, without = _plates(True), _plates(False)
    assert isinstance(with_vehicles.detector.detectors[0], VehiclePlates)  # type: ignore[union-attr]
    folder = shared_data / "openimages-plates" / "valid"
    added = dropped = 0
    for _, rgb, truth in list(eval_plates.samples(folder))[:25]:
        base, more = without.detect(rgb), with_vehicles.detect(rgb)
        if not len(base):
            added += len(more)
            continue
        overlap = iou_matrix(base.boxes, more.boxes) if len(more) else np.zeros((len(base), 1))
        lost = overlap.max(axis=1) < 0.5
        assert eval_plates.false_boxes(truth, base.boxes[lost]).all(), "a true plate was lost"
        dropped += int(lost.sum())
        added += len(more) - int((~lost).sum())
    assert added > 0, "no plate was found inside a vehicle on 25 street photos"
    assert dropped > 0, "the second look dropped nothing outside vehicles on 25 street photos"
    for relative in PLATE_FREE:
        rgb = np.asarray(Image.open(shared_file(shared_data, relative)).convert("RGB"))
        assert len(with_vehicles.detect(rgb)) <= len(without.detect(rgb)), relative


def test_a_kitchen_holds_no_plates(shared_data: Path) -> None:
    """The 12 MP kitchen photo: 101 plate-like boxes (knobs, tiles, a display) down to the
    hiding margin without the vehicle pass; measured 2 with it on 2026-12-07."""
    from fastredact import photo

    path = shared_file(shared_data, "exif-samples/heic/mobile/iphone_13_pro_max.HEIC")
    rgb = np.ascontiguousarray(photo.decode_image(path.read_bytes()).frames[0][:, :, :3])
    assert len(_plates(False).detect(rgb)) >= 50, "the whole-picture pass alone"
    assert len(_plates(True).detect(rgb)) <= 4


class _Fixed:
    """A detector stub returning fixed detections."""

    def __init__(self, found: Detections) -> None:
        self.found = found

    def detect(self, image: np.ndarray) -> Detections:
        return self.found


class _SecondLook:
    """A PlateNet stub: one plate over the whole window, scoring the window's centre pixel
    value / 100 (the test paints each doubtful plate's surroundings with its score)."""

    def __init__(self) -> None:
        self.windows = 0

    def detect(self, image: np.ndarray, scale: float = 1.0) -> PlateBoxes:
        self.windows += 1
        h, w = image.shape[:2]
        score = float(image[h // 2, w // 2, 0]) / 100
        return PlateBoxes(np.array([[0, 0, w, h]], np.float32), np.array([score], np.float32))


def test_plates_outside_vehicles_need_a_sure_score_or_a_second_look() -> None:
    # (left edge, score, what the second look scores around it); each plate 40 x 10 px
    plates = [
        (20, 0.40, 0),  # inside the vehicle: kept as found, no look
        (400, 0.61, 0),  # outside, sure (>= 0.6 at a 0.45 threshold): kept, no look
        (600, 0.40, 55),  # outside, confirmed (0.55 >= 0.5): kept
        (800, 0.50, 45),  # outside, not confirmed: dropped
    ]
    found = Detections(
        np.array([[x, 100, x + 40, 110] for x, _, _ in plates], np.float32),
        np.array([score for _, score, _ in plates], np.float32),
        ("plate",) * len(plates),
    )
    vehicle = np.array([[0, 50, 100, 150]], np.float32)
    rgb = np.zeros((400, 1000, 3), np.uint8)
    for x, _, look in plates:
        rgb[:, x - 30 : x + 70] = look  # the second look's window: 2.5 x the plate's width
    looks = _SecondLook()
    gate = VehiclePlates(_Fixed(found), _Fixed(Detections.empty()), looks, reported=0.45)  # type: ignore[arg-type]
    kept = gate._plausible(rgb, found, vehicle)
    assert looks.windows == 2, "only the two doubtful plates outside vehicles get a second look"
    assert [int(b[0]) for b in kept.boxes] == [20, 400, 600]
    assert len(gate._plausible(rgb, found, vehicle[:0])) == 2, "no vehicle: the first is doubtful"


@settings(max_examples=60, deadline=None)
@given(
    plates=st.lists(
        st.tuples(
            st.integers(0, 900), st.integers(0, 350), st.floats(0.315, 0.99), st.integers(0, 99)
        ),
        max_size=12,
        unique_by=lambda plate: (plate[0], plate[1]),
    ),
    vehicles=st.lists(st.tuples(st.integers(0, 900), st.integers(0, 350)), max_size=3),
    cap=st.integers(0, 4),
)
def test_the_gate_keeps_what_it_must(
    plates: list[tuple[int, int, float, int]], vehicles: list[tuple[int, int]], cap: int
) -> None:
    """Whatever the plates, vehicles and look budget: a plate whose centre lies in a vehicle
    (grown 25 %), a sure one, one past the budget, or one the look confirms is kept; only a
    doubtful plate the look does not confirm is dropped; at most ``cap`` looks."""
    found = Detections(
        np.array([[x, y, x + 40, y + 10] for x, y, _, _ in plates], np.float32).reshape(-1, 4),
        np.array([score for _, _, score, _ in plates], np.float32),
        ("plate",) * len(plates),
    )
    boxes = np.array([[x, y, x + 100, y + 50] for x, y in vehicles], np.float32).reshape(-1, 4)
    rgb = np.zeros((400, 1000, 3), np.uint8)
    looks = {i: look / 100 for i, (_, _, _, look) in enumerate(plates)}  # each plate's own
    calls: list[int] = []

    def second_look(net: object, image: np.ndarray, box: np.ndarray) -> float:
        index = int(np.flatnonzero((found.boxes == box).all(axis=1))[0])
        calls.append(index)
        return looks[index]

    gate = VehiclePlates(_Fixed(found), _Fixed(Detections.empty()), _SecondLook(), reported=0.45)  # type: ignore[arg-type]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_vehicles, "second_look", second_look)
        patch.setattr(_vehicles, "MAX_SECOND_LOOKS", cap)
        kept = gate._plausible(rgb, found, boxes)
    grown = np.array(_vehicles._grown(boxes, _vehicles.CONTEXT_MARGIN, 1000, 400), np.float32)
    inside = _vehicles._centre_inside(found.boxes, grown.reshape(-1, 4))
    sure = found.scores >= 0.45 * _vehicles.OUTSIDE_SURE_FACTOR
    doubtful = np.flatnonzero(~inside & ~sure)
    best_first = sorted(doubtful, key=lambda i: -found.scores[i])
    assert sorted(calls) == sorted(best_first[:cap]), "the budget goes to the best scores"
    confirm = 0.45 * _vehicles.CONFIRM_FACTOR
    expected = [
        i for i in range(len(plates))
        if inside[i] or sure[i] or i not in calls or looks[i] >= confirm
    ]  # fmt: skip
    assert len(kept) == len(expected)
    assert np.array_equal(kept.boxes, found.boxes[expected])


@pytest.mark.parametrize(
    ("split", "plates", "floor"),
    [
        # Measured 76 of 84 (0.905) on 2026-12-07 with vehicles searched from 0.1 (75 from
        # 0.3); the whole-picture pass alone hid 70.
        ("openimages-plates/valid", 84, 73),
        # Measured 122 of 126 (0.968) on 2026-12-07 (124 before the second look outside
        # vehicles, 104 before the plates-ro fine-tune).
        ("plates-ro/valid", 126, 120),
    ],
)
def test_the_default_run_hides_the_plates(
    shared_data: Path, tmp_path: Path, split: str, plates: int, floor: int
) -> None:
    folder = shared_data / split
    manifest = tmp_path / "run.jsonl"
    code = main(["redact", str(folder / "images"), "-o", str(tmp_path / "out"), "--manifest",
                 str(manifest), "--no-faces", "--no-progress"])  # fmt: skip
    assert code == 0
    tally = eval_plates.score_manifest(folder, manifest, ro=split.startswith("plates-ro"))
    assert tally["plates"] == plates
    assert tally["hidden"] >= floor, tally
    labels = {d["label"] for row in read_manifest(manifest) for d in row["detections"]}
    assert labels == {"plate"}, "vehicles are used, never recorded"


def test_bodies_cover_people_and_their_faces(shared_data: Path) -> None:
    result = eval_people.coverage(shared_data)
    big = [p for p in result["persons"] if p["height"] >= eval_people.MIN_PERSON]
    covered = sum(p["share"] >= eval_people.COVERED_SHARE for p in big)
    assert len(big) == 7
    assert covered >= 5, big  # measured 5 of 7 (two riders on animals are missed)
    faces = result["faces"]
    assert faces and all(f["covered"] for f in faces), [f for f in faces if not f["covered"]]


def test_bodies_hide_a_person_in_a_redacted_photo(shared_data: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    shutil.copyfile(shared_file(shared_data, "coco8/images/val/000000000036.jpg"), src / "a.jpg")
    manifest = tmp_path / "m.jsonl"
    assert main(["redact", str(src), "-o", str(tmp_path / "out"), "--manifest", str(manifest),
                 "--bodies", "--no-progress"]) == 0  # fmt: skip
    (row,) = read_manifest(manifest)
    people = [d for d in row["detections"] if d["label"] == "person"]
    assert people, row["detections"]
    record = json.loads(manifest.read_text().splitlines()[0])
    assert record["settings"]["bodies"] is True
    assert any(m["name"] == "yolox-nano" for m in record["models"])
    before = np.asarray(Image.open(src / "a.jpg").convert("RGB")).astype(np.int16)
    after = np.asarray(Image.open(tmp_path / "out" / "a.jpg").convert("RGB")).astype(np.int16)
    x0, y0, x1, y1 = (int(v) for v in people[0]["box"])
    inner = (slice(y0 + (y1 - y0) // 4, y1 - (y1 - y0) // 4),
             slice(x0 + (x1 - x0) // 4, x1 - (x1 - x0) // 4))  # fmt: skip
    assert np.abs(after[inner] - before[inner]).mean() > 8
