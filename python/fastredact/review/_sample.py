"""Which pictures a reviewer sees: a sample that seeks misses, not a random handful.

Every ``ok`` row gives candidates: a photo its first frame (an animation, also its frames
with boxes); a video evenly spaced frames (moved between detections when the run detected
every n-th frame) and its detected frames with a box near the threshold. Each candidate gets
a weight from what makes a miss likely there:

- ``near-threshold``: a box scoring within :data:`NEAR` of its label's reporting threshold
  (its neighbours may score just under it);
- ``small-boxes``: at least :data:`SMALL_COUNT` boxes shorter than :data:`SMALL_SIDE` px (a
  crowd, where recall is lowest);
- ``none-where-peers-have``: nothing hidden where most pictures of its stratum had something;
- ``between-detections``: a video frame the detector did not look at (boxes were carried);
- ``boxes-not-listed``: a video run without ``--list-video-boxes`` (boxes unknown).

The sample is stratified over scenarios (the input's top folder) and formats: each stratum
gets a share of the sample proportional to its candidates (at least one while the sample
allows), drawn without replacement in proportion to the weights (seeded: the same manifest,
size and seed give the same sample).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastredact.review._sources import ReviewFile, ReviewRun

__all__ = ["NEAR", "SMALL_COUNT", "SMALL_SIDE", "ReviewItem", "Sample", "candidates", "draw"]

NEAR = 0.1
"""A box within this of its label's reporting threshold (either side) is near it."""
SMALL_SIDE = 24.0
"""Boxes with a longer side under this many pixels are small."""
SMALL_COUNT = 3
"""A picture with at least this many small boxes is a crowd."""
PEER_SHARE = 0.5
"""A picture with no box is suspect when at least this share of its stratum has boxes."""
VIDEO_FRAMES = 6
"""Evenly spaced candidate frames per video (besides its near-threshold frames)."""
VIDEO_NEAR_FRAMES = 6
"""Detected frames with a near-threshold box offered per video, at most."""
ANIMATION_FRAMES = 8
"""Frames with boxes offered per animated photo, at most (besides the first)."""

WEIGHTS = {
    "near-threshold": 3.0,
    "small-boxes": 2.0,
    "none-where-peers-have": 4.0,
    "between-detections": 2.0,
    "boxes-not-listed": 1.0,
}
"""What each reason adds to a candidate's weight (1 without any)."""


@dataclass
class ReviewItem:
    """One picture to review: a photo's frame or a video's frame, with its hidden boxes."""

    file: int
    """Index of the file in the run (:attr:`ReviewRun.files`)."""
    path: str
    frame: int
    kind: str
    """``photo`` or ``video``."""
    stratum: str
    boxes: list[dict[str, Any]]
    """``{"label", "box", "score", "state"}``: ``found`` at the reporting threshold, ``margin``
    when hidden by the hiding margin only."""
    boxes_known: bool = True
    reasons: list[str] = field(default_factory=list)

    @property
    def weight(self) -> float:
        return 1.0 + sum(WEIGHTS[r] for r in self.reasons)

    def as_dict(self, number: int) -> dict[str, Any]:
        return {
            "id": number,
            "path": self.path,
            "frame": self.frame,
            "kind": self.kind,
            "stratum": self.stratum,
            "boxes": self.boxes,
            "boxes_known": self.boxes_known,
            "reasons": self.reasons,
        }


@dataclass
class Sample:
    """The drawn items and how they were drawn (what the page says)."""

    items: list[ReviewItem]
    how: dict[str, Any]


def candidates(run: ReviewRun) -> list[ReviewItem]:
    """Every candidate picture of the run, with its reasons (see the module doc)."""
    every = int(run.settings.get("detect_every") or 1)
    items: list[ReviewItem] = []
    for index, f in enumerate(run.files):
        if f.output is None:
            continue
        boxes = _boxes(f, run.thresholds)
        if f.is_video:
            found = _video_items(index, f, boxes, every, run.thresholds)
        else:
            found = _photo_items(index, f, boxes)
        for item in found:
            item.reasons = _reasons(item.boxes, run.thresholds) + item.reasons
        items.extend(found)
    _mark_peers(items)
    return items


def draw(items: Sequence[ReviewItem], size: int | None, seed: int, run: ReviewRun) -> Sample:
    """A sample of ``size`` items (all of them when ``None``), stratified and weighted."""
    strata: dict[str, list[ReviewItem]] = {}
    for item in items:
        strata.setdefault(item.stratum, []).append(item)
    quota = _quotas({k: len(v) for k, v in strata.items()}, size)
    rng = random.Random(seed)
    chosen: list[ReviewItem] = []
    for name in sorted(strata):
        chosen.extend(_weighted(strata[name], quota[name], rng))
    chosen.sort(key=lambda i: (i.file, i.frame))
    return Sample(chosen, _how(items, chosen, strata, quota, size, seed, run))


def _boxes(f: ReviewFile, thresholds: dict[str, float]) -> dict[int, list[dict[str, Any]]]:
    """The row's listed boxes by frame, each marked ``found`` or ``margin``."""
    by_frame: dict[int, list[dict[str, Any]]] = {}
    for d in f.row.get("detections") or []:
        if "box" not in d:
            continue
        score = d.get("score")
        floor = thresholds.get(str(d["label"]))
        state = "found" if floor is None or score is None or score >= floor else "margin"
        by_frame.setdefault(int(d.get("frame") or 0), []).append(
            {"label": d["label"], "box": d["box"], "score": score, "state": state}
        )
    return by_frame


def _reasons(boxes: list[dict[str, Any]], thresholds: dict[str, float]) -> list[str]:
    reasons = []
    if any(
        b["score"] is not None
        and b["label"] in thresholds
        and abs(float(b["score"]) - thresholds[b["label"]]) <= NEAR
        for b in boxes
    ):
        reasons.append("near-threshold")
    sides = [max(b["box"][2] - b["box"][0], b["box"][3] - b["box"][1]) for b in boxes]
    if sum(side < SMALL_SIDE for side in sides) >= SMALL_COUNT:
        reasons.append("small-boxes")
    return reasons


def _stratum(f: ReviewFile) -> str:
    kind = f.row.get("output_format") or f.row.get("format") or "?"
    return f"{f.scenario()} · {kind}"


def _photo_items(
    index: int, f: ReviewFile, boxes: dict[int, list[dict[str, Any]]]
) -> list[ReviewItem]:
    frames = [0, *[i for i in sorted(boxes) if i != 0][:ANIMATION_FRAMES]]
    stratum = _stratum(f)
    return [ReviewItem(index, f.path, i, "photo", stratum, boxes.get(i, [])) for i in frames]


def _video_items(
    index: int,
    f: ReviewFile,
    boxes: dict[int, list[dict[str, Any]]],
    every: int,
    thresholds: dict[str, float],
) -> list[ReviewItem]:
    total = int(f.row.get("frames") or 0)
    if total <= 0:
        return []
    listed = bool(boxes) or not any("boxes" in d for d in f.row.get("detections") or [])
    stratum = _stratum(f)
    items: dict[int, ReviewItem] = {}
    for k in range(min(VIDEO_FRAMES, total)):
        frame = round((k + 0.5) * total / min(VIDEO_FRAMES, total))
        reasons = []
        if every > 1:  # halfway between two detected frames
            frame = frame - frame % every + every // 2
            reasons.append("between-detections")
        frame = min(max(frame, 0), total - 1)
        if not listed:
            reasons.append("boxes-not-listed")
        items[frame] = ReviewItem(
            index, f.path, frame, "video", stratum, boxes.get(frame, []), listed, reasons
        )
    near = sorted(i for i, b in boxes.items() if "near-threshold" in _reasons(b, thresholds))
    for frame in near[:VIDEO_NEAR_FRAMES]:
        items.setdefault(frame, ReviewItem(index, f.path, frame, "video", stratum, boxes[frame]))
    return [items[k] for k in sorted(items)]


def _mark_peers(items: list[ReviewItem]) -> None:
    """``none-where-peers-have`` on the photos with no box in a stratum where most have."""
    strata: dict[str, list[ReviewItem]] = {}
    for item in items:
        if item.kind == "photo" and item.boxes_known:
            strata.setdefault(item.stratum, []).append(item)
    for group in strata.values():
        with_boxes = sum(bool(i.boxes) for i in group)
        if len(group) >= 4 and with_boxes >= PEER_SHARE * len(group):
            for item in group:
                if not item.boxes:
                    item.reasons.append("none-where-peers-have")


def _quotas(sizes: dict[str, int], size: int | None) -> dict[str, int]:
    """Items per stratum: proportional to its candidates (largest remainders), at least one
    each while the sample has room, never more than it holds."""
    total = sum(sizes.values())
    if size is None or size >= total:
        return dict(sizes)
    quota = {k: 0 for k in sizes}
    left = size
    for k in sorted(sizes, key=lambda k: -sizes[k]):  # one each, largest strata first
        if left == 0:
            break
        quota[k] = 1
        left -= 1
    exact = {k: left * n / total for k, n in sizes.items()}
    for k in sizes:
        quota[k] = min(sizes[k], quota[k] + math.floor(exact[k]))
    left = size - sum(quota.values())
    for k in sorted(sizes, key=lambda k: -(exact[k] - math.floor(exact[k]))):
        if left <= 0:
            break
        if quota[k] < sizes[k]:
            quota[k] += 1
            left -= 1
    for k in sorted(sizes, key=lambda k: -sizes[k]):  # strata that ran out leave room
        take = min(left, sizes[k] - quota[k])
        quota[k] += take
        left -= take
    return quota


def _weighted(items: list[ReviewItem], k: int, rng: random.Random) -> list[ReviewItem]:
    """``k`` of ``items`` without replacement, each drawn in proportion to its weight
    (Efraimidis and Spirakis: the ``k`` largest ``u ** (1 / w)``)."""
    keyed = [(rng.random() ** (1.0 / item.weight), n) for n, item in enumerate(items)]
    keyed.sort(reverse=True)
    return [items[n] for _, n in keyed[:k]]


def _how(
    items: Sequence[ReviewItem],
    chosen: list[ReviewItem],
    strata: dict[str, list[ReviewItem]],
    quota: dict[str, int],
    size: int | None,
    seed: int,
    run: ReviewRun,
) -> dict[str, Any]:
    files = {i.file for i in chosen}
    photos = sum(1 for f in run.files if not f.is_video)
    return {
        "method": "all" if size is None else "stratified, weighted toward likely misses",
        "seed": seed,
        "asked": size,
        "candidates": len(items),
        "drawn": len(chosen),
        "files_in_run": len(run.files),
        "files_drawn": len(files),
        "photos_drawn": sum(1 for i in files if not run.files[i].is_video),
        "photos_in_run": photos,
        "videos_drawn": sum(1 for i in files if run.files[i].is_video),
        "videos_in_run": len(run.files) - photos,
        "rows_in_run": run.rows,
        "strata": [
            {"name": k, "candidates": len(strata[k]), "drawn": quota[k]} for k in sorted(strata)
        ],
        "reasons_in_run": dict(Counter(r for i in items for r in i.reasons)),
        "reasons_drawn": dict(Counter(r for i in chosen for r in i.reasons)),
        "weights": WEIGHTS,
    }
