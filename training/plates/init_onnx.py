"""Load the weights of an exported PlateNet ONNX file back into a PlateNetModel.

The exporter folds every BatchNorm into the convolution before it, so the file holds, for each
ConvBNReLU, one weight and one bias. They are loaded as the convolution's weight and an identity
BatchNorm (scale 1, shift = the folded bias, running mean 0, running variance 1 - eps): in eval
mode the torch model then computes what the ONNX file computes. Fine-tune with BatchNorm kept in
eval mode (``freeze_batchnorm``) so batch statistics do not replace the folded ones.
"""

from __future__ import annotations

from pathlib import Path

import onnx
import torch
from model import ConvBNReLU, PlateNetModel
from onnx import numpy_helper
from torch import nn


def _folded_convs(graph: onnx.GraphProto) -> list[tuple[str, str]]:
    """(weight, bias) initializer names of the folded ConvBNReLU convs, in graph order."""
    out = []
    for node in graph.node:
        if node.op_type == "Conv" and not node.input[1].startswith("model."):
            out.append((node.input[1], node.input[2]))
    return out


def load_onnx_weights(model: PlateNetModel, path: Path) -> None:
    """Copy the weights of ``path`` into ``model`` (same architecture); raises on mismatch."""
    proto = onnx.load(str(path))
    tensors = {
        t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in proto.graph.initializer
    }
    blocks = [m for m in model.modules() if isinstance(m, ConvBNReLU)]
    folded = _folded_convs(proto.graph)
    if len(folded) != len(blocks):
        raise ValueError(f"{path}: {len(folded)} folded convs, model has {len(blocks)}")
    with torch.no_grad():
        for block, (weight, bias) in zip(blocks, folded, strict=True):
            conv, norm = block[0], block[1]
            conv.weight.copy_(tensors[weight])
            norm.weight.fill_(1.0)
            norm.bias.copy_(tensors[bias])
            norm.running_mean.zero_()
            norm.running_var.fill_(1.0 - norm.eps)
        state = model.state_dict()
        for name, value in tensors.items():
            if name.startswith("model."):
                state[name[len("model.") :]].copy_(value)


def freeze_batchnorm(model: nn.Module) -> None:
    """Keep every BatchNorm in eval mode (running statistics fixed; scale and shift train)."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eval()
