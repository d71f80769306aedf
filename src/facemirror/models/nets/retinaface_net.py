"""RetinaFace with a MobileNetV1x0.25 body (``cfg_mnet`` of biubug6/Pytorch_Retinaface), test phase.

Module names reproduce the official ``mobilenet0.25_Final.pth`` state dict key
for key (``body.stage1.0.0.weight`` ... ``LandmarkHead.2.conv1x1.bias``,
including SSH's ``conv7X7_2`` beside ``conv7x7_3``). The forward pass is pure
tensor code (sizes come from tensor shapes), so it exports to ONNX with
dynamic batch, height and width.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: negative slope of every LeakyReLU in the mobilenet0.25 configuration
LEAKY = 0.1
#: anchors per feature-map cell
ANCHORS = 2


def _conv_bn(cin: int, cout: int, kernel: int = 3, stride: int = 1, leaky: float | None = LEAKY) -> nn.Sequential:
    """Conv (no bias) -> BN [-> LeakyReLU]; ``leaky=None`` leaves the activation out."""
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if leaky is not None:
        layers.append(nn.LeakyReLU(leaky))
    return nn.Sequential(*layers)


def _conv_dw(cin: int, cout: int, stride: int) -> nn.Sequential:
    """Depthwise 3x3 -> BN -> LeakyReLU -> pointwise 1x1 -> BN -> LeakyReLU (keys 0,1 and 3,4)."""
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False),
        nn.BatchNorm2d(cin),
        nn.LeakyReLU(LEAKY),
        nn.Conv2d(cin, cout, 1, 1, 0, bias=False),
        nn.BatchNorm2d(cout),
        nn.LeakyReLU(LEAKY),
    )


class MobileNetV1Body(nn.Module):
    """MobileNetV1x0.25 up to stride 32; returns the stride 8, 16 and 32 feature maps (64, 128, 256 ch)."""

    def __init__(self) -> None:
        super().__init__()
        self.stage1 = nn.Sequential(
            _conv_bn(3, 8, stride=2),
            _conv_dw(8, 16, 1),
            _conv_dw(16, 32, 2),
            _conv_dw(32, 32, 1),
            _conv_dw(32, 64, 2),
            _conv_dw(64, 64, 1),
        )
        self.stage2 = nn.Sequential(_conv_dw(64, 128, 2), *[_conv_dw(128, 128, 1) for _ in range(5)])
        self.stage3 = nn.Sequential(_conv_dw(128, 256, 2), _conv_dw(256, 256, 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c1 = self.stage1(x)
        c2 = self.stage2(c1)
        c3 = self.stage3(c2)
        return c1, c2, c3


class FPN(nn.Module):
    """1x1 lateral convs to 64 ch, top-down nearest upsampling, 3x3 merge convs."""

    def __init__(self, in_channels: tuple[int, int, int] = (64, 128, 256), out_channels: int = 64) -> None:
        super().__init__()
        self.output1 = _conv_bn(in_channels[0], out_channels, kernel=1)
        self.output2 = _conv_bn(in_channels[1], out_channels, kernel=1)
        self.output3 = _conv_bn(in_channels[2], out_channels, kernel=1)
        self.merge1 = _conv_bn(out_channels, out_channels)
        self.merge2 = _conv_bn(out_channels, out_channels)

    def forward(
        self, c1: torch.Tensor, c2: torch.Tensor, c3: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        p1 = self.output1(c1)
        p2 = self.output2(c2)
        p3 = self.output3(c3)
        p2 = self.merge2(p2 + F.interpolate(p3, size=p2.shape[-2:], mode="nearest"))
        p1 = self.merge1(p1 + F.interpolate(p2, size=p1.shape[-2:], mode="nearest"))
        return p1, p2, p3


class SSH(nn.Module):
    """Single-stage headless context module: 3x3 | 5x5 | 7x7 (stacked 3x3) branches, concatenated, ReLU."""

    def __init__(self, cin: int = 64, cout: int = 64) -> None:
        super().__init__()
        quarter = cout // 4
        self.conv3X3 = _conv_bn(cin, cout // 2, leaky=None)
        self.conv5X5_1 = _conv_bn(cin, quarter)
        self.conv5X5_2 = _conv_bn(quarter, quarter, leaky=None)
        self.conv7X7_2 = _conv_bn(quarter, quarter)
        self.conv7x7_3 = _conv_bn(quarter, quarter, leaky=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.conv5X5_1(x)
        out = torch.cat([self.conv3X3(x), self.conv5X5_2(b5), self.conv7x7_3(self.conv7X7_2(b5))], dim=1)
        return F.relu(out)


class _Head(nn.Module):
    """A 1x1 conv whose output is laid out as ``(N, H*W*anchors, k)`` in row-major cell order."""

    def __init__(self, cin: int, k: int) -> None:
        super().__init__()
        self.k = k
        self.conv1x1 = nn.Conv2d(cin, ANCHORS * k, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1x1(x).permute(0, 2, 3, 1)
        return out.reshape(out.shape[0], -1, self.k)


class RetinaFaceNet(nn.Module):
    """``input`` (N,3,H,W) BGR - (104,117,123) -> ``loc`` (N,P,4), softmaxed ``conf`` (N,P,2), ``landms`` (N,P,10)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = MobileNetV1Body()
        self.fpn = FPN()
        self.ssh1 = SSH()
        self.ssh2 = SSH()
        self.ssh3 = SSH()
        self.ClassHead = nn.ModuleList([_Head(64, 2) for _ in range(3)])
        self.BboxHead = nn.ModuleList([_Head(64, 4) for _ in range(3)])
        self.LandmarkHead = nn.ModuleList([_Head(64, 10) for _ in range(3)])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        p1, p2, p3 = self.fpn(*self.body(x))
        feats = (self.ssh1(p1), self.ssh2(p2), self.ssh3(p3))
        loc = torch.cat([head(f) for head, f in zip(self.BboxHead, feats)], dim=1)
        logits = torch.cat([head(f) for head, f in zip(self.ClassHead, feats)], dim=1)
        landms = torch.cat([head(f) for head, f in zip(self.LandmarkHead, feats)], dim=1)
        return loc, F.softmax(logits, dim=-1), landms
