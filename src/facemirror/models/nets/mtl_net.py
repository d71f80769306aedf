"""OpenFace 3.0's multitask network (``model/MTL.py``): EfficientNet-B0 + emotion, gaze and graph-AU heads.

The backbone is timm's ``tf_efficientnet_b0_ns`` written out by hand (timm
needs torchvision): TF "SAME" padding, BatchNorm eps 1e-3, SiLU, squeeze-excite
reduced to a quarter of each block's input channels. Module names reproduce
the official ``MTL_backbone.pth`` state dict key for key (``base_model.*``,
``fc_*``, ``emotion_classifier``, ``gaze_regressor``, ``au_regressor.*``).
The forward pass has no data-dependent Python control flow, so it exports to
ONNX (opset 17: the AU graph's top-k threshold is a ``TopK`` node) with a
dynamic batch axis.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn

#: BatchNorm epsilon of TF-ported EfficientNets
BN_EPS = 1e-3
#: width of the backbone features and of every head's hidden layer
FEATURES = 1280
#: AU graph nodes, emotion classes, gaze angles
NUM_AUS = 8
NUM_EMOTIONS = 8
NUM_GAZE = 2
#: neighbours kept per node when the AU graph is built (``Head(neighbor_num=4)``)
AU_NEIGHBOURS = 4

#: EfficientNet-B0 stages: (block kind, repeats, kernel, first stride, expansion, output channels)
B0_STAGES = (
    ("ds", 1, 3, 1, 1, 16),
    ("ir", 2, 3, 2, 6, 24),
    ("ir", 2, 5, 2, 6, 40),
    ("ir", 3, 3, 2, 6, 80),
    ("ir", 3, 5, 1, 6, 112),
    ("ir", 4, 5, 2, 6, 192),
    ("ir", 1, 3, 1, 6, 320),
)
STEM_CHANNELS = 32
SE_RATIO = 0.25


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF "SAME" padding (before, after) of one axis: ``max((ceil(size/s)-1)*s + k - size, 0)``, extra after."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _static_int(size: int | torch.Tensor) -> int:
    """A tensor size as a Python int; inside a trace it becomes a constant, which is intended here."""
    if isinstance(size, torch.Tensor):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            return int(size)
    return int(size)


class SameConv2d(nn.Conv2d):
    """Conv2d with TF "SAME" padding: symmetric ``k//2`` at stride 1, input-dependent and asymmetric at stride 2.

    The pads are Python ints computed from the input's static shape, so a
    traced export of a fixed input size holds constant ``Pad`` amounts.
    """

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, bias: bool = False) -> None:
        super().__init__(cin, cout, kernel, stride, padding=kernel // 2 if stride == 1 else 0, groups=groups, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride[0] == 1:
            return super().forward(x)
        top, bottom = same_padding(_static_int(x.shape[-2]), self.kernel_size[0], self.stride[0])
        left, right = same_padding(_static_int(x.shape[-1]), self.kernel_size[1], self.stride[1])
        return super().forward(F.pad(x, (left, right, top, bottom)))


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


class SqueezeExcite(nn.Module):
    """Channel gate: mean pool -> 1x1 reduce -> SiLU -> 1x1 expand -> sigmoid, times the input."""

    def __init__(self, channels: int, reduced: int) -> None:
        super().__init__()
        self.conv_reduce = nn.Conv2d(channels, reduced, 1, bias=True)
        self.conv_expand = nn.Conv2d(reduced, channels, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean((2, 3), keepdim=True)
        return x * torch.sigmoid(self.conv_expand(F.silu(self.conv_reduce(s))))


class DepthwiseSeparable(nn.Module):
    """timm ``DepthwiseSeparableConv`` (stage 0): dw conv -> BN+SiLU -> SE -> pw conv -> BN (+ input if same shape)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.conv_dw = SameConv2d(cin, cin, kernel, stride, groups=cin)
        self.bn1 = _bn(cin)
        self.se = SqueezeExcite(cin, round(cin * SE_RATIO))
        self.conv_pw = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn2 = _bn(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv_pw(self.se(F.silu(self.bn1(self.conv_dw(x))))))
        return x + y if self.residual else y


class InvertedResidual(nn.Module):
    """timm ``InvertedResidual`` (MBConv): pw expand -> BN+SiLU -> dw -> BN+SiLU -> SE -> pw project -> BN."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expansion: int) -> None:
        super().__init__()
        mid = cin * expansion
        self.conv_pw = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn1 = _bn(mid)
        self.conv_dw = SameConv2d(mid, mid, kernel, stride, groups=mid)
        self.bn2 = _bn(mid)
        # timm divides the SE ratio by the expansion: the gate is sized from the block input
        self.se = SqueezeExcite(mid, round(cin * SE_RATIO))
        self.conv_pwl = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = _bn(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.silu(self.bn1(self.conv_pw(x)))
        y = self.se(F.silu(self.bn2(self.conv_dw(y))))
        y = self.bn3(self.conv_pwl(y))
        return x + y if self.residual else y


class EfficientNetB0(nn.Module):
    """``tf_efficientnet_b0_ns`` without its classifier: image (B,3,H,W) -> pooled features (B,1280)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv_stem = SameConv2d(3, STEM_CHANNELS, 3, stride=2)
        self.bn1 = _bn(STEM_CHANNELS)
        stages: list[nn.Module] = []
        cin = STEM_CHANNELS
        for kind, repeats, kernel, stride, expansion, cout in B0_STAGES:
            blocks: list[nn.Module] = []
            for i in range(repeats):
                s = stride if i == 0 else 1
                if kind == "ds":
                    blocks.append(DepthwiseSeparable(cin, cout, kernel, s))
                else:
                    blocks.append(InvertedResidual(cin, cout, kernel, s, expansion))
                cin = cout
            stages.append(nn.Sequential(*blocks))
        self.blocks = nn.Sequential(*stages)
        self.conv_head = nn.Conv2d(cin, FEATURES, 1, bias=False)
        self.bn2 = _bn(FEATURES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.silu(self.bn1(self.conv_stem(x)))
        x = self.blocks(x)
        x = F.silu(self.bn2(self.conv_head(x)))
        return x.mean((2, 3))


class AUGraph(nn.Module):
    """ME-GraphAU's ``GNN`` (metric ``dots``): a top-k dot-product graph over the AU nodes, one residual update.

    ``x' = relu(x + bnv(D^-1/2 A D^-1/2 @ V(x) + U(x)))`` where ``A[i, j] = 1``
    when node j's similarity to i is at least i's k-th largest.
    """

    def __init__(self, channels: int = FEATURES, nodes: int = NUM_AUS, neighbours: int = AU_NEIGHBOURS) -> None:
        super().__init__()
        self.neighbours = neighbours
        self.U = nn.Linear(channels, channels)
        self.V = nn.Linear(channels, channels)
        self.bnv = nn.BatchNorm1d(nodes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        si = torch.bmm(x, x.transpose(1, 2))
        threshold = si.topk(self.neighbours, dim=-1).values[:, :, -1:]
        adjacency = (si >= threshold).to(x.dtype)
        inv_sqrt_degree = adjacency.sum(-1) ** -0.5
        normalized = inv_sqrt_degree.unsqueeze(2) * adjacency * inv_sqrt_degree.unsqueeze(1)
        return F.relu(x + self.bnv(torch.bmm(normalized, self.V(x)) + self.U(x)))


class AUHead(nn.Module):
    """OpenFace 3.0's AU ``Head``: one linear per AU, the graph update, cosine to a learned per-AU vector.

    Scores are cosines of non-negative vectors, so they lie in [0, 1]; no sigmoid.
    """

    def __init__(self, channels: int = FEATURES, nodes: int = NUM_AUS) -> None:
        super().__init__()
        self.class_linears = nn.ModuleList(nn.Linear(channels, channels) for _ in range(nodes))
        self.gnn = AUGraph(channels, nodes)
        self.sc = nn.Parameter(torch.zeros(nodes, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = torch.stack([linear(x) for linear in self.class_linears], dim=1)
        nodes = F.normalize(self.gnn(nodes), p=2, dim=-1)
        prototypes = F.normalize(F.relu(self.sc), p=2, dim=-1)
        return (nodes * prototypes.unsqueeze(0)).sum(-1)


class MTLNet(nn.Module):
    """Image (B,3,224,224), ImageNet-normalized RGB -> (emotion logits (B,8), gaze yaw/pitch (B,2), AU scores (B,8))."""

    def __init__(self) -> None:
        super().__init__()
        self.base_model = EfficientNetB0()
        self.fc_emotion = nn.Linear(FEATURES, FEATURES)
        self.fc_gaze = nn.Linear(FEATURES, FEATURES)
        self.fc_au = nn.Linear(FEATURES, FEATURES)
        self.emotion_classifier = nn.Linear(FEATURES, NUM_EMOTIONS)
        self.gaze_regressor = nn.Linear(FEATURES, NUM_GAZE)
        self.au_regressor = AUHead()

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        features = self.base_model(image)
        emotion = self.emotion_classifier(F.relu(self.fc_emotion(features)))
        gaze = self.gaze_regressor(F.relu(self.fc_gaze(features)))
        au = self.au_regressor(F.relu(self.fc_au(features)))
        return emotion, gaze, au
