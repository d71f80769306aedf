"""Deterministic random weights in a network's own state-dict layout, and broken variants of a checkpoint file.

Used by the per-network fixture modules (``fixtures_retinaface``,
``fixtures_star``) to exercise the real loading path without the official
(non-redistributable) weight files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch


def random_state_dict(
    module: torch.nn.Module, seed: int, keep: Iterable[str] = (), gain: float = 0.5
) -> dict[str, torch.Tensor]:
    """Every floating tensor of ``module.state_dict()`` drawn from one seeded generator, at sane scales.

    Conv/linear weights ~ N(0, gain/fan_in) (0.5 keeps deep random stacks such
    as STAR's from saturating their sigmoids); biases small; BatchNorm weights
    near 1, running means near 0, running variances in [0.5, 1.5]. Names in
    ``keep`` (fixed buffers) and integer tensors keep the module's values.
    """
    g = torch.Generator().manual_seed(seed)
    keep = set(keep)
    out: dict[str, torch.Tensor] = {}
    for name, value in module.state_dict().items():
        if name in keep or not value.is_floating_point():
            out[name] = value.clone()
        elif name.endswith("running_var"):
            out[name] = torch.rand(value.shape, generator=g) + 0.5
        elif name.endswith("running_mean"):
            out[name] = 0.1 * torch.randn(value.shape, generator=g)
        elif value.dim() > 1:
            fan_in = value[0].numel()
            out[name] = torch.randn(value.shape, generator=g) * (gain / fan_in) ** 0.5
        elif name.endswith("weight"):  # BatchNorm scale
            out[name] = 1.0 + 0.1 * torch.randn(value.shape, generator=g)
        else:
            out[name] = 0.05 * torch.randn(value.shape, generator=g)
    return out


def save_checkpoint(state: dict[str, torch.Tensor], path: Path, container: str | None = None) -> Path:
    """``torch.save`` ``state`` (plain, or as ``{container: state, "epoch": 0}``) to ``path``."""
    obj: Any = state if container is None else {container: state, "epoch": 0}
    torch.save(obj, path)
    return path


def write_truncated(source: Path, path: Path) -> Path:
    """The first half of ``source``'s bytes."""
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _edited(state: dict[str, torch.Tensor], edit: Callable[[dict[str, torch.Tensor]], None]) -> dict[str, torch.Tensor]:
    copy = dict(state)
    edit(copy)
    return copy


def without(state: dict[str, torch.Tensor], name: str) -> dict[str, torch.Tensor]:
    """``state`` less tensor ``name``."""
    return _edited(state, lambda s: s.pop(name))


def with_extra(state: dict[str, torch.Tensor], name: str) -> dict[str, torch.Tensor]:
    """``state`` plus a stray tensor ``name``."""
    return _edited(state, lambda s: s.__setitem__(name, torch.zeros(3)))


def misshapen(state: dict[str, torch.Tensor], name: str) -> dict[str, torch.Tensor]:
    """``state`` with tensor ``name`` given one extra row."""
    return _edited(state, lambda s: s.__setitem__(name, torch.zeros((s[name].shape[0] + 1, *s[name].shape[1:]))))
