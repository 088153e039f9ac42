"""Export a trained PlateNetModel to ONNX with symbolic height and width."""

from __future__ import annotations

import hashlib
from pathlib import Path

import onnx
import torch
from model import DEFAULT_NECK, DEFAULT_WIDTHS, ExportWrapper, PlateNetModel

OUTPUT_NAMES = ["heat", "peaks", "size", "offset"]


def metadata(training: str) -> dict[str, str]:
    """The ONNX metadata of a PlateNet export; ``training`` is the command that made it."""
    return {
        "name": "fastredact-platenet",
        "license": "MIT",
        "stride": "4",
        "input": "RGB float32 NCHW 0..1, H and W multiples of 32",
        "training": training,
    }


def export_onnx(model: PlateNetModel, path: Path, metadata: dict[str, str]) -> str:
    """Write ``path`` (opset 17, dims N, H, W symbolic); returns its SHA-256."""
    wrapper = ExportWrapper(model).eval().to(memory_format=torch.contiguous_format)
    dummy = torch.zeros(1, 3, 416, 416)
    dynamic = {"image": {0: "N", 2: "H", 3: "W"}}
    for name in OUTPUT_NAMES:
        dynamic[name] = {0: "N", 2: "H4", 3: "W4"}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        wrapper,
        (dummy,),
        str(path),
        input_names=["image"],
        output_names=OUTPUT_NAMES,
        dynamic_axes=dynamic,
        opset_version=17,
        dynamo=False,
    )
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    for key, value in sorted(metadata.items()):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.producer_name = "fastredact-training"
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    """Export a checkpoint saved by train.py (``ema-STEP.pt``), e.g. of a run stopped early."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--training", required=True, help="the train.py command, for metadata")
    parser.add_argument("--widths", type=int, nargs=5, default=DEFAULT_WIDTHS)
    parser.add_argument("--neck", type=int, default=DEFAULT_NECK)
    args = parser.parse_args()
    model = PlateNetModel(tuple(args.widths), args.neck)
    model.load_state_dict(torch.load(args.checkpoint, map_location="cpu"))
    print(export_onnx(model.eval(), args.out, metadata(args.training)))


if __name__ == "__main__":
    main()
