"""STAR's ``StackedHGNetV1`` (4 hourglass stacks, 98 WFLW points, AAM), inference only.

Module names reproduce the official ``Landmark_98.pkl`` state dict (1450
entries under ``"net"``): every ``ResBlock`` owns a ``skip_layer`` even where
it is unused, and the fixed edge-to-point matrix ``e2h_transform.weight/bias``
is a persistent buffer. The coordinate channels are non-persistent buffers, so
they stay out of the state dict. ``forward`` returns only the last stack's
soft-argmax landmarks in [-1, 1], the one output the reference uses.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

NUM_POINTS = 98
#: WFLW edges (face contour, brows, nose line, nose, eyes, outer and inner lip) as point ranges
WFLW_EDGES: tuple[tuple[int, int], ...] = (
    (0, 33),
    (33, 42),
    (42, 51),
    (51, 55),
    (55, 60),
    (60, 68),
    (68, 76),
    (76, 88),
    (88, 96),
)
#: side of the network input and of its heatmaps
INPUT_SIZE = 256
HEATMAP_SIZE = 64
#: a previous-stack heatmap value above this marks the boundary channels
BOUNDARY_THRESHOLD = 0.05


def coord_channels(size: int) -> torch.Tensor:
    """``(1, 3, size, size)``: "xx" (varies along rows), "yy" (along columns), radius / its max, as STAR builds them.

    STAR's naming is transposed: its "xx" channel holds the row coordinate.
    The channels are square here, so only that orientation matters.
    """
    ramp = torch.arange(size, dtype=torch.float32) / (size - 1) * 2 - 1
    xx = ramp.view(size, 1).expand(size, size)
    yy = ramp.view(1, size).expand(size, size)
    rr = torch.sqrt(xx**2 + yy**2)
    return torch.stack([xx, yy, rr / rr.max()]).unsqueeze(0).contiguous()


def e2h_matrix(edges: tuple[tuple[int, int], ...] = WFLW_EDGES, num_points: int = NUM_POINTS) -> torch.Tensor:
    """``(num_points, num_edges)`` 0/1 matrix: point p lies on edge e."""
    matrix = torch.zeros(num_points, len(edges))
    for e, (start, stop) in enumerate(edges):
        matrix[start:stop, e] = 1
    return matrix


class ConvBlock(nn.Module):
    """Conv (with bias, "same" padding) [-> BN] [-> ReLU]; keys ``conv.*`` and ``bn.*``."""

    def __init__(self, cin: int, cout: int, kernel: int = 1, bn: bool = False, relu: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, 1, (kernel - 1) // 2)
        self.bn = nn.BatchNorm2d(cout) if bn else None
        self.relu = nn.ReLU() if relu else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.relu is not None:
            x = self.relu(x)
        return x


class ResBlock(nn.Module):
    """Pre-activation bottleneck (BN-ReLU-1x1, BN-ReLU-3x3, BN-ReLU-1x1) plus a 1x1 skip when channels change.

    ``skip_layer`` always exists (the checkpoint holds it) but is used only
    when ``cin != cout``.
    """

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        mid = cout // 2
        self.relu = nn.ReLU()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = ConvBlock(cin, mid, 1)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv2 = ConvBlock(mid, mid, 3)
        self.bn3 = nn.BatchNorm2d(mid)
        self.conv3 = ConvBlock(mid, cout, 1)
        self.skip_layer = ConvBlock(cin, cout, 1)
        self.need_skip = cin != cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.skip_layer(x) if self.need_skip else x
        out = self.conv1(self.relu(self.bn1(x)))
        out = self.conv2(self.relu(self.bn2(out)))
        out = self.conv3(self.relu(self.bn3(out)))
        return out + residual


class CoordConvTh(nn.Module):
    """Conv over the input concatenated with coordinate channels (and, after stack 0, boundary channels)."""

    coords: torch.Tensor

    def __init__(
        self,
        size: int,
        cin: int,
        cout: int,
        kernel: int,
        stride: int = 1,
        boundary: bool = False,
        bn: bool = False,
        relu: bool = False,
    ) -> None:
        super().__init__()
        extra = 3 + (2 if boundary else 0)
        self.conv = nn.Conv2d(cin + extra, cout, kernel, stride, kernel // 2)
        self.bn = nn.BatchNorm2d(cout) if bn else None
        self.relu = nn.ReLU() if relu else None
        self.register_buffer("coords", coord_channels(size), persistent=False)

    def forward(self, x: torch.Tensor, heatmap: torch.Tensor | None = None) -> torch.Tensor:
        coords = self.coords.expand(x.shape[0], -1, -1, -1)
        parts = [x, coords]
        if heatmap is not None:
            # STAR: where(clamp(last heatmap channel, 0, 1) > 0.05, xx/yy, 0); the clamp cannot change the test
            on = heatmap[:, -1:] > BOUNDARY_THRESHOLD
            parts.append(torch.where(on, coords[:, :2], torch.zeros_like(coords[:, :2])))
        out = self.conv(torch.cat(parts, dim=1))
        if self.bn is not None:
            out = self.bn(out)
        if self.relu is not None:
            out = self.relu(out)
        return out


class Hourglass(nn.Module):
    """Recursive hourglass of depth ``n``; only the top level has the coordinate conv."""

    def __init__(self, n: int, f: int, coordconv: CoordConvTh | None = None) -> None:
        super().__init__()
        self.coordconv = coordconv
        self.up1 = ResBlock(f, f)
        self.pool1 = nn.MaxPool2d(2, 2)
        self.low1 = ResBlock(f, f)
        self.low2: nn.Module = Hourglass(n - 1, f) if n > 1 else ResBlock(f, f)
        self.low3 = ResBlock(f, f)
        self.up2 = nn.Upsample(scale_factor=2, mode="nearest")

    def forward(self, x: torch.Tensor, heatmap: torch.Tensor | None = None) -> torch.Tensor:
        if self.coordconv is not None:
            x = self.coordconv(x, heatmap)
        return self.up1(x) + self.up2(self.low3(self.low2(self.low1(self.pool1(x)))))


class E2HTransform(nn.Module):
    """Edge maps -> per-point weights through the fixed point-on-edge matrix; points on no edge get bias 1."""

    weight: torch.Tensor
    bias: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        matrix = e2h_matrix()
        self.register_buffer("weight", matrix.view(*matrix.shape, 1, 1).clone())
        self.register_buffer("bias", (matrix.sum(1) < 0.5).float())

    def forward(self, edgemaps: torch.Tensor) -> torch.Tensor:
        return F.conv2d(edgemaps, self.weight, self.bias)


class StackedHGNetV1(nn.Module):
    """``input`` (N,3,256,256) BGR in [-1,1] -> ``landmarks`` (N,98,2) x,y in [-1,1] (align-corners grid)."""

    grid: torch.Tensor

    def __init__(
        self, nstack: int = 4, nlevels: int = 4, channels: int = 256, num_edges: int = len(WFLW_EDGES)
    ) -> None:
        super().__init__()
        self.nstack = nstack
        self.pre = nn.Sequential(
            CoordConvTh(INPUT_SIZE, 3, 64, kernel=7, stride=2, bn=True, relu=True),
            ResBlock(64, 128),
            nn.MaxPool2d(2, 2),
            ResBlock(128, 128),
            ResBlock(128, channels),
        )
        self.hgs = nn.ModuleList(
            [
                Hourglass(nlevels, channels, CoordConvTh(HEATMAP_SIZE, channels, channels, kernel=1, boundary=i > 0))
                for i in range(nstack)
            ]
        )
        self.features = nn.ModuleList(
            [
                nn.Sequential(ResBlock(channels, channels), ConvBlock(channels, channels, 1, bn=True, relu=True))
                for _ in range(nstack)
            ]
        )
        self.out_heatmaps = nn.ModuleList([ConvBlock(channels, NUM_POINTS) for _ in range(nstack)])
        self.e2h_transform = E2HTransform()
        self.out_edgemaps = nn.ModuleList([ConvBlock(channels, num_edges) for _ in range(nstack)])
        self.out_pointmaps = nn.ModuleList([ConvBlock(channels, NUM_POINTS) for _ in range(nstack)])
        self.merge_edgemaps = nn.ModuleList([ConvBlock(num_edges, channels) for _ in range(nstack - 1)])
        self.merge_pointmaps = nn.ModuleList([ConvBlock(NUM_POINTS, channels) for _ in range(nstack - 1)])
        self.merge_features = nn.ModuleList([ConvBlock(channels, channels) for _ in range(nstack - 1)])
        self.merge_heatmaps = nn.ModuleList([ConvBlock(NUM_POINTS, channels) for _ in range(nstack - 1)])
        self.register_buffer(
            "grid", torch.arange(HEATMAP_SIZE, dtype=torch.float32) / (HEATMAP_SIZE - 1) * 2 - 1, persistent=False
        )

    def soft_argmax(self, maps: torch.Tensor) -> torch.Tensor:
        """``(N, P, H, W)`` non-negative maps -> ``(N, P, 2)`` expected x, y on the [-1, 1] grid."""
        total = torch.clamp(maps.sum((2, 3)), min=1e-6)
        y = (maps * self.grid.view(1, 1, -1, 1)).sum((2, 3)) / total
        x = (maps * self.grid.view(1, 1, 1, -1)).sum((2, 3)) / total
        return torch.stack([x, y], dim=-1)

    def _stack(
        self, i: int, x: torch.Tensor, heatmaps: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Stack ``i``: its feature map, ``relu(instance_norm)`` heatmaps, sigmoid point maps and edge maps."""
        feature = self.features[i](self.hgs[i](x, heatmaps))
        heatmaps = F.relu(F.instance_norm(self.out_heatmaps[i](feature)))
        pointmaps = torch.sigmoid(self.out_pointmaps[i](feature))
        edgemaps = torch.sigmoid(self.out_edgemaps[i](feature))
        return feature, heatmaps, pointmaps, edgemaps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pre(x)
        heatmaps: torch.Tensor | None = None
        for i in range(self.nstack - 1):
            feature, heatmaps, pointmaps, edgemaps = self._stack(i, x, heatmaps)
            x = x + self.merge_features[i](feature) + self.merge_heatmaps[i](heatmaps)
            x = x + self.merge_pointmaps[i](pointmaps)
            x = x + self.merge_edgemaps[i](edgemaps)
        _, heatmaps, pointmaps, edgemaps = self._stack(self.nstack - 1, x, heatmaps)
        return self.soft_argmax(self.e2h_transform(edgemaps) * pointmaps * heatmaps)
