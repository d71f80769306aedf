"""The landmarks of a mirrored face: one half of the mesh kept, the other half its reflection.

``run()`` crops the AU network's input and measures blinks on the mirrored
frames without running the face model again: the mirrored face's landmarks
follow from the original ones and the midline.
"""

from __future__ import annotations

import numpy as np

from facemirror.mirror.midline import Midline
from facemirror.models.facemesh_topology import LEFT_RIGHT_PAIRS


def reflect_points(points: np.ndarray, midline: Midline) -> np.ndarray:
    """``points`` (N, 2 or 3) reflected across the midline in x, y (z, if present, is kept)."""
    out = np.array(points, dtype=np.float64, copy=True)
    n = np.asarray(midline.normal, dtype=np.float64)
    c = float(n @ np.asarray(midline.point, dtype=np.float64))
    distance = out[:, :2] @ n - c
    out[:, :2] -= 2.0 * distance[:, None] * n
    return out


def mirrored_landmarks(landmarks: np.ndarray, midline: Midline, keep_mesh_left: bool) -> np.ndarray:
    """The mesh of the face made of two copies of one half.

    ``keep_mesh_left`` keeps the points the mesh labels as the subject's left
    (the left-mirrored output of a non-selfie recording); each point of the
    other half is replaced by the reflection of its partner. Points on the
    sagittal line are kept as they are.
    """
    kept, replaced = (LEFT_RIGHT_PAIRS[:, 0], LEFT_RIGHT_PAIRS[:, 1])
    if not keep_mesh_left:
        kept, replaced = replaced, kept
    out = np.array(landmarks, dtype=np.float64, copy=True)
    out[replaced] = reflect_points(out[kept], midline)
    return out
