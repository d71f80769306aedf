"""Load PyTorch checkpoints safely and strictly: every tensor must match, or the error names it.

The reference code loads RetinaFace with ``strict=False`` (a wrong file loads
partially and silently). Here a missing, unexpected or misshapen tensor is a
:class:`~facemirror.errors.WeightsError` that lists the offending names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from facemirror.errors import WeightsCorruptError, WeightsError, WeightsMissingError
from facemirror.optional import require

#: how many names an error lists before it says "and N more"
_LIST_LIMIT = 12


def read_state_dict(
    path: str | Path,
    *,
    container_keys: Sequence[str] = ("state_dict",),
    strip_prefix: str = "module.",
) -> dict[str, Any]:
    """Read a state dict from ``path`` with ``weights_only=True``.

    If the file holds a dict with one of ``container_keys`` (e.g. STAR's
    ``"net"``), that entry is the state dict and other top-level keys are
    ignored. A ``module.`` prefix (from DataParallel) is stripped.
    """
    torch = require("torch", "Loading PyTorch weights")
    path = Path(path)
    if not path.is_file():
        raise WeightsMissingError(f"{path}: weight file not found")
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many unrelated types for a bad file
        raise WeightsCorruptError(f"{path}: not a readable PyTorch checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(obj, Mapping):
        raise WeightsCorruptError(f"{path}: expected a state dict, found {type(obj).__name__}")
    for key in container_keys:
        if key in obj and isinstance(obj[key], Mapping):
            obj = obj[key]
            break
    state = {}
    for name, value in obj.items():
        if not isinstance(name, str) or not isinstance(value, torch.Tensor):
            raise WeightsCorruptError(f"{path}: entry {name!r} is not a tensor; is this the right file?")
        state[name.removeprefix(strip_prefix)] = value
    return state


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_LIST_LIMIT])
    more = len(names) - _LIST_LIMIT
    return shown + (f" and {more} more" if more > 0 else "")


def load_strict(module: Any, state: Mapping[str, Any], source: str | Path) -> None:
    """Copy ``state`` into ``module``; raise :class:`WeightsError` naming every mismatch."""
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    misshapen = [
        f"{k} {tuple(state[k].shape)} (expected {tuple(expected[k].shape)})"
        for k in expected
        if k in state and tuple(state[k].shape) != tuple(expected[k].shape)
    ]
    problems = []
    if missing:
        problems.append(f"missing tensors: {_listing(missing)}")
    if unexpected:
        problems.append(f"unexpected tensors: {_listing(unexpected)}")
    if misshapen:
        problems.append(f"misshapen tensors: {_listing(misshapen)}")
    if problems:
        raise WeightsError(f"{source}: does not match {type(module).__name__}: " + "; ".join(problems))
    module.load_state_dict(state, strict=True)


def load_module(module: Any, path: str | Path, **read_options: Any) -> Any:
    """Read ``path`` and load it strictly into ``module`` (returned, in eval mode)."""
    load_strict(module, read_state_dict(path, **read_options), path)
    return module.eval()
