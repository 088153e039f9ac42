"""onnxruntime sessions: execution providers for a ``device`` and the thread count."""

from __future__ import annotations

from typing import Any

from fastredact._cpus import usable_cpus
from fastredact.errors import DetectorError

__all__ = ["DEVICES", "create_session", "default_threads", "providers_for"]

_PROVIDERS: dict[str, list[str]] = {
    "cpu": ["CPUExecutionProvider"],
    "cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"],
    "tensorrt": ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"],
    "openvino": ["OpenVINOExecutionProvider", "CPUExecutionProvider"],
}
"""The onnxruntime execution providers of each ``device``, preferred first."""

DEVICES = tuple(_PROVIDERS)
"""Accepted ``device`` values of :func:`fastredact.load_detector`."""


def default_threads(workers: int = 1) -> int:
    """Intra-op threads per session so that ``workers x threads`` ~ the usable CPU cores
    (affinity mask and CFS quota included: :func:`fastredact._cpus.usable_cpus`)."""
    return max(1, usable_cpus() // max(1, workers))


def providers_for(device: str) -> list[str]:
    """The onnxruntime providers for ``device``; :class:`DetectorError` when the first one
    is not available in the installed onnxruntime."""
    import onnxruntime as ort

    if device not in _PROVIDERS:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    wanted = _PROVIDERS[device]
    available = ort.get_available_providers()
    if wanted[0] not in available:
        hint = {
            "cuda": "install onnxruntime-gpu instead of onnxruntime",
            "tensorrt": "install onnxruntime-gpu built with TensorRT and the TensorRT libraries",
            "openvino": "install onnxruntime-openvino instead of onnxruntime",
        }.get(device, "reinstall onnxruntime")
        raise DetectorError(
            f"device {device!r} needs onnxruntime's {wanted[0]}, which this onnxruntime lacks "
            f"(available: {', '.join(available)}); {hint}, or use device='cpu'"
        )
    return [p for p in wanted if p in available]


def create_session(model: bytes | str, *, device: str = "cpu", threads: int | None = None) -> Any:
    """An ``onnxruntime.InferenceSession`` for ``model`` (serialized bytes or a path).

    ``threads`` is the intra-op thread count (``None``: all usable cores). Raises
    :class:`DetectorError` when the model cannot be loaded or the requested provider did not
    come up (onnxruntime silently falls back to the CPU when, say, the CUDA libraries are
    missing; fastredact refuses instead).
    """
    import onnxruntime as ort

    if threads is not None and threads < 1:
        raise ValueError(f"threads must be >= 1, not {threads}")
    providers = providers_for(device)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads if threads is not None else default_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if options.intra_op_num_threads > 1:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(model, sess_options=options, providers=providers)
    except Exception as exc:
        where = model if isinstance(model, str) else "model"
        raise DetectorError(f"onnxruntime cannot load {where}: {exc}") from exc
    active = session.get_providers()
    if active[0] != providers[0]:
        raise DetectorError(
            f"onnxruntime did not start {providers[0]} for device {device!r} "
            f"(active: {', '.join(active)}); check the GPU drivers and libraries, "
            "or use device='cpu'"
        )
    return session
