"""Deterministic random weights in a network's own state-dict layout, and broken variants of a checkpoint file.

Used by the per-network fixture modules (``fixtures_retinaface``,
``fixtures_star``, ``fixtures_mtl``) to exercise the real loading path without
the official (non-redistributable) weight files, and by each network's tests
to check every broken variant (:data:`BROKEN_CASES`) with one :class:`Breakage`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

from facemirror.errors import WeightsCorruptError, WeightsError, WeightsMissingError

#: every way a network's tests break its checkpoint (see :meth:`Breakage.write`)
BROKEN_CASES = ("absent", "truncated", "missing", "extra", "misshapen", "foreign")


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


@dataclass(frozen=True)
class Breakage:
    """How one network's checkpoint is broken for the loading-error tests, and what its loader must then say.

    ``missing``, ``extra`` and ``misshapen`` name the tensor a broken file drops, adds, or grows by one row
    (``shape`` is that tensor's right shape). ``foreign`` writes another network's checkpoint at a path;
    loading it must raise ``foreign_error`` naming each of ``foreign_names``. ``container`` and ``suffix``
    follow the network's official file (e.g. STAR's ``{"net": ...}`` ``.pkl``).
    """

    missing: str
    extra: str
    misshapen: str
    shape: tuple[int, ...]
    foreign: Callable[[Path], Path]
    foreign_error: type[Exception]
    foreign_names: tuple[str, ...]
    container: str | None = None
    suffix: str = ".pth"

    def write(self, good: Path, state: dict[str, torch.Tensor], folder: Path) -> dict[str, Path]:
        """Each of :data:`BROKEN_CASES` as a file in ``folder`` (``absent`` is not created), from ``good``/``state``."""

        def path(case: str) -> Path:
            return folder / f"{case}{self.suffix}"

        return {
            "absent": path("absent"),
            "truncated": write_truncated(good, path("truncated")),
            "missing": save_checkpoint(without(state, self.missing), path("missing"), self.container),
            "extra": save_checkpoint(with_extra(state, self.extra), path("extra"), self.container),
            "misshapen": save_checkpoint(misshapen(state, self.misshapen), path("misshapen"), self.container),
            "foreign": self.foreign(path("foreign")),
        }

    def expected(self, case: str) -> tuple[type[Exception], tuple[str, ...]]:
        """The error loading ``case``'s file must raise, and the texts its message must contain besides the path."""
        grown = (self.shape[0] + 1, *self.shape[1:])
        return {
            "absent": (WeightsMissingError, ("weight file not found",)),
            "truncated": (WeightsCorruptError, ("not a readable PyTorch checkpoint",)),
            "missing": (WeightsError, (f"missing tensors: {self.missing}",)),
            "extra": (WeightsError, (f"unexpected tensors: {self.extra}",)),
            "misshapen": (WeightsError, (f"misshapen tensors: {self.misshapen} {grown} (expected {self.shape})",)),
            "foreign": (self.foreign_error, self.foreign_names),
        }[case]


def assert_load_fails(load: Callable[[Path], object], path: Path, error: type[Exception], names: Iterable[str]) -> None:
    """``load(path)`` raises ``error`` with a message naming ``path`` and containing each of ``names``."""
    with pytest.raises(error) as info:
        load(path)
    message = str(info.value)
    assert str(path) in message
    for name in names:
        assert name in message
