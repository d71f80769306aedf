"""Synthetic face-mesh landmarks for the mirror tests: the canonical face posed and projected."""

from __future__ import annotations

import math

import numpy as np

from facemirror.layouts.mediapipe_canonical import CANONICAL_VERTICES


def canonical_478() -> np.ndarray:
    """The 468 canonical vertices plus iris centres and rings (right, top, left, bottom in the image)."""
    irises = []
    for outer, inner in ((33, 133), (263, 362)):
        centre = 0.5 * (CANONICAL_VERTICES[outer] + CANONICAL_VERTICES[inner])
        ring = [(0.5, 0, 0), (0, 0.5, 0), (-0.5, 0, 0), (0, -0.5, 0)]
        irises.append(np.vstack([centre, centre + np.array(ring)]))
    return np.vstack([CANONICAL_VERTICES, *irises])


def rotation(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> np.ndarray:
    """Camera-axes rotation Ry(-yaw) Rx(-pitch) Rz(roll) (degrees), the convention of head_pose."""
    a, b, g = (math.radians(v) for v in (-yaw, -pitch, roll))
    ry = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    rz = np.array([[math.cos(g), -math.sin(g), 0], [math.sin(g), math.cos(g), 0], [0, 0, 1]])
    return ry @ rx @ rz


def face_landmarks(
    centre: tuple[float, float] = (320.0, 240.0),
    scale: float = 20.0,
    yaw: float = 0.0,
    pitch: float = 0.0,
    roll: float = 0.0,
    noise: float = 0.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """(478, 3) landmarks in pixels of the canonical face, orthographically projected with a pose."""
    cam = (rotation(yaw, pitch, roll) @ np.diag([1.0, -1.0, -1.0]) @ canonical_478().T).T * scale
    cam[:, :2] += centre
    if noise:
        cam[:, :2] += (rng or np.random.default_rng(0)).normal(0.0, noise, size=(len(cam), 2))
    return cam
