"""Random STAR weights in the official ``Landmark_98.pkl`` layout (``{"net": state_dict, "epoch": 0}``)."""

from __future__ import annotations

from pathlib import Path

from checkpoint_fixtures import random_state_dict, save_checkpoint
from facemirror.models.nets.star_net import StackedHGNetV1

SEED = 98
#: the fixed edge-to-point buffers: part of the checkpoint, never random
FIXED = ("e2h_transform.weight", "e2h_transform.bias")
#: sigmoid heads drawn at this fraction of the usual scale
HEAD_SCALE = 0.2


def star_state(seed: int = SEED) -> dict:
    """A deterministic random state dict for :class:`StackedHGNetV1`.

    The point- and edge-map heads are scaled down so their sigmoids stay
    unsaturated, as in a trained network: a saturated point map makes a
    point's fused heatmap sum ~1e-6, where the soft-argmax division turns
    1e-6 float differences between backends into 1e-3 coordinate errors.
    """
    state = random_state_dict(StackedHGNetV1(), seed, keep=FIXED)
    for name in state:
        if name.startswith(("out_pointmaps.", "out_edgemaps.")) and name.endswith(".weight"):
            state[name] = state[name] * HEAD_SCALE
    return state


def write_star_checkpoint(path: Path, seed: int = SEED) -> Path:
    """Save random STAR weights at ``path`` in the official container."""
    return save_checkpoint(star_state(seed), path, container="net")
