"""The audit trail: a JSON Lines manifest, append-only, flushed per row. Each run first
appends its run record (:func:`run_record`: tool version, start time, settings and their
fingerprint, models with SHA-256, host), then one row per input that refers to the run by
its settings fingerprint; the optional path mapping file (mode 0600) pairs inputs with
outputs. See docs/manifest.md.

A run killed mid-write leaves at worst a torn last line; :func:`read_done` ignores it, so
that input is simply redone. Rows written before run records existed carried the settings
in every row; :func:`read_done` reads both.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from fastredact._core import __version__
from fastredact._cpus import usable_cpus
from fastredact.errors import FastRedactError, OutputUnwritable

__all__ = [
    "COLUMNS",
    "REENCODED_KIND",
    "ROW_DEFAULTS",
    "RUN_RECORD",
    "DoneInputs",
    "ManifestWriter",
    "MappingWriter",
    "Run",
    "iter_rows",
    "manifest_runs",
    "read_done",
    "read_manifest",
    "read_runs",
    "run_policy",
    "run_record",
    "sha256_bytes",
]

Run = tuple[dict[str, Any], list[dict[str, Any]]]
"""A run record with its rows (full form)."""

RUN_RECORD = "run"
"""The ``record`` value of a run record; rows about one input have no ``record`` key."""

COLUMNS: dict[str, list[str]] = {
    "detections": ["x0", "y0", "x1", "y1", "score", "frame"],
    "metadata_removed": ["kind", "count", "bytes"],
    "timings_ms": [
        "decode",
        "detect_face",
        "detect_plate",
        "hide",
        "verify",
        "encode",
        "strip",
        "total",
    ],
}
"""A row's detections (per label) and removed metadata hold one array per item with these
columns (the run record repeats them): ``{"face": [[292, 179, 573, 576, 0.94]]}`` (boxes
rounded outwards to whole pixels; ``frame`` only when it is not 0),
``[["exif", 1, 1234]]``, and ``timings_ms`` is one array of whole milliseconds per stage
(``null`` for a stage that did not run)."""

REENCODED_KIND = "all (re-encoded)"
"""The removed-metadata kind of a re-encoded file (everything the input held): a
:class:`~fastredact.run.FileResult` lists it, a row says ``"reencoded": true`` instead."""

ROW_DEFAULTS: dict[str, Any] = {"orientation": 1, "frames": 1, "reencoded": False}
"""Row fields left out when they hold these values (and ``output_format`` when it is the
input's ``format``; empty lists)."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run_record(
    fingerprint: str,
    settings: Mapping[str, Any],
    models: Sequence[Mapping[str, str]],
    thresholds: Mapping[str, float] | None = None,
    policy: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The first line a run appends to its manifest: what every row of the run shares
    (``thresholds``: the reporting threshold of each label, models' defaults resolved;
    ``policy``: the profile and retention, see :func:`run_policy`)."""
    started = datetime.datetime.now(datetime.timezone.utc)
    record: dict[str, Any] = {
        "record": RUN_RECORD,
        "tool": "fastredact",
        "version": __version__,
        "started": started.isoformat(timespec="seconds"),
        "settings_fingerprint": fingerprint,
        "settings": dict(settings),
        "models": [dict(m) for m in models],
        "thresholds": dict(thresholds or {}),
        "columns": COLUMNS,
        "defaults": ROW_DEFAULTS,
        "host": {
            "cpus": os.cpu_count() or 1,
            "usable_cpus": usable_cpus(),
            "platform": platform.platform(),
        },
    }
    if policy:
        record.update(policy)
        days = policy.get("retention_days")
        if days is not None:
            until = started + datetime.timedelta(days=int(days))
            record["retention_until"] = until.date().isoformat()
    return record


def run_policy(profile: Mapping[str, Any] | None, retention_days: int | None) -> dict[str, Any]:
    """The run record's policy fields: the ``profile`` (name, source, SHA-256, mapping
    rule) when the run used one, and ``retention_days`` (the record adds
    ``retention_until``, the date the originals may be kept until)."""
    policy: dict[str, Any] = {}
    if profile is not None:
        policy["profile"] = dict(profile)
    if retention_days is not None:
        policy["retention_days"] = retention_days
    return policy


class _JsonLinesAppender:
    """Append-only JSON Lines file; each row goes to the file in one ``write`` call, unbuffered
    (nothing is left in a buffer when the disk fills up or the run is killed). A file that
    cannot be opened or written raises :class:`OutputUnwritable` naming it: the run stops,
    since an output without its audit row is not what a manifest promises."""

    what = "file"

    def __init__(self, path: Path, *, mode: int = 0o666) -> None:  # less the umask
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, mode)
        except OSError as exc:
            raise self._unwritable("cannot open", exc) from None
        try:
            self._repair_torn_tail()
        except OutputUnwritable:
            self.close()
            raise

    def _unwritable(self, action: str, exc: OSError) -> OutputUnwritable:
        return OutputUnwritable(f"{action} the {self.what} {self.path}: {exc.strerror or exc}")

    def _repair_torn_tail(self) -> None:
        # A previous run killed mid-row leaves a line without its newline: end it, so the
        # next row starts on a fresh line (the torn line is then ignored by readers).
        if self.path.stat().st_size == 0:
            return
        with open(self.path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                self._append(b"\n")

    def _append(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            raise self._unwritable("cannot write to", exc) from None

    def write(self, row: Mapping[str, Any]) -> None:
        line = json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str)
        self._append((line + "\n").encode("utf-8", "backslashreplace"))

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> _JsonLinesAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ManifestWriter(_JsonLinesAppender):
    """The manifest: one row per input (ok, failed or skipped)."""

    what = "manifest"


class MappingWriter(_JsonLinesAppender):
    """Original path → output path, kept apart from the manifest and readable by the owner only."""

    what = "mapping file"

    def __init__(self, path: Path) -> None:
        super().__init__(path, mode=0o600)
        os.chmod(path, 0o600)


def iter_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a manifest, skipping lines that do not parse (a torn last line)."""
    if not path.is_file():
        return
    try:
        f = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise FastRedactError(f"cannot read the manifest {path}: {exc.strerror or exc}") from None
    with f:
        for line in f:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict):
                yield row


class DoneInputs:
    """The inputs a manifest records as ``ok`` under one settings fingerprint, as (relative
    path, input SHA-256) pairs. Each pair is kept as a 16-byte digest: a resumed run of a
    million files holds tens of megabytes here, not the rows' strings.

    The path is part of the key: two inputs with the same content each need their output.
    """

    def __init__(self) -> None:
        self._keys: set[bytes] = set()

    def add(self, path: str, input_sha256: str) -> None:
        self._keys.add(_done_key(path, input_sha256))

    def __contains__(self, pair: object) -> bool:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            return False
        return _done_key(*pair) in self._keys

    def __len__(self) -> int:
        return len(self._keys)


def _done_key(path: str, input_sha256: str) -> bytes:
    name = path.encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(len(name).to_bytes(8, "little"), digest_size=16)
    digest.update(name)
    digest.update(input_sha256.encode("ascii", "replace"))
    return digest.digest()


def read_done(path: Path, fingerprint: str) -> DoneInputs:
    """Every input the manifest at ``path`` records as ``ok`` with the settings
    ``fingerprint`` (rows of other settings, failed rows, run records and torn lines do not
    count). Rows of both formats carry their settings fingerprint."""
    done = DoneInputs()
    for row in iter_rows(path):
        fields = (row.get("path"), row.get("input_sha256"))
        if row.get("status") != "ok" or row.get("settings_fingerprint") != fingerprint:
            continue
        if isinstance(fields[0], str) and isinstance(fields[1], str):
            done.add(fields[0], fields[1])
    return done


def read_runs(path: Path) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The runs of the manifest at ``path``, oldest first: each run record with the rows
    that follow it, in full form (:func:`read_manifest`). Rows written before run records
    existed form runs of their own per settings fingerprint, with a record made from them."""
    runs: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    older: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    current: tuple[dict[str, Any], list[dict[str, Any]]] | None = None
    for row in iter_rows(path):
        if row.get("record") == RUN_RECORD:
            current = (row, [])
            runs.append(current)
        elif "record" in row:  # another record (a seal): not about an input
            continue
        elif "settings" in row:
            fingerprint = str(row.get("settings_fingerprint"))
            if fingerprint not in older:
                record = {
                    "record": RUN_RECORD,
                    "settings_fingerprint": fingerprint,
                    "settings": row["settings"],
                    "models": row.get("models", []),
                }
                older[fingerprint] = (record, [])
                runs.append(older[fingerprint])
            older[fingerprint][1].append(row)
        elif current is not None:
            current[1].append(_expanded(row, current[0]))
    return runs


def manifest_runs(manifest: Path, fingerprint: str | None = None) -> list[Run]:
    """The runs of ``manifest`` by settings fingerprint, each with its latest row per input
    (a resumed run's rows join the run they continue); only the one whose fingerprint starts
    with ``fingerprint`` when given. :class:`FastRedactError` when there is none."""
    if not manifest.is_file():
        raise FastRedactError(f"{manifest}: no such manifest")
    grouped: dict[str, Run] = {}
    for record, rows in read_runs(manifest):
        key = str(record.get("settings_fingerprint"))
        if key not in grouped:
            grouped[key] = (record, [])
        grouped[key][1].extend(rows)
    if not grouped:
        raise FastRedactError(f"{manifest}: holds no run (is it a fastredact manifest?)")
    runs = []
    for record, rows in grouped.values():
        latest = {str(row.get("path")): row for row in rows}
        runs.append((record, list(latest.values())))
    if fingerprint is not None:
        runs = [r for r in runs if str(r[0].get("settings_fingerprint")).startswith(fingerprint)]
        if not runs:
            known = ", ".join(grouped)
            raise FastRedactError(f"{manifest}: no run with fingerprint {fingerprint} ({known})")
    return runs


def read_manifest(path: Path) -> Iterator[dict[str, Any]]:
    """The rows about inputs of the manifest at ``path``, each in the full form whatever
    format wrote it: the run's ``settings`` and ``models`` included, every field present
    (defaults filled in), ``detections`` and ``metadata_removed`` as lists of dicts
    (``{"label", "box", "score", "frame"}``; a video's detections as ``{"label", "boxes"}``
    counts, unless the run listed them, ``list_video_boxes``: then its boxes frame by frame
    in stored pixels, and ``video["boxes"]`` counts them). Torn lines are skipped."""
    run: dict[str, Any] = {}
    for row in iter_rows(path):
        if row.get("record") == RUN_RECORD:
            run = row
            continue
        if "record" in row:  # another record (a seal): not about an input
            continue
        if "settings" in row:  # written before run records: already whole
            yield row
            continue
        yield _expanded(row, run)


def _expanded(row: dict[str, Any], run: Mapping[str, Any]) -> dict[str, Any]:
    same_run = run.get("settings_fingerprint") == row.get("settings_fingerprint")
    full: dict[str, Any] = {
        "settings_fingerprint": row.get("settings_fingerprint"),
        "settings": run.get("settings") if same_run else None,
        "models": run.get("models") if same_run else None,
    }
    full.update(row)
    if row.get("status") == "ok" or "format" in row:
        for name, value in run.get("defaults", ROW_DEFAULTS).items():
            full.setdefault(name, value)
        full.setdefault("output_format", row.get("format"))
    full["detections"] = [
        {
            "label": label,
            "box": [float(v) for v in item[:4]],
            "score": item[4],
            "frame": item[5] if len(item) > 5 else 0,
        }
        for label, items in row.get("detections", {}).items()
        for item in items
    ]
    removed = [
        dict(zip(COLUMNS["metadata_removed"], item, strict=True))
        for item in row.get("metadata_removed", [])
    ]
    if full.get("reencoded"):
        removed.insert(0, {"kind": REENCODED_KIND, "count": None, "bytes": None})
    full["metadata_removed"] = removed
    timings = row.get("timings_ms", [])
    full["timings_ms"] = {
        stage: ms
        for stage, ms in zip(COLUMNS["timings_ms"], timings, strict=False)
        if ms is not None
    }
    video = row.get("video")
    if isinstance(video, dict) and "boxes" in video and "detections" not in row:
        full["video"] = {k: v for k, v in video.items() if k != "boxes"}
        full["detections"] = [{"label": k, "boxes": n} for k, n in video["boxes"].items()]
    return full
