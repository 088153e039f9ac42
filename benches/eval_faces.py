"""Face recall, false boxes and over-redaction of face schedules, by face size, on labelled
photos; deface 1.5.0 in the same table.

    python benches/eval_faces.py                      # every set, the default candidates
    python benches/eval_faces.py --sets crowds --candidates default yunet --limit 40

Sets (in ``../shared/data``; the first two are for measurement only, see their READMEs):

- ``crowds``: ``faces-eval/`` (WIDER FACE val, half: 198 crowd and group photos, 2,657
  faces; faces flagged invalid are skipped, as the WIDER protocol says);
- ``masks``: ``faces-eval-masks/`` (140 street photos, 698 mostly masked faces);
- ``fixtures``: the distinct photos of ``benches/bench_pipeline.py`` with the face centres of
  ``benches/faces_truth.json`` (portraits, paintings, fisheye, street scenes).

A candidate is a :class:`fastredact.RedactOptions` (faces only: plates are measured by
``eval_plates.py``) run through :meth:`fastredact.Redactor.redact_array`, so the schedule,
the hiding margin and the verification are what ``redact`` does. deface runs its own
CenterFace at its defaults (threshold 0.2, native resolution, mask scale 1.3) in its own
environment (``deface_env.py``).

Match rule: a face is **found** when a box scoring at least the reporting threshold holds its
centre, **hidden** when any box the run hid holds it (those under the threshold were hidden by
the margin, or added by the verification); a false box holds no labelled centre (invalid and
"unsure" faces included). Over-redaction: the share of a photo's pixels inside the hidden
ellipses (each box grown by its mask scale, as the kernels draw it) but outside every
labelled face grown 1.5x about its centre; mean, 90th percentile and worst photo.
Face height bins: < 10, 10-16, 16-32, 32-64, 64-128, > 128 px.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benches")]

from tests.support import SHARED_DATA  # noqa: E402

from fastredact import RedactOptions, Redactor, photo  # noqa: E402

BINS = ((0, 10), (10, 16), (16, 32), (32, 64), (64, 128), (128, 1 << 30))
BIN_NAMES = ("<10", "10-16", "16-32", "32-64", "64-128", ">128")
FACE_GROWTH = 1.5
DEFACE_MASK_SCALE = 1.3
DEFACE_THRESHOLD = 0.2


@dataclass
class Face:
    cx: float
    cy: float
    w: float
    h: float
    counted: bool = True
    """False for faces the protocol skips (WIDER invalid, fixtures' unsure): never a miss,
    and a box on them is not false."""


@dataclass
class Photo:
    set: str
    path: Path
    faces: list[Face]


@dataclass
class Hidden:
    """What a tool hid on one photo: boxes with scores and the mask scale each was hidden
    with."""

    boxes: NDArray[np.float64]
    scores: NDArray[np.float64]
    scales: NDArray[np.float64]
    threshold: float
    shape: tuple[int, int]
    """The picture's height and width, as the tool saw it."""


@dataclass
class Tally:
    faces: list[int] = field(default_factory=lambda: [0] * len(BINS))
    found: list[int] = field(default_factory=lambda: [0] * len(BINS))
    hidden: list[int] = field(default_factory=lambda: [0] * len(BINS))
    false_found: int = 0
    false_hidden: int = 0
    photos: int = 0
    over: list[float] = field(default_factory=list)
    seconds: float = 0.0
    unsized: int = 0
    unsized_found: int = 0
    unsized_hidden: int = 0


def _bin(height: float) -> int:
    return next(i for i, (lo, hi) in enumerate(BINS) if lo <= height < hi)


# -- the labelled sets -----------------------------------------------------------------------


def crowds(limit: int | None) -> list[Photo]:
    folder = SHARED_DATA / "faces-eval"
    lines = (folder / "labels.txt").read_text().split("\n")
    photos: list[Photo] = []
    at = 0
    while at < len(lines) and lines[at].strip():
        name = lines[at].strip()
        count = int(lines[at + 1])
        faces = []
        for row in lines[at + 2 : at + 2 + max(count, 1)] if count else []:
            x, y, w, h, _blur, _expr, _illum, invalid, *_ = (int(v) for v in row.split())
            faces.append(Face(x + w / 2, y + h / 2, w, h, counted=invalid == 0 and w > 0))
        at += 2 + max(count, 1)
        photos.append(Photo("crowds", folder / "images" / name, faces))
    return photos[:limit]


def masks(limit: int | None) -> list[Photo]:
    folder = SHARED_DATA / "faces-eval-masks"
    by_file: dict[str, list[Face]] = {}
    for row in (folder / "labels.txt").read_text().splitlines():
        if not row.strip():
            continue
        name, x0, y0, x1, y1, _cls = row.split()
        a, b, c, d = (float(v) for v in (x0, y0, x1, y1))
        by_file.setdefault(name, []).append(Face((a + c) / 2, (b + d) / 2, c - a, d - b))
    photos = [Photo("masks", folder / "images" / n, f) for n, f in sorted(by_file.items())]
    return photos[:limit]


def fixtures(limit: int | None) -> list[Photo]:
    from bench_pipeline import FACES, STREET

    truth = json.loads((ROOT / "benches" / "faces_truth.json").read_text())["photos"]
    photos = []
    for relative in {**FACES, **STREET}:
        src = SHARED_DATA / relative
        labels = truth.get(f"{src.parent.name}_{src.stem}", {"faces": [], "unsure": []})
        faces = [Face(x, y, 0, 0) for x, y in labels["faces"]]
        faces += [Face(x, y, 0, 0, counted=False) for x, y in labels["unsure"]]
        photos.append(Photo("fixtures", src, faces))
    return photos[:limit]


SETS: dict[str, Callable[[int | None], list[Photo]]] = {
    "crowds": crowds,
    "masks": masks,
    "fixtures": fixtures,
}


# -- the tools -----------------------------------------------------------------------------


def fastredact_tool(options: RedactOptions) -> Callable[[list[Photo]], Iterator[Hidden]]:
    redactor = Redactor(options)
    threshold = redactor.detectors.thresholds["face"]

    def run(photos: list[Photo]) -> Iterator[Hidden]:
        for item in photos:
            rgb = photo.decode_image(item.path.read_bytes()).frames[0]
            if rgb.ndim == 2:
                rgb = np.repeat(rgb[:, :, None], 3, axis=2)
            _, hidden = redactor.redact_array(np.ascontiguousarray(rgb[:, :, :3]))
            n = len(hidden)
            yield Hidden(
                hidden.boxes.astype(np.float64),
                hidden.scores.astype(np.float64),
                np.full(n, options.mask_scale),
                threshold,
                (int(rgb.shape[0]), int(rgb.shape[1])),
            )

    return run


def manifest_tool(manifest: Path) -> Callable[[list[Photo]], Iterator[Hidden]]:
    """What a ``fastredact redact`` run recorded, instead of running a candidate: each
    photo's hidden boxes from the last run of ``manifest`` (matched by the photo's path
    under its set's image folder, as ``redact <images folder>`` records it). A box of
    another label (a plate) counts as hidden, never as a found face."""
    record: dict[str, object] = {}
    rows: dict[str, dict[str, object]] = {}
    for line in manifest.read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if row.get("record") == "run":
            record, rows = row, {}
        elif row.get("status") == "ok":
            rows[row["path"]] = row
    thresholds = record.get("thresholds") or {}
    threshold = float(thresholds.get("face", 0.46))  # type: ignore[union-attr]
    scale = float(record.get("settings", {}).get("mask_scale", 1.45))  # type: ignore[union-attr]

    def run(photos: list[Photo]) -> Iterator[Hidden]:
        for item in photos:
            relative = item.path.relative_to(item.path.parents[_depth(item)]).as_posix()
            row = rows[relative]
            items = [
                (box[:4], box[4] if label == "face" else -1.0)
                for label, boxes in row.get("detections", {}).items()  # type: ignore[union-attr]
                for box in boxes
            ]
            n = len(items)
            yield Hidden(
                np.array([b for b, _ in items], np.float64).reshape(-1, 4),
                np.array([s for _, s in items], np.float64),
                np.full(n, scale),
                threshold,
                (int(row["height"]), int(row["width"])),  # type: ignore[call-overload]
            )

    return run


def _depth(item: Photo) -> int:
    """How many folders below its set's image folder a photo lies (crowds: one, the
    scenario; masks: none)."""
    return 1 if item.set == "crowds" else 0


DEFACE_SCRIPT = """
import json, sys
import imageio.v2 as iio
from deface.centerface import CenterFace
net = CenterFace(in_shape=None, backend="auto")
for line in sys.stdin:
    path = line.strip()
    frame = iio.imread(path)
    if frame.ndim == 2:
        import numpy as np
        frame = np.repeat(frame[:, :, None], 3, axis=2)
    dets, _ = net(frame[:, :, :3], threshold=%f)
    boxes = [[float(v) for v in d[:5]] for d in dets]
    print("BOXES", json.dumps({"shape": list(frame.shape[:2]), "boxes": boxes}), flush=True)
"""


def deface_tool(photos: list[Photo]) -> Iterator[Hidden]:
    from deface_env import deface_python

    python = deface_python()
    script = DEFACE_SCRIPT % DEFACE_THRESHOLD
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "paths.txt"
        listing.write_text("".join(f"{p.path}\n" for p in photos))
        with open(listing) as stdin:
            done = subprocess.run(
                [str(python), "-c", script], stdin=stdin, capture_output=True, text=True, check=True
            )
    for line in done.stdout.splitlines():
        if not line.startswith("BOXES "):
            continue  # deface's own messages
        answer = json.loads(line.removeprefix("BOXES "))
        rows = np.asarray(answer["boxes"], np.float64).reshape(-1, 5)
        height, width = answer["shape"]
        yield Hidden(
            rows[:, :4],
            rows[:, 4],
            np.full(len(rows), DEFACE_MASK_SCALE),
            DEFACE_THRESHOLD,
            (height, width),
        )


# -- scoring -------------------------------------------------------------------------------


def _holding(boxes: NDArray[np.float64], x: float, y: float) -> NDArray[np.bool_]:
    return (boxes[:, 0] <= x) & (x <= boxes[:, 2]) & (boxes[:, 1] <= y) & (y <= boxes[:, 3])


def _ellipses(
    shape: tuple[int, int], boxes: NDArray[np.float64], scales: Iterable[float]
) -> NDArray[np.bool_]:
    h, w = shape
    mask = np.zeros((h, w), np.bool_)
    for (x0, y0, x1, y1), s in zip(boxes, scales, strict=True):
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        rx, ry = max((x1 - x0) * s / 2, 0.5), max((y1 - y0) * s / 2, 0.5)
        ya, yb = max(0, int(cy - ry)), min(h, int(np.ceil(cy + ry)) + 1)
        xa, xb = max(0, int(cx - rx)), min(w, int(np.ceil(cx + rx)) + 1)
        if ya >= yb or xa >= xb:
            continue
        yy, xx = np.ogrid[ya:yb, xa:xb]
        mask[ya:yb, xa:xb] |= ((xx + 0.5 - cx) / rx) ** 2 + ((yy + 0.5 - cy) / ry) ** 2 <= 1
    return mask


def score(item: Photo, hidden: Hidden, tally: Tally) -> None:
    tally.photos += 1
    shape = hidden.shape
    reported = hidden.boxes[hidden.scores >= hidden.threshold]
    for face in item.faces:
        if not face.counted:
            continue
        found = bool(_holding(reported, face.cx, face.cy).any())
        covered = bool(_holding(hidden.boxes, face.cx, face.cy).any())
        if face.h <= 0:
            tally.unsized += 1
            tally.unsized_found += found
            tally.unsized_hidden += covered
            continue
        b = _bin(face.h)
        tally.faces[b] += 1
        tally.found[b] += found
        tally.hidden[b] += covered
    for boxes, attr in ((reported, "false_found"), (hidden.boxes, "false_hidden")):
        for box in boxes:
            if not any(_holding(box[None], f.cx, f.cy)[0] for f in item.faces):
                setattr(tally, attr, getattr(tally, attr) + 1)
    sized = [f for f in item.faces if f.h > 0]
    faces = np.array(
        [[f.cx - f.w / 2, f.cy - f.h / 2, f.cx + f.w / 2, f.cy + f.h / 2] for f in sized],
        np.float64,
    ).reshape(-1, 4)
    masked = _ellipses(shape, hidden.boxes, hidden.scales)
    if len(faces):
        grown = _ellipses(shape, faces, [FACE_GROWTH] * len(faces))
        box_area = np.zeros(shape, np.bool_)
        for x0, y0, x1, y1 in faces:
            c = ((x0 + x1) / 2, (y0 + y1) / 2)
            hw, hh = (x1 - x0) * FACE_GROWTH / 2, (y1 - y0) * FACE_GROWTH / 2
            box_area[
                max(0, int(c[1] - hh)) : int(np.ceil(c[1] + hh)),
                max(0, int(c[0] - hw)) : int(np.ceil(c[0] + hw)),
            ] = True
        masked &= ~(grown | box_area)
    if sized or not item.faces:
        tally.over.append(float(masked.mean()))


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "-"


def report(name: str, set_name: str, tally: Tally) -> list[str]:
    lines = []
    n = max(tally.photos, 1)
    if sum(tally.faces):
        ge16 = slice(2, None)
        ge10 = slice(1, None)
        f16, h16, t16 = sum(tally.found[ge16]), sum(tally.hidden[ge16]), sum(tally.faces[ge16])
        f10, h10, t10 = sum(tally.found[ge10]), sum(tally.hidden[ge10]), sum(tally.faces[ge10])
        over = sorted(tally.over)
        p90 = over[int(0.9 * (len(over) - 1))] if over else 0.0
        lines.append(
            f"| {name} | {set_name} | {_share(f16, t16)} / {_share(h16, t16)} "
            f"| {_share(f10, t10)} / {_share(h10, t10)} "
            f"| {tally.false_found / n:.2f} / {tally.false_hidden / n:.2f} "
            f"| {100 * statistics.fmean(over or [0]):.2f} % / {100 * p90:.1f} % / "
            f"{100 * (over[-1] if over else 0):.1f} % | {tally.seconds:.1f} |"
        )
        cells = " | ".join(
            f"{_share(tally.found[i], tally.faces[i])} / {_share(tally.hidden[i], tally.faces[i])}"
            f" ({tally.faces[i]})"
            for i in range(len(BINS))
        )
        lines.append(f"|   by height | {set_name} | {cells} |")
    else:
        lines.append(
            f"| {name} | {set_name} | found {tally.unsized_found} / hidden "
            f"{tally.unsized_hidden}"
            f" of {tally.unsized} faces | false {tally.false_found / n:.2f} / "
            f"{tally.false_hidden / n:.2f} per photo "
            f"| {100 * statistics.fmean(tally.over or [0]):.2f} % "
            f"| {tally.seconds:.1f} |"
        )
    return lines


CANDIDATES: dict[str, Callable[[], RedactOptions]] = {
    "default": lambda: RedactOptions(plates=False, workers=1),
    "centerface": lambda: RedactOptions(plates=False, face_model="centerface", workers=1),
    "yunet": lambda: RedactOptions(plates=False, face_model="yunet", workers=1),
    "small-faces": lambda: RedactOptions(plates=False, small_faces=True, workers=1),
}
"""``default`` is ``yunet+centerface`` (the defaults, plates off); ``centerface`` was the
default face model before it; ``yunet`` is YuNet alone at its own threshold."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument(
        "--candidates", nargs="+", default=["default", "deface"],
        choices=[*CANDIDATES, "deface"],
    )  # fmt: skip
    parser.add_argument("--limit", type=int, help="the first N photos of each set")
    parser.add_argument(
        "--manifest", type=Path,
        help="score what a `fastredact redact` run of one set's image folder recorded "
        "(its manifest) instead of running the candidates",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.manifest is not None:
        args.candidates = ["manifest"]
    print("faces: found / hidden (at the reporting threshold / by the run); rule: a box holds")
    print("the face's centre; over-redaction: hidden ellipses outside faces grown 1.5x")
    print(
        "| candidate | set | faces >= 16 px | faces >= 10 px | false boxes / photo "
        "(found / hidden) | over-redaction mean / p90 / worst | seconds |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for candidate in args.candidates:
        if candidate == "manifest":
            tool = manifest_tool(args.manifest)
        elif candidate == "deface":
            tool = deface_tool
        else:
            tool = fastredact_tool(CANDIDATES[candidate]())
        for set_name in args.sets:
            photos = SETS[set_name](args.limit)
            tally = Tally()
            started = time.perf_counter()
            results = list(tool(photos))
            tally.seconds = time.perf_counter() - started
            for item, hidden in zip(photos, results, strict=True):
                score(item, hidden, tally)
            for line in report(candidate, set_name, tally):
                print(line, flush=True)


if __name__ == "__main__":
    main()
