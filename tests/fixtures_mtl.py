"""Random MTL weights in the official layout (a plain state dict, as ``MTL_backbone.pth``), and broken variants.

The files go through the real loading path (``torch.load(weights_only=True)``,
strict key/shape checks), so tests exercise what a user's checkpoint would.
"""

from __future__ import annotations

from pathlib import Path

import torch

from checkpoint_fixtures import misshapen, random_state_dict, save_checkpoint, with_extra, without
from facemirror.models.nets.mtl_net import MTLNet
from fixtures_retinaface import write_retinaface_checkpoint

SEED = 38
#: a key each corrupt variant removes, adds or reshapes
MISSING_KEY = "au_regressor.gnn.U.weight"
EXTRA_KEY = "au_regressor.extra.weight"
MISSHAPEN_KEY = "emotion_classifier.weight"


def mtl_state(seed: int = SEED) -> dict[str, torch.Tensor]:
    """A deterministic random state dict for :class:`MTLNet` (He-scaled, so features do not fade)."""
    return random_state_dict(MTLNet(), seed, gain=2.0)


def write_mtl_checkpoint(path: Path, state: dict[str, torch.Tensor]) -> Path:
    """Save ``state`` at ``path`` as a plain state dict."""
    return save_checkpoint(state, path)


def write_variant(variant: str, state: dict[str, torch.Tensor], path: Path) -> Path:
    """A broken checkpoint: ``missing``/``extra``/``misshapen`` tensor, or ``wrong`` (RetinaFace's weights)."""
    if variant == "wrong":
        return write_retinaface_checkpoint(path)
    edits = {
        "missing": lambda: without(state, MISSING_KEY),
        "extra": lambda: with_extra(state, EXTRA_KEY),
        "misshapen": lambda: misshapen(state, MISSHAPEN_KEY),
    }
    return save_checkpoint(edits[variant](), path)
