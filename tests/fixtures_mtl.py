"""Random MTL weights in the official layout (a plain state dict, as ``MTL_backbone.pth``).

The files go through the real loading path (``torch.load(weights_only=True)``,
strict key/shape checks), so tests exercise what a user's checkpoint would.
"""

from __future__ import annotations

from pathlib import Path

import torch

from checkpoint_fixtures import random_state_dict, save_checkpoint
from facemirror.models.nets.mtl_net import MTLNet

SEED = 38


def mtl_state(seed: int = SEED) -> dict[str, torch.Tensor]:
    """A deterministic random state dict for :class:`MTLNet` (He-scaled, so features do not fade)."""
    return random_state_dict(MTLNet(), seed, gain=2.0)


def write_mtl_checkpoint(path: Path, state: dict[str, torch.Tensor]) -> Path:
    """Save ``state`` at ``path`` as a plain state dict."""
    return save_checkpoint(state, path)
