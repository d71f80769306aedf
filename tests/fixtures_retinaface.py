"""Random RetinaFace MobileNet-0.25 weights in the official layout (a plain state dict), and the real file's place."""

from __future__ import annotations

from pathlib import Path

from checkpoint_fixtures import random_state_dict, save_checkpoint
from facemirror.models.nets.retinaface_net import RetinaFaceNet

SEED = 25
SHARED = Path(__file__).resolve().parents[2] / "shared"
REAL_WEIGHTS = SHARED / "weights" / "retinaface_mobilenet0.25_Final.pth"
MEDIA = SHARED / "media"


def retinaface_state(seed: int = SEED) -> dict:
    """A deterministic random state dict for :class:`RetinaFaceNet`."""
    return random_state_dict(RetinaFaceNet(), seed)


def write_retinaface_checkpoint(path: Path, seed: int = SEED) -> Path:
    """Save random RetinaFace weights at ``path`` as a plain state dict."""
    return save_checkpoint(retinaface_state(seed), path)


def retinaface_weights() -> Path:
    """The real RetinaFace weights of ../shared, or skip the test with the reason when they are absent."""
    import pytest

    if not REAL_WEIGHTS.is_file():
        pytest.skip(f"real RetinaFace weights not found: {REAL_WEIGHTS} (the ../shared folder beside the checkout)")
    return REAL_WEIGHTS
