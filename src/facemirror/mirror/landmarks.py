"""The landmarks of a mirrored face: one half of the layout's points kept, the other half their reflection.

``run()`` crops the AU network's input and measures blinks on the mirrored
frames without running the face model again: the mirrored face's landmarks
follow from the original ones and the midline.
"""

from __future__ import annotations

import numpy as np

from facemirror.layouts import MEDIAPIPE_478, LandmarkLayout
from facemirror.mirror.midline import Midline


def reflect_points(points: np.ndarray, midline: Midline) -> np.ndarray:
    """``points`` (N, 2 or 3) reflected across the midline in x, y (z, if present, is kept)."""
    out = np.array(points, dtype=np.float64, copy=True)
    n = np.asarray(midline.normal, dtype=np.float64)
    c = float(n @ np.asarray(midline.point, dtype=np.float64))
    distance = out[:, :2] @ n - c
    out[:, :2] -= 2.0 * distance[:, None] * n
    return out


def mirrored_landmarks(
    landmarks: np.ndarray, midline: Midline, keep_subject_left: bool, layout: LandmarkLayout = MEDIAPIPE_478
) -> np.ndarray:
    """The landmarks of the face made of two copies of one half.

    ``keep_subject_left`` keeps the points the layout labels as the subject's
    left (the left-mirrored output of a non-selfie recording); each point of
    the other half is replaced by the reflection of its partner. Sagittal and
    unpaired points are kept as they are.
    """
    pairs = layout.mirror_pairs
    kept, replaced = (pairs[:, 0], pairs[:, 1]) if keep_subject_left else (pairs[:, 1], pairs[:, 0])
    out = np.array(landmarks, dtype=np.float64, copy=True)
    out[replaced] = reflect_points(out[kept], midline)
    return out
