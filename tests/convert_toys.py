"""Tiny torch networks for the conversion tests: one ANE-friendly, one with ops known to fall off the ANE."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn


class Toy(nn.Module):
    """conv -> BN -> ReLU -> global mean -> linear, plus a softmax head: (N,3,16,16) -> (N,4), (N,4)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.relu(self.bn(self.conv(x))).mean(dim=(2, 3))
        logits = self.fc(y)
        return logits, torch.softmax(logits, dim=1)


class OffAneToy(nn.Module):
    """A dilated convolution and a topk: two things the ANE report must flag."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=2, dilation=2)
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.conv(x)).mean(dim=(2, 3))
        return torch.topk(self.fc(y), 2, dim=1).values


def seeded(module: nn.Module, seed: int = 0) -> nn.Module:
    """Fill every parameter and BN buffer from a seeded generator (running_var positive); eval mode."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if not tensor.is_floating_point():
                continue
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=gen) + 0.5)
            else:
                tensor.copy_(torch.randn(tensor.shape, generator=gen) * 0.5)
    return module.eval()


def save_weights(module: nn.Module, path: Path) -> Path:
    torch.save(module.state_dict(), path)
    return path


def image_batch(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 3, 16, 16), dtype=np.float32)
