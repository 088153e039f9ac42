"""PlateNet: a small CenterNet-style licence-plate detector (stride-4 output, FPN neck).

Input: RGB float32 N×3×H×W in 0..1 (H, W multiples of 32). Outputs, at stride 4:
``heat`` (N×1×H/4×W/4, sigmoid plate-centre probability), ``peaks`` (the same, zero where a
cell is not a 3×3 local maximum), ``size`` (log of box width and height in stride units) and
``offset`` (sub-cell centre offset).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

STRIDE = 4


class ConvBNReLU(nn.Sequential):
    def __init__(self, cin: int, cout: int, stride: int = 1, kernel: int = 3) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )


DEFAULT_WIDTHS = (16, 24, 48, 64, 96)
DEFAULT_NECK = 48


class PlateNetModel(nn.Module):
    def __init__(self, widths: tuple[int, ...] = DEFAULT_WIDTHS, neck: int = DEFAULT_NECK) -> None:
        super().__init__()
        w0, w4, w8, w16, w32 = widths
        self.stem = ConvBNReLU(3, w0, 2)
        self.s4 = nn.Sequential(ConvBNReLU(w0, w4, 2), ConvBNReLU(w4, w4))
        self.s8 = nn.Sequential(ConvBNReLU(w4, w8, 2), ConvBNReLU(w8, w8))
        self.s16 = nn.Sequential(ConvBNReLU(w8, w16, 2), ConvBNReLU(w16, w16))
        self.s32 = nn.Sequential(ConvBNReLU(w16, w32, 2), ConvBNReLU(w32, w32))
        head = 32
        self.lat32 = nn.Conv2d(w32, neck, 1)
        self.lat16 = nn.Conv2d(w16, neck, 1)
        self.lat8 = nn.Conv2d(w8, neck, 1)
        self.lat4 = nn.Conv2d(w4, head, 1)
        self.fuse16 = ConvBNReLU(neck, neck)
        self.fuse8 = ConvBNReLU(neck, head)
        self.fuse4 = ConvBNReLU(head, head)
        self.head = ConvBNReLU(head, head)
        self.heat = nn.Conv2d(head, 1, 1)
        self.size = nn.Conv2d(head, 2, 1)
        self.offset = nn.Conv2d(head, 2, 1)
        nn.init.constant_(self.heat.bias, -4.6)  # prior 0.01, as in CenterNet

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Raw outputs: heat logits, log-size, offset."""
        c4 = self.s4(self.stem(x))
        c8 = self.s8(c4)
        c16 = self.s16(c8)
        c32 = self.s32(c16)
        p16 = self.fuse16(self.lat16(c16) + F.interpolate(self.lat32(c32), scale_factor=2.0))
        p8 = self.fuse8(self.lat8(c8) + F.interpolate(p16, scale_factor=2.0))
        p4 = self.fuse4(self.lat4(c4) + F.interpolate(p8, scale_factor=2.0))
        h = self.head(p4)
        return self.heat(h), self.size(h), self.offset(h)


class ExportWrapper(nn.Module):
    """What goes into the ONNX file: sigmoid heat, 3×3 peaks, size and offset."""

    def __init__(self, model: PlateNetModel) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        logits, size, offset = self.model(x)
        heat = torch.sigmoid(logits)
        pooled = F.max_pool2d(heat, 3, 1, 1)
        peaks = heat * (pooled == heat).to(heat.dtype)
        return heat, peaks, size, offset


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
