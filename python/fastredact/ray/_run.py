"""``redact_files``: plan on the driver, redact in a pool of actors, commit manifest rows as
parquet parts block by block; resumable and fault-tolerant (see ``docs/ray.md``)."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from fastredact.errors import InternalError, RayPlanError
from fastredact.options import RedactOptions
from fastredact.ray._actor import RedactActor
from fastredact.ray._parts import ManifestFolder
from fastredact.ray._plan import Task, plan_inputs
from fastredact.run._batch import make_output_folder, profile_record
from fastredact.run._inputs import display
from fastredact.run._manifest import run_policy, run_record
from fastredact.run._results import FileResult

__all__ = ["RayPlanError", "RayRun", "check_plan", "redact_files"]


@dataclass
class RayRun:
    """What a Ray run did."""

    run_id: str
    planned: int = 0
    done_before: int = 0
    """Inputs a resumed run found committed with the same settings and unchanged."""
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    crashed: list[str] = field(default_factory=list)
    torn_parts: int = 0


def check_plan(actors: int, cpus_per_actor: float, io_cpus: float, cluster_cpus: float) -> None:
    """Refuse a plan whose actors would hold every CPU: Ray Data's read and write tasks then
    never get one, and the job hangs (ray-project/ray#44687) or saves nothing until the end."""
    if actors < 1 or cpus_per_actor <= 0 or io_cpus <= 0:
        raise RayPlanError("actors, cpus_per_actor and io_cpus must be positive")
    need = actors * cpus_per_actor + io_cpus
    if need > cluster_cpus + 1e-9:
        raise RayPlanError(
            f"{actors} actor(s) x {cpus_per_actor:g} CPU + {io_cpus:g} CPU for writing the "
            f"manifest needs {need:g} CPUs; the cluster has {cluster_cpus:g}. Actors holding "
            "every CPU hang the job (ray-project/ray#44687): use fewer actors or a smaller "
            "cpus_per_actor"
        )


def redact_files(
    inputs: Iterable[str | Path],
    output_dir: str | Path,
    manifest_dir: str | Path,
    options: RedactOptions | None = None,
    *,
    resume: bool = True,
    actors: int | None = None,
    cpus_per_actor: float = 1.0,
    io_cpus: float = 0.5,
    commit_every: int = 64,
    address: str | None = None,
    progress: bool = False,
    fail_on: str = "",
) -> RayRun:
    """Redact ``inputs`` (local paths or ``pyarrow.fs`` URIs) into ``output_dir`` on Ray,
    with the manifest as parquet parts plus run records in ``manifest_dir``. The same
    outputs, names and rows as ``fastredact redact`` with ``options``. ``actors`` (default:
    as many as the cluster's CPUs allow) each hold one detector set with ``options.threads``
    (default 1) threads. Returns the counts; inputs never raise, a plan that cannot work
    raises :class:`RayPlanError`, a detector that cannot load raises before anything is
    written."""
    import ray

    options = options or RedactOptions()
    options = replace(options, threads=options.threads or 1, workers=1)
    from fastredact.detect import DetectorSet

    detectors = DetectorSet.load(options)  # a model that cannot load stops the job here
    started_ray = not ray.is_initialized()
    if started_ray:
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.WARNING)  # fmt: skip
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise RayPlanError(f"cannot reach Ray at {address or 'a new local cluster'}: {exc}"
                               ) from None  # fmt: skip
    try:
        cluster = float(ray.cluster_resources().get("CPU", 0))
        if actors is None:
            actors = max(1, int((cluster - io_cpus) // cpus_per_actor))
        check_plan(actors, cpus_per_actor, io_cpus, cluster)
        return _run(inputs, Path(output_dir), ManifestFolder(Path(manifest_dir)), options,
                    detectors, resume=resume, actors=actors, cpus_per_actor=cpus_per_actor,
                    io_cpus=io_cpus, commit_every=commit_every,
                    progress=progress, fail_on=fail_on)  # fmt: skip
    finally:
        if started_ray:
            ray.shutdown()


def _run(inputs: Iterable[str | Path], out_root: Path, folder: ManifestFolder,
         options: RedactOptions, detectors: Any, *, resume: bool, actors: int,
         cpus_per_actor: float, io_cpus: float, commit_every: int,
         progress: bool, fail_on: str) -> RayRun:  # fmt: skip

    make_output_folder(out_root)
    folder.create()
    fingerprint = options.fingerprint()
    plan = plan_inputs([str(i) for i in inputs], out_root, options)
    summary = RayRun(run_id=secrets.token_hex(6), planned=len(plan.tasks) + len(plan.failed))
    todo = plan.tasks
    if resume:
        todo = _not_done(todo, folder, fingerprint, out_root, summary)
    record = run_record(fingerprint, options.output_settings(), detectors.describe(),
                        detectors.thresholds,
                        run_policy(profile_record(options), options.retention_days))  # fmt: skip
    record.update(run_id=summary.run_id, engine="ray", actors=actors)
    folder.write_record(record)
    folder.write_rows(_driver_row(r, fingerprint, summary.run_id) for r in plan.failed)
    summary.failed += len(plan.failed)
    if todo:
        constructor = {"options": asdict(options), "out_root": str(out_root),
                       "run": summary.run_id, "fail_on": fail_on}  # fmt: skip
        shape = (actors, cpus_per_actor, io_cpus, commit_every, progress)
        crashed = _until_done(todo, folder, summary.run_id, constructor, shape)
        summary.crashed = [display(Path(t.relative)) for t in crashed]
    _count_and_close(todo, folder, fingerprint, summary)
    return summary


def _until_done(todo: list[Task], folder: ManifestFolder, run_id: str,
                constructor: dict[str, Any], shape: tuple[Any, ...]) -> list[Task]:  # fmt: skip
    """Run passes until every input of ``todo`` has a row; return those that crashed their
    worker. An actor that dies (a crashing input) is not restarted in place — Ray's restart
    of a Data actor can hang (ray-project/ray#53727) — so its pool stops and the inputs left
    go into a new pass. A pass that commits nothing has its first input tried alone: it
    either gets its row or is the crashing one. Every loop commits a row or sets one input
    aside, so it ends."""
    crashed: list[Task] = []
    missing = _without_row(todo, folder, run_id)
    while missing:
        before = len(missing)
        _pipeline(missing, folder, constructor, *shape)
        missing = _without_row(missing, folder, run_id)
        if missing and len(missing) == before:
            first, rest = missing[0], missing[1:]
            _pipeline([first], folder, constructor, 1, *shape[1:])
            if _without_row([first], folder, run_id):
                crashed.append(first)
            missing = _without_row(rest, folder, run_id)
    return crashed


def _without_row(todo: list[Task], folder: ManifestFolder, run_id: str) -> list[Task]:
    seen = {row["path"] for row in folder.rows() if row["run"] == run_id}
    return [t for t in todo if display(Path(t.relative)) not in seen]


def _pipeline(todo: list[Task], folder: ManifestFolder, constructor: dict[str, Any],
              actors: int, cpus_per_actor: float, io_cpus: float, commit_every: int,
              progress: bool) -> None:  # fmt: skip
    """One Ray Data pass: ``todo`` through the actor pool, rows committed as parquet parts
    of ``commit_every`` rows (a crashing input loses its own block only)."""
    import ray

    logging.getLogger("ray.data").setLevel(logging.WARNING)  # no INFO lines per dataset
    with warnings.catch_warnings():
        # Ray Data warns about its own settings, and about the remote arguments that turn
        # actor restarts off, which Ray 2.64 drops (the extra pins ray below it): restarted,
        # a crashing input restarts actors forever, or the restart hangs.
        warnings.simplefilter("ignore", DeprecationWarning)
        context = ray.data.DataContext.get_current()
        context.max_errored_blocks = len(todo)  # a crashing input loses its own block
        context.enable_progress_bars = progress
        rows = [t.as_row() for t in todo]
        dataset = ray.data.from_items(rows, override_num_blocks=len(todo))
        dataset = _mapped(dataset, actors, cpus_per_actor, constructor)
        dataset.write_parquet(str(folder.rows_folder), min_rows_per_file=commit_every,
                              ray_remote_args={"num_cpus": io_cpus})  # fmt: skip


def _mapped(dataset: Any, actors: int, cpus_per_actor: float,
            constructor: dict[str, Any]) -> Any:  # fmt: skip
    """The dataset through a pool of ``actors`` :class:`RedactActor` actors, one input per
    call, never restarted (see :func:`_until_done`)."""
    import ray

    return dataset.map_batches(
        RedactActor,
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=cpus_per_actor,
        fn_constructor_kwargs=constructor,
        max_restarts=0,
        max_task_retries=0,
    )


def _not_done(tasks: list[Task], folder: ManifestFolder, fingerprint: str, out_root: Path,
              summary: RayRun) -> list[Task]:  # fmt: skip
    """The tasks a resumed run still has to do: not those with an ``ok`` row of these
    settings whose input is unchanged (same SHA-256) and whose output is still there."""
    done: dict[str, str] = {}
    for row in folder.rows():
        if row["status"] == "ok" and row["settings_fingerprint"] == fingerprint:
            done[row["path"]] = row["input_sha256"]
    summary.torn_parts = len(folder.torn)
    todo = []
    for task in tasks:
        wanted = done.get(display(Path(task.relative)))
        output = out_root / task.output if task.output else None
        if wanted and output is not None and output.is_file() and _sha256(task.source) == wanted:
            summary.done_before += 1
            continue
        todo.append(task)
    return todo


def _sha256(source: str) -> str:
    digest = hashlib.sha256()
    if "://" in source:
        import pyarrow.fs

        filesystem, path = pyarrow.fs.FileSystem.from_uri(source)
        with filesystem.open_input_stream(path) as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()
    with open(source, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _count_and_close(todo: list[Task], folder: ManifestFolder, fingerprint: str,
                     summary: RayRun) -> None:  # fmt: skip
    """Count this run's rows; an input without one crashed its worker every time it was
    tried: it becomes a failed row (the crash is the input's, not the job's)."""
    planned = {display(Path(t.relative)) for t in todo}
    seen = set()
    for row in folder.rows():
        if row["run"] != summary.run_id or row["path"] not in planned:
            continue
        seen.add(row["path"])
        summary.ok += row["status"] == "ok"
        summary.skipped += row["status"] == "skipped"
        summary.failed += row["status"] == "failed"
    crashed = []
    for task in todo:
        path = display(Path(task.relative))
        if path in seen:
            continue
        result = FileResult(path=path, status="failed")
        result.fail(InternalError(
            "the worker process died on this input (in a pass with others, then alone); "
            "nothing written"))  # fmt: skip
        crashed.append(_driver_row(result, fingerprint, summary.run_id))
    folder.write_rows(crashed)
    summary.failed += len(crashed)


def _driver_row(result: FileResult, fingerprint: str, run_id: str) -> dict[str, str]:
    row = {"settings_fingerprint": fingerprint, **result.manifest_row()}
    return {
        "path": result.path,
        "status": result.status,
        "input_sha256": result.input_sha256 or "",
        "settings_fingerprint": fingerprint,
        "run": run_id,
        "row": json.dumps(row, separators=(",", ":")),
    }
