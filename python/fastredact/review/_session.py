"""One review: the run, its sample (kept in the review folder, so a restart shows the same
pictures) and the corrections file the reviewer's actions are appended to.

Everything the page sends is checked here and completed from the manifest: a false
positive's box, label and score come from the run's row (the page names the box by its
index), the input's path and SHA-256 from the sampled item, never from the request.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastredact.corrections import LABELS, TAGS, Correction, read_corrections, standing
from fastredact.errors import FastRedactError
from fastredact.review._pictures import PictureCache, crop_png, frame_jpeg
from fastredact.review._sample import ReviewItem, Sample, candidates, draw
from fastredact.review._sources import ReviewRun
from fastredact.run._manifest import _JsonLinesAppender

__all__ = ["CORRECTIONS_FILE", "SAMPLE_FILE", "RequestError", "ReviewSession", "SampleSpec"]

SAMPLE_FILE = "sample.json"
CORRECTIONS_FILE = "corrections.jsonl"


class RequestError(Exception):
    """A request the session refuses: ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _CorrectionsWriter(_JsonLinesAppender):
    what = "corrections file"


@dataclass
class SampleSpec:
    size: int | None
    seed: int


class ReviewSession:
    """The state behind the page (see the module doc); safe to use from several threads."""

    def __init__(
        self, run: ReviewRun, folder: Path, spec: SampleSpec, reviewer: str, span: int = 0
    ) -> None:
        self.run = run
        self.folder = folder
        self.reviewer = reviewer
        self.span = span
        folder.mkdir(parents=True, exist_ok=True)
        self.sample = self._sample(spec)
        self.corrections_path = folder / CORRECTIONS_FILE
        self._rows = (
            read_corrections(self.corrections_path) if self.corrections_path.exists() else []
        )
        self._writer = _CorrectionsWriter(self.corrections_path)
        self._lock = threading.Lock()
        self._cache = PictureCache()

    def close(self) -> None:
        self._writer.close()

    # -- what the page reads -----------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything the page starts from: the sample, how it was drawn, the standing
        corrections of its inputs, the vocabularies."""
        paths = {i.path for i in self.sample.items}
        with self._lock:
            rows = [
                r.as_row()
                for r in standing(self._rows)
                if r.input in paths and r.action in ("add", "remove", "accept")
            ]
        return {
            "manifest": self.run.manifest.name,
            "fingerprint": self.run.fingerprint,
            "thresholds": self.run.thresholds,
            "reviewer": self.reviewer,
            "span": self.span,
            "labels": list(LABELS),
            "tags": list(TAGS),
            "items": [self._item_dict(n, item) for n, item in enumerate(self.sample.items)],
            "how": self.sample.how,
            "corrections": rows,
            "corrections_file": str(self.corrections_path),
        }

    def picture(self, number: int) -> bytes:
        """The output's frame of item ``number`` as a JPEG."""
        item = self._item(number)
        f = self.run.files[item.file]
        path = self._checked(f.output_checked)
        rgb = self._frame(("out", item.file, item.frame), path, item)
        return frame_jpeg(rgb)

    def original(self, number: int, box_index: int) -> bytes:
        """The original's pixels inside hidden box ``box_index`` of item ``number`` (PNG);
        recorded in the corrections file as a ``view-original`` row before it is sent."""
        item = self._item(number)
        box = self._box(item, box_index)
        f = self.run.files[item.file]
        path = self._checked(f.original_checked)
        rgb = self._frame(("in", item.file, item.frame), path, item)
        data = crop_png(rgb, box["box"])
        self._append(item, "view-original", box=box["box"], label=box["label"])
        return data

    # -- what the page writes ----------------------------------------------------------------

    def record(self, body: Any) -> dict[str, Any]:
        """Append the reviewer's action ``body`` (``{"item", "action", …}``); returns the
        row written."""
        if not isinstance(body, dict):
            raise RequestError(400, "the request body must be a JSON object")
        item = self._item(body.get("item"))
        action = body.get("action")
        if action == "add":
            span = _whole(body.get("span", 0), "span") if item.kind == "video" else 0
            return self._append(
                item, "add", box=body.get("box"), label=body.get("label"),
                tag=body.get("tag") or "other", span=span,
            )  # fmt: skip
        if action == "remove":
            box = self._box(item, body.get("box_index"))
            return self._append(
                item, "remove", box=box["box"], label=box["label"], score=box["score"]
            )
        if action == "accept":
            return self._append(item, "accept")
        if action == "withdraw":
            return self._withdraw(item, body.get("target"))
        raise RequestError(400, f"unknown action {action!r}")

    # -- internals ---------------------------------------------------------------------------

    def _sample(self, spec: SampleSpec) -> Sample:
        saved = self.folder / SAMPLE_FILE
        key = {
            "manifest_sha256": _sha256(self.run.manifest),
            "fingerprint": self.run.fingerprint,
            "size": spec.size,
            "seed": spec.seed,
        }
        if saved.is_file():
            try:
                old = json.loads(saved.read_text(encoding="utf-8"))
                if old.get("key") == key:
                    return Sample([_item_from(d) for d in old["items"]], old["how"])
            except (OSError, ValueError, KeyError, TypeError):
                pass  # drawn again below
        sample = draw(candidates(self.run), spec.size, spec.seed, self.run)
        data = {
            "key": key,
            "how": sample.how,
            "items": [dict(i.as_dict(n), file=i.file) for n, i in enumerate(sample.items)],
        }
        saved.write_text(json.dumps(data), encoding="utf-8")
        return sample

    def _item(self, number: object) -> ReviewItem:
        if isinstance(number, bool) or not isinstance(number, int):
            raise RequestError(400, "item must be a whole number")
        if not 0 <= number < len(self.sample.items):
            raise RequestError(404, f"no item {number}")
        return self.sample.items[number]

    def _item_dict(self, number: int, item: ReviewItem) -> dict[str, Any]:
        f = self.run.files[item.file]
        row = f.row
        return dict(
            item.as_dict(number),
            width=row.get("width"),
            height=row.get("height"),
            input_sha256=f.input_sha256,
            original=f.original is not None,
            frames=row.get("frames", 1),
        )

    @staticmethod
    def _box(item: ReviewItem, index: object) -> dict[str, Any]:
        if isinstance(index, bool) or not isinstance(index, int):
            raise RequestError(400, "box_index must be a whole number")
        if not 0 <= index < len(item.boxes):
            raise RequestError(404, f"the picture has no hidden box {index}")
        return item.boxes[index]

    def _frame(self, key: tuple[object, ...], path: Path, item: ReviewItem) -> Any:
        try:
            return self._cache.frame(key, path, item.frame, video=item.kind == "video")
        except FastRedactError as exc:
            raise RequestError(409, str(exc)) from None

    @staticmethod
    def _checked(get: Any) -> Path:
        try:
            path: Path = get()
        except FastRedactError as exc:
            raise RequestError(409, str(exc)) from None
        return path

    def _append(self, item: ReviewItem, action: str, **fields: Any) -> dict[str, Any]:
        f = self.run.files[item.file]
        fields = {k: v for k, v in fields.items() if v is not None}
        try:
            row = Correction.new(
                action, item.path, f.input_sha256, self.reviewer, frame=item.frame, **fields
            )
        except ValueError as exc:
            raise RequestError(400, str(exc)) from None
        with self._lock:
            self._writer.write(row.as_row())
            self._rows.append(row)
        return row.as_row()

    def _withdraw(self, item: ReviewItem, target: object) -> dict[str, Any]:
        with self._lock:
            live = {r.id: r for r in standing(self._rows)}
        row = live.get(target) if isinstance(target, str) else None
        if row is None or row.input != item.path:
            raise RequestError(404, f"no standing correction {target!r} of this picture")
        return self._append(item, "withdraw", target=row.id)


def _item_from(d: dict[str, Any]) -> ReviewItem:
    return ReviewItem(
        file=int(d["file"]),
        path=str(d["path"]),
        frame=int(d["frame"]),
        kind=str(d["kind"]),
        stratum=str(d["stratum"]),
        boxes=list(d["boxes"]),
        boxes_known=bool(d.get("boxes_known", True)),
        reasons=list(d.get("reasons", [])),
    )


def _whole(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10_000:
        raise RequestError(400, f"{name} must be a whole number from 0 to 10000")
    return value


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
