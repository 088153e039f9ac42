"""The re-identification test: does a hidden face still match the person it hid?

For every face a run hid at its reporting threshold and at least :data:`MIN_FACE_PX` on its
shorter side, dlib's ResNet face descriptor (``dlib-bin`` and ``face-recognition-models``
from PyPI: ``pip install 'fastredact[reid]'``) embeds the original face and the redacted
one, both aligned with the landmarks found on the original (the redacted face has none an
attacker could find, which would understate the risk). Only the hidden region is compared:
outside it the aligned chip is mid-grey, for originals and redacted faces alike, so the
photo's context (background, clothes, the same scene in both) cannot make two faces match.

- **distance**: a redacted face is within :data:`SAME_PERSON_DISTANCE` (dlib's same-person
  threshold) of its own original, and closer to it (by :data:`BLANK_MARGIN`) than the
  original with the region filled black (some originals lie near the descriptor of no
  face at all: a fill "matches" them, which is no re-identification);
- **rank-1**: its nearest original, among all the run's originals, is its own (a video
  track's originals are one person: any of its frames counts); ``chance`` is what a random
  nearest original would score;
- **re-identified**: both (each such face is listed for review);
- the run is **re-identifiable** when its rank-1 count is higher than random nearest
  originals would give with probability :data:`SIGNIFICANCE` (a Poisson-binomial test).

Video (the run listed its boxes: ``--list-video-boxes``): a track's faces are sampled on up
to :data:`SAMPLES_PER_TRACK` frames. A redacted sample is also matched against the track's
originals on *other* frames (one clear frame re-identifies the rest), and **linkage** asks
whether the redacted faces of one track still link to each other across frames: the share of
(same-track pair, other-person pair) comparisons the same-track pair wins (ties half), over
the redacted faces of other tracks and photos of the run — 0.5 is chance, 1 perfect linkage;
a track *links* at :data:`LINK_AUC` or more.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastredact.detect._set import as_rgb8
from fastredact.errors import FastRedactError, MissingExtra, ModelNotFound, one_line

__all__ = [
    "LINK_AUC",
    "MIN_FACE_PX",
    "SAME_PERSON_DISTANCE",
    "SAMPLES_PER_TRACK",
    "SIGNIFICANCE",
    "Embedder",
    "FileLocator",
    "ReidReport",
    "evaluate_reid",
    "load_embedder",
]

SAME_PERSON_DISTANCE = 0.6
"""dlib's documented threshold: descriptors closer than this are the same person."""
MIN_FACE_PX = 40
"""Faces smaller than this on their shorter side are too small to embed meaningfully."""
SAMPLES_PER_TRACK = 8
"""Frames sampled per video track (evenly over its detected frames)."""
LINK_AUC = 0.75
"""A track's redacted faces *link* when they beat other persons' this often."""
BLANK_MARGIN = 0.03
"""How much closer than the black fill a redacted face must be to count as matching: ten times
the noise re-encoding adds (a filled face comes back within 0.003 of the fill's descriptor)."""
SIGNIFICANCE = 0.01
"""A run is re-identifiable when a rank-1 count as high as its own has less than this chance
of arising from random nearest originals."""
TRACK_IOU = 0.3
"""A face box continues a track when it overlaps the track's last box this much..."""
TRACK_GAP = 15
"""...within this many frames."""
MODELS_SHA256 = {
    "shape_predictor_5_face_landmarks.dat": (
        "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"
    ),
    "dlib_face_recognition_resnet_model_v1.dat": (
        "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
    ),
}
"""SHA-256 of the weights ``face-recognition-models`` 0.3.0 ships (checked before use)."""
_GREY = 128
_CHIP = 150
_PADDING = 0.25


class Embedder:
    """dlib's 5-point landmarks and ResNet face descriptor."""

    def __init__(self, dlib: Any, landmarks: Any, descriptor: Any) -> None:
        self._dlib = dlib
        self._landmarks = landmarks
        self._descriptor = descriptor

    def pair(
        self,
        original: NDArray[np.uint8],
        redacted: NDArray[np.uint8],
        box: Sequence[float],
        region: NDArray[np.uint8],
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Descriptors of the face in ``box`` on ``original``, of the same place on
        ``redacted``, and of the original with the hidden region filled black (what leaks
        nothing), all aligned with the original's landmarks and grey outside ``region`` (an
        H×W×3 mask, 255 inside the hidden region)."""
        x0, y0, x1, y1 = (round(v) for v in box)
        shape = self._landmarks(original, self._dlib.rectangle(x0, y0, x1, y1))
        inside = self._dlib.get_face_chip(region, shape, size=_CHIP, padding=_PADDING) > 127
        out = []
        for image in (original, redacted, None):
            if image is None:
                chip = np.zeros((_CHIP, _CHIP, 3), np.uint8)
            else:
                chip = self._dlib.get_face_chip(image, shape, size=_CHIP, padding=_PADDING)
            chip = np.where(inside, chip, _GREY).astype(np.uint8)
            out.append(np.asarray(self._descriptor.compute_face_descriptor(chip), np.float64))
        return out[0], out[1], out[2]


def load_embedder() -> Embedder:
    """dlib and its face models, their SHA-256 checked; :class:`MissingExtra` when the
    ``reid`` extra is not installed."""
    try:
        import dlib
        import face_recognition_models as models
    except ImportError as exc:
        raise MissingExtra(
            f"fastredact eval reid needs dlib and its face models ({exc.name} is missing): "
            "pip install 'fastredact[reid]'"
        ) from None
    paths = {
        "shape_predictor_5_face_landmarks.dat": models.pose_predictor_five_point_model_location(),
        "dlib_face_recognition_resnet_model_v1.dat": models.face_recognition_model_location(),
    }
    for name, path in paths.items():
        try:
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError as exc:
            raise ModelNotFound(f"{path}: cannot read dlib's {name} ({exc})") from None
        if digest != MODELS_SHA256[name]:
            raise ModelNotFound(
                f"{path}: SHA-256 {digest[:16]}… is not the {name} of face-recognition-models "
                "0.3.0; reinstall it: pip install --force-reinstall 'fastredact[reid]'"
            )
    return Embedder(
        dlib,
        dlib.shape_predictor(paths["shape_predictor_5_face_landmarks.dat"]),
        dlib.face_recognition_model_v1(paths["dlib_face_recognition_resnet_model_v1.dat"]),
    )


# -- finding a row's original and output -----------------------------------------------------


class FileLocator:
    """Where a manifest row's original and output are: from the run's mapping file
    (``--mapping``), else ``originals`` / ``outputs`` folders mirroring the row's path. An
    output is taken only when its SHA-256 is the row's (the file is the one that run wrote)."""

    def __init__(
        self,
        mapping: Path | None = None,
        originals: Path | None = None,
        outputs: Path | None = None,
    ) -> None:
        self.pairs: list[tuple[Path, Path]] = []
        if mapping is not None:
            self.pairs = list(_mapping_pairs(mapping))
        self.originals, self.outputs = originals, outputs

    def locate(self, row: Mapping[str, Any]) -> tuple[Path, Path]:
        """The row's original and output; :class:`FastRedactError` naming what is missing."""
        relative = str(row["path"])
        wanted = row.get("output_sha256")
        candidates = [
            (i, o) for i, o in self.pairs if i.as_posix() == relative or _ends_with(i, relative)
        ]
        if self.originals is not None and self.outputs is not None:
            original = self.originals / relative
            target = self.outputs / relative
            siblings = (
                sorted(target.parent.glob(target.stem + ".*")) if target.parent.is_dir() else []
            )
            candidates += [(original, target)] + [(original, s) for s in siblings if s != target]
        if not candidates:
            raise FastRedactError(f"{relative}: not in the mapping file nor under --originals")
        for original, output in candidates:
            if output.is_file() and original.is_file() and _sha256(output) == wanted:
                return original, output
        raise FastRedactError(
            f"{relative}: no original with an output whose SHA-256 is the run's "
            f"(tried {len(candidates)}: moved, changed, or written by another run)"
        )


def _mapping_pairs(path: Path) -> Iterator[tuple[Path, Path]]:
    base = path.resolve().parent
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise FastRedactError(f"{path}: cannot read the mapping file ({exc.strerror})") from None
    for line in lines:
        try:
            row = json.loads(line)
            src, dst = Path(row["input"]), Path(row["output"])
        except (ValueError, KeyError, TypeError):
            continue  # a torn last line
        if not src.is_absolute() and not src.exists():
            src, dst = base / src, base / dst
        yield src, dst


def _ends_with(path: Path, relative: str) -> bool:
    return path.as_posix().endswith("/" + relative)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- the faces -----------------------------------------------------------------------------


@dataclass
class Sample:
    """One face embedded before and after redaction."""

    path: str
    frame: int
    box: tuple[float, ...]
    identity: str
    """The person: a photo face's own key, or a video track's (all its frames)."""
    video: bool
    original: NDArray[np.float64]
    redacted: NDArray[np.float64]
    blank: NDArray[np.float64]
    """The original with the hidden region filled black: what a redaction leaking nothing
    gives."""


@dataclass
class TrackLinkage:
    path: str
    track: int
    samples: int
    auc: float | None

    @property
    def links(self) -> bool | None:
        return None if self.auc is None else self.auc >= LINK_AUC


@dataclass
class ReidReport:
    """The re-identification figures of one run."""

    fingerprint: str
    mode: str
    strength: float | None
    faces: int = 0
    distance: int = 0
    rank1: int = 0
    reidentified: int = 0
    chance: float | None = None
    p_value: float | None = None
    """How likely a rank-1 count this high is by chance."""
    median_distance: float | None = None
    video_samples: int = 0
    video_reidentified_across_frames: int = 0
    tracks: list[TrackLinkage] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Files (or faces) that could not be measured, each with its reason."""
    samples: list[Sample] = field(default_factory=list)
    hits: list[bool] = field(default_factory=list)
    """Per sample: re-identified (within the distance and rank-1)."""

    def flagged(self) -> Iterator[tuple[Sample, float, bool]]:
        """Each sample with its distance to its original and whether it was re-identified."""
        for sample, hit in zip(self.samples, self.hits, strict=True):
            yield sample, float(np.linalg.norm(sample.original - sample.redacted)), hit

    @property
    def reidentifiable(self) -> bool | None:
        """The run's verdict: its hidden faces are matched to their originals (rank-1) more
        often than chance would, at :data:`SIGNIFICANCE` (``None``: no face measured)."""
        return None if self.p_value is None else self.p_value < SIGNIFICANCE

    def as_dict(self) -> dict[str, Any]:
        n = self.faces

        def share(k: int, total: int) -> float | None:
            return k / total if total else None

        measured = [t for t in self.tracks if t.auc is not None]
        return {
            "settings_fingerprint": self.fingerprint,
            "mode": self.mode,
            "strength": self.strength,
            "faces": n,
            "within_same_person_distance": self.distance,
            "rank1": self.rank1,
            "reidentified": self.reidentified,
            "share_within_distance": share(self.distance, n),
            "share_rank1": share(self.rank1, n),
            "share_reidentified": share(self.reidentified, n),
            "rank1_by_chance": self.chance,
            "p_value": self.p_value,
            "reidentifiable": self.reidentifiable,
            "median_distance": self.median_distance,
            "video_samples": self.video_samples,
            "video_reidentified_across_frames": self.video_reidentified_across_frames,
            "tracks": [
                {
                    "path": t.path,
                    "track": t.track,
                    "samples": t.samples,
                    "auc": t.auc,
                    "links": t.links,
                }
                for t in self.tracks
            ],
            "tracks_measured": len(measured),
            "tracks_linked": sum(1 for t in measured if t.links),
            "skipped": self.skipped,
            "faces_measured": [
                {
                    "path": s.path,
                    "frame": s.frame,
                    "box": [round(v, 1) for v in s.box],
                    "distance": round(d, 4),
                    "reidentified": hit,
                }
                for s, d, hit in self.flagged()
            ],
        }


def evaluate_reid(
    record: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    locator: FileLocator,
    embedder: Embedder,
    thresholds: Mapping[str, float],
) -> ReidReport:
    """The re-identification figures of one run (its record and full-form rows)."""
    settings = record.get("settings") or {}
    report = ReidReport(
        str(record.get("settings_fingerprint")),
        str(settings.get("mode", "blur")),
        settings.get("strength"),
    )
    scale = float(settings.get("mask_scale", 1.45))
    ellipse = settings.get("shape", "ellipse") == "ellipse"
    threshold = float(thresholds.get("face", 0.0))
    for row in rows:
        if row.get("status") != "ok":
            continue
        faces = _faces(row, threshold)
        if not faces:
            continue
        try:
            original, output = locator.locate(row)
            if row.get("video") is not None:
                samples = _video_samples(row, original, output, faces, embedder, scale, ellipse)
            else:
                samples = _photo_samples(row, original, output, faces, embedder, scale, ellipse)
        except (FastRedactError, OSError) as exc:
            report.skipped.append(one_line(exc))
            continue
        report.samples.extend(samples)
    _score(report)
    return report


def _faces(row: Mapping[str, Any], threshold: float) -> list[dict[str, Any]]:
    """The row's faces worth embedding: at the reporting threshold, large enough, one box per
    face (a box whose centre lies in a higher-scoring one of its frame is the same face,
    e.g. found again by the verification)."""
    listed = [
        d
        for d in row.get("detections") or []
        if d.get("label") == "face" and "box" in d and (d.get("score") or 0) >= threshold
    ]
    listed.sort(key=lambda d: -float(d["score"]))
    kept: list[dict[str, Any]] = []
    for d in listed:
        x0, y0, x1, y1 = d["box"]
        if min(x1 - x0, y1 - y0) < MIN_FACE_PX:
            continue
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        if any(
            k["frame"] == d["frame"] and k["box"][0] <= cx <= k["box"][2]
            and k["box"][1] <= cy <= k["box"][3]
            for k in kept
        ):  # fmt: skip
            continue
        kept.append(d)
    return kept


def _region(
    shape: tuple[int, ...], box: Sequence[float], scale: float, ellipse: bool
) -> NDArray[np.uint8]:
    """The hidden region of ``box`` (grown ``scale`` times) as an H×W×3 mask, 255 inside."""
    h, w = shape[:2]
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    rx, ry = max((x1 - x0) * scale / 2, 0.5), max((y1 - y0) * scale / 2, 0.5)
    yy, xx = np.ogrid[:h, :w]
    if ellipse:
        inside = ((xx + 0.5 - cx) / rx) ** 2 + ((yy + 0.5 - cy) / ry) ** 2 <= 1
    else:
        inside = (np.abs(xx + 0.5 - cx) <= rx) & (np.abs(yy + 0.5 - cy) <= ry)
    mask = np.zeros((h, w, 3), np.uint8)
    mask[inside] = 255
    return mask


def _photo_samples(
    row: Mapping[str, Any],
    original: Path,
    output: Path,
    faces: list[dict[str, Any]],
    embedder: Embedder,
    scale: float,
    ellipse: bool,
) -> list[Sample]:
    from fastredact.photo import decode_image

    before = decode_image(original.read_bytes()).frames
    after = decode_image(output.read_bytes()).frames
    samples = []
    for number, d in enumerate(faces):
        frame = int(d.get("frame", 0))
        a, b = as_rgb8(before[frame]), as_rgb8(after[frame])
        if a.shape != b.shape:
            raise FastRedactError(
                f"{row['path']}: the output is {b.shape[:2]}, the original {a.shape[:2]}"
            )
        region = _region(a.shape, d["box"], scale, ellipse)
        o, r, z = embedder.pair(a, b, d["box"], region)
        identity = f"{row['path']}#{number}"
        box = tuple(float(v) for v in d["box"])
        samples.append(Sample(str(row["path"]), frame, box, identity, False, o, r, z))
    return samples


def _tracks(faces: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Face boxes linked into tracks frame by frame: the best-overlapping pairs first, each
    box and track once."""
    from fastredact.detect._nms import iou_matrix

    tracks: list[list[dict[str, Any]]] = []
    for frame in sorted({int(d["frame"]) for d in faces}):
        here = [d for d in faces if int(d["frame"]) == frame]
        live = [t for t in tracks if frame - int(t[-1]["frame"]) <= TRACK_GAP]
        placed: set[int] = set()
        if live:
            iou = iou_matrix(
                np.array([d["box"] for d in here], np.float64),
                np.array([t[-1]["box"] for t in live], np.float64),
            )
            used: set[int] = set()
            for flat in np.argsort(-iou, axis=None):
                i, j = divmod(int(flat), len(live))
                if iou[i, j] < TRACK_IOU:
                    break
                if i not in placed and j not in used:
                    placed.add(i)
                    used.add(j)
                    live[j].append(here[i])
        tracks.extend([d] for i, d in enumerate(here) if i not in placed)
    return tracks


def _video_samples(
    row: Mapping[str, Any],
    original: Path,
    output: Path,
    faces: list[dict[str, Any]],
    embedder: Embedder,
    scale: float,
    ellipse: bool,
) -> list[Sample]:
    import av

    wanted: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for number, track in enumerate(_tracks(faces)):
        picks = np.unique(
            np.linspace(0, len(track) - 1, min(SAMPLES_PER_TRACK, len(track))).round()
        )
        for k in picks.astype(int):
            d = track[k]
            wanted.setdefault(int(d["frame"]), []).append((number, d))
    samples: list[Sample] = []
    if not wanted:
        return samples
    last = max(wanted)
    with av.open(str(original)) as a_in, av.open(str(output)) as b_in:
        pairs = zip(a_in.decode(video=0), b_in.decode(video=0), strict=False)
        for index, (fa, fb) in enumerate(pairs):
            if index > last:
                break
            if index not in wanted:
                continue
            a = np.ascontiguousarray(fa.to_ndarray(format="rgb24"))
            b = np.ascontiguousarray(fb.to_ndarray(format="rgb24"))
            for number, d in wanted[index]:
                region = _region(a.shape, d["box"], scale, ellipse)
                o, r, z = embedder.pair(a, b, d["box"], region)
                identity = f"{row['path']}#track{number}"
                box = tuple(float(v) for v in d["box"])
                samples.append(Sample(str(row["path"]), index, box, identity, True, o, r, z))
    return samples


def _score(report: ReidReport) -> None:
    samples = report.samples
    report.faces = len(samples)
    if not samples:
        return
    originals = np.stack([s.original for s in samples])
    redacted = np.stack([s.redacted for s in samples])
    identities = np.array([s.identity for s in samples])
    to_originals = np.linalg.norm(redacted[:, None] - originals[None], axis=2)
    own = np.diag(to_originals)
    blank = np.linalg.norm(np.stack([s.blank for s in samples]) - originals, axis=1)
    nearest = to_originals.argmin(axis=1)
    rank1 = identities[nearest] == identities
    # Within the same-person distance, and closer than a black fill gets: some faces'
    # originals lie near the descriptor of no face at all, which is no re-identification.
    within = (own < SAME_PERSON_DISTANCE) & (own < blank - BLANK_MARGIN)
    report.distance = int(within.sum())
    report.rank1 = int(rank1.sum())
    report.reidentified = int((within & rank1).sum())
    report.hits = [bool(v) for v in within & rank1]
    report.median_distance = round(float(np.median(own)), 4)
    same = identities[:, None] == identities[None]
    chances = same.sum(axis=1) / len(samples)
    report.chance = round(float(chances.mean()), 4)
    report.p_value = float(at_least(int(rank1.sum()), chances))
    video = np.array([s.video for s in samples])
    report.video_samples = int(video.sum())
    if video.any():
        other_frame = same & (
            np.array([s.frame for s in samples])[:, None]
            != np.array([s.frame for s in samples])[None]
        )
        across = np.where(other_frame, to_originals, np.inf).min(axis=1) < SAME_PERSON_DISTANCE
        report.video_reidentified_across_frames = int((across & video).sum())
    _linkage(report, redacted, identities, video)


def at_least(k: int, chances: NDArray[np.float64]) -> float:
    """P(at least ``k`` successes) over independent trials with these success chances (the
    Poisson binomial distribution, exactly)."""
    distribution = np.zeros(len(chances) + 1)
    distribution[0] = 1.0
    for n, p in enumerate(chances, start=1):
        distribution[1 : n + 1] = distribution[1 : n + 1] * (1 - p) + distribution[:n] * p
        distribution[0] *= 1 - p
    return float(min(1.0, distribution[k:].sum()))


def _linkage(
    report: ReidReport,
    redacted: NDArray[np.float64],
    identities: NDArray[Any],
    video: NDArray[np.bool_],
) -> None:
    between = np.linalg.norm(redacted[:, None] - redacted[None], axis=2)
    for identity in dict.fromkeys(identities[video]):
        mine = np.flatnonzero(identities == identity)
        others = np.flatnonzero(identities != identity)
        path, _, track = str(identity).rpartition("#track")
        auc = None
        if len(mine) >= 2 and len(others):
            pairs = between[np.ix_(mine, mine)][np.triu_indices(len(mine), 1)]
            versus = between[np.ix_(mine, others)].ravel()
            wins = (pairs[:, None] < versus[None]).mean() + 0.5 * (
                pairs[:, None] == versus[None]
            ).mean()
            auc = round(float(wins), 4)
        report.tracks.append(TrackLinkage(path, int(track), len(mine), auc))
