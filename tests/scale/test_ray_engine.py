"""``--engine ray`` on a real local Ray (``ray.init(num_cpus=2)``): outputs byte-identical to
``fastredact redact`` and manifest rows equal apart from timings; a driver killed mid-run
then resumed leaves every output and no input twice; the CPU guard refuses a plan that would
hang; a crashing input becomes a failed row; ``import fastredact`` never imports Ray."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fastredact import RayPlanError, RedactOptions, cli, read_manifest
from tests.support import PROJECT_ROOT, REQUIRE_SHARED_DATA
from tests.support.video_quality import trim_clip

ray: Any
try:
    import ray

    from fastredact.ray import ManifestFolder, check_plan, redact_files
except ImportError:  # pragma: no cover
    if REQUIRE_SHARED_DATA:  # CI installs the ray extra: a missing one is a failure there
        raise
    pytest.skip("Ray is not installed: pip install 'fastredact[ray]'", allow_module_level=True)

pytestmark = [pytest.mark.ray, pytest.mark.slow, pytest.mark.timeout(300)]

sys.path.insert(0, str(PROJECT_ROOT / "benches"))


@pytest.fixture(scope="module")
def cluster() -> Any:
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=300 * 1024**2,
             log_to_driver=False)  # fmt: skip
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def folder(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 30 shared photos (two copies of the bench's face and street photos), one video,
    a README and a truncated JPEG."""
    from bench_pipeline import FACES, STREET

    root = tmp_path_factory.mktemp("ray") / "in"
    (root / "sub").mkdir(parents=True)
    for copy in range(2):
        for relative in {**FACES, **STREET}:
            src = shared_data / relative
            target = root / ("sub" if copy else "") / f"{src.parent.name}_{src.name}"
            shutil.copyfile(src, target)
    trim_clip(shared_data / "egoblur/gen1/test_video.mp4", root / "clip.mp4", 20)
    (root / "README.txt").write_text("not a photo\n")
    obama = (shared_data / "redact-client/obama.jpeg").read_bytes()
    (root / "truncated.jpg").write_bytes(obama[: len(obama) // 2])
    return root


@pytest.fixture(scope="module")
def local_run(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("local")
    manifest = out.parent / f"{out.name}.jsonl"
    code = cli.main(["redact", str(folder), "-o", str(out / "out"), "--manifest", str(manifest),
                     "--no-progress", "--workers", "2", "--threads", "1"])  # fmt: skip
    assert code == 1  # the truncated JPEG
    return out / "out", manifest


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _assert_same_outputs(out: Path, expected: Path) -> None:
    """The same names; photos byte for byte; videos the same frames. Encoding the same
    redacted frames with libx264 gives other bytes in about one run in six (a few macroblocks
    at the frame's right edge; noticed 2026-12-07, not understood yet), so a video is compared
    by its decoded frames (mean difference under 0.5 grey level per frame)."""
    got, want = _files(out), _files(expected)
    assert sorted(got) == sorted(want)
    for name, data in want.items():
        if not name.endswith(".mp4"):
            assert got[name] == data, name
            continue
        a, b = _frames(out / name), _frames(expected / name)
        assert len(a) == len(b), name
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            assert np.abs(x - y).mean() < 0.5, (name, index)


def _frames(path: Path) -> list[Any]:
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in container.decode(video=0)]


def _rows(manifest: Path) -> dict[str, dict[str, Any]]:
    rows = {}
    for row in read_manifest(manifest):
        row = {k: v for k, v in row.items() if k != "timings_ms"}
        if row.get("video"):
            row["video"] = {k: v for k, v in row["video"].items() if k != "timings"}
            row.pop("output_sha256")  # the encoder's bytes can differ (_assert_same_outputs)
        rows[row["path"]] = row
    return rows


def _cat(folder: Path, target: Path) -> Path:
    lines = list(ManifestFolder(folder).jsonl())
    target.write_text("".join(f"{line}\n" for line in lines))
    return target


def test_the_same_outputs_and_rows_as_the_cli(
    cluster: str, folder: Path, local_run: tuple[Path, Path], tmp_path: Path
) -> None:
    out, manifest = tmp_path / "out", tmp_path / "manifest"
    run = redact_files([folder], out, manifest, RedactOptions(), cpus_per_actor=1.0)
    assert (run.ok, run.skipped, run.failed) == (len(_files(local_run[0])), 1, 1)
    _assert_same_outputs(out, local_run[0])
    ray_rows = _rows(_cat(manifest, tmp_path / "ray.jsonl"))
    assert ray_rows == _rows(local_run[1])
    assert ray_rows["truncated.jpg"]["error_kind"] == "CorruptInput"


def test_a_killed_driver_resumes_with_every_output_and_none_twice(
    cluster: str, folder: Path, local_run: tuple[Path, Path], tmp_path: Path
) -> None:
    out, manifest = tmp_path / "out", tmp_path / "manifest"
    script = (
        "import ray, sys; from fastredact import RedactOptions; "
        "from fastredact.ray import redact_files; "
        f"ray.init(address={cluster!r}, log_to_driver=False); "
        f"redact_files([{str(folder)!r}], {str(out)!r}, {str(manifest)!r}, RedactOptions(), "
        "actors=1, commit_every=2)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    driver = subprocess.Popen([sys.executable, "-c", script], env=env, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and driver.poll() is None:
        if len(list((manifest / "rows").glob("*.parquet"))) >= 2:
            break
        time.sleep(0.2)
    assert driver.poll() is None, "the run ended before it could be killed"
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait()
    first = [r for r in ManifestFolder(manifest).rows() if r["status"] == "ok"]
    assert 0 < len(first) < len(_files(local_run[0]))
    run = redact_files([folder], out, manifest, RedactOptions(), actors=1)
    assert run.done_before == len(first)
    ok = [r["path"] for r in ManifestFolder(manifest).rows() if r["status"] == "ok"]
    assert len(ok) == len(set(ok)) == len(_files(local_run[0]))  # every input once
    _assert_same_outputs(out, local_run[0])
    assert not [p for p in out.rglob(".*") if p.is_file()]  # no temporary file left


def test_the_cpu_guard_refuses_a_plan_that_would_hang(cluster: str, tmp_path: Path) -> None:
    with pytest.raises(RayPlanError, match="44687"):
        check_plan(2, 1.0, 0.5, 2.0)
    check_plan(2, 0.75, 0.5, 2.0)
    with pytest.raises(RayPlanError, match="hang"):
        redact_files([tmp_path], tmp_path / "out", tmp_path / "m", actors=2, cpus_per_actor=1)
    assert not (tmp_path / "out").exists() and not (tmp_path / "m").exists()


def test_a_crashing_input_becomes_a_failed_row(
    cluster: str, shared_data: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.jpeg", "b.jpeg", "c.jpeg"):
        shutil.copyfile(shared_data / "redact-client/obama.jpeg", folder / name)
    out, manifest = tmp_path / "out", tmp_path / "manifest"
    run = redact_files([folder], out, manifest, RedactOptions(), fail_on="b.jpeg")
    assert run.crashed == ["b.jpeg"] and (run.ok, run.failed) == (2, 1)
    rows = _rows(_cat(manifest, tmp_path / "m.jsonl"))
    assert rows["b.jpeg"]["status"] == "failed" and "died" in rows["b.jpeg"]["error"]
    assert sorted(p.name for p in out.iterdir()) == ["a.jpeg", "c.jpeg"]


def test_the_cli_engine_and_manifest_cat(
    cluster: str, shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copyfile(shared_data / "anonymizer/coco02.jpg", folder / "street.jpg")
    manifest = tmp_path / "manifest"
    code = cli.main(["redact", str(folder), "-o", str(tmp_path / "out"), "--engine", "ray",
                     "--manifest", str(manifest), "--no-progress"])  # fmt: skip
    assert code == 0 and "1 ok" in capsys.readouterr().err
    assert cli.main(["manifest", "cat", str(manifest)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["record"] == "run" and lines[0]["engine"] == "ray"
    assert lines[1]["path"] == "street.jpg" and lines[1]["status"] == "ok"
    code = cli.main(["redact", str(folder), "-o", str(tmp_path / "o2"), "--engine", "ray",
                     "--manifest", str(tmp_path / "m2"),
                     "--mapping", str(tmp_path / "map")])  # fmt: skip
    assert code == 2 and "not available" in capsys.readouterr().err


def test_importing_fastredact_does_not_import_ray() -> None:
    code = "import sys, fastredact, fastredact.cli; assert 'ray' not in sys.modules"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_the_cluster_example_script_runs(cluster: str, shared_data: Path, tmp_path: Path) -> None:
    """examples/ray_cluster.py, as docs/ray.md shows it, against the running cluster."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copyfile(shared_data / "redact-client/obama.jpeg", folder / "obama.jpeg")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    script = PROJECT_ROOT / "examples" / "ray_cluster.py"
    done = subprocess.run(
        [sys.executable, str(script), f"file://{folder}", str(tmp_path / "out"),
         str(tmp_path / "manifest"), "--address", cluster, "--actors", "1"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("1 ok, 0 skipped, 0 failed")
    assert (tmp_path / "out" / "obama.jpeg").is_file()  # a file:// URI, listed by pyarrow.fs


def test_a_detector_that_cannot_load_stops_before_anything_is_written(
    cluster: str, tmp_path: Path
) -> None:
    from fastredact import ModelNotFound

    options = RedactOptions(face_model=str(tmp_path / "missing.onnx"))
    with pytest.raises(ModelNotFound):
        redact_files([tmp_path], tmp_path / "out", tmp_path / "m", options)
    assert not (tmp_path / "out").exists() and not (tmp_path / "m").exists()
