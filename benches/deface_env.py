"""deface in its own virtual environment, for side-by-side benches.

deface 1.5.0 is installed with its own dependencies (imageio, imageio-ffmpeg, opencv-python,
scikit-image, ...) plus onnx and onnxruntime, the backend its README recommends (without
``onnx`` deface silently falls back to OpenCV's DNN module), at the versions fastredact uses,
so the detector runtime is not what differs. The environment is created
once under ``.bench-venvs/deface`` (git-ignored) and reused; creating it needs PyPI.

``deface_python()`` returns the interpreter of that environment; benches run deface's CLI
(or a short script importing deface) through it with ``subprocess`` and time the call from
the bench process, so both tools are timed by the same clock in the same run.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

DEFACE_VERSION = "1.5.0"
VENV = Path(__file__).resolve().parents[1] / ".bench-venvs" / "deface"


def _python_in(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _deface_installed(python: Path) -> bool:
    probe = "import deface, onnx, onnxruntime; print(deface.__version__)"
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True)
    return done.returncode == 0 and done.stdout.strip() == DEFACE_VERSION


def _create(venv: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    runtime = [f"{name}=={metadata.version(name)}" for name in ("onnx", "onnxruntime")]
    pip = [_python_in(venv), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, f"deface=={DEFACE_VERSION}", *runtime], check=True)


def deface_python() -> Path:
    """The interpreter of the deface environment, created on first use; skips the bench
    with the reason when it cannot be created (no registry access)."""
    python = _python_in(VENV)
    if python.exists() and _deface_installed(python):
        return python
    try:
        _create(VENV)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot create deface's environment at {VENV}: {exc}")
    if not _deface_installed(python):
        pytest.skip(f"deface {DEFACE_VERSION} is not importable in {VENV}")
    return python
