"""Synthetic landmark sets of known geometry for the layout and tracker tests."""

from __future__ import annotations

import math

import numpy as np

from facemirror.layouts import WFLW_98
from facemirror.layouts.mediapipe_canonical import CANONICAL_VERTICES
from facemirror.models import Face, LandmarkModel


def wflw_face(centre: tuple[float, float] = (320.0, 240.0), scale: float = 20.0, roll: float = 0.0) -> np.ndarray:
    """(98, 2) WFLW points of MediaPipe's canonical (exactly symmetric) face, rolled by ``roll`` degrees.

    Points with a mesh counterpart take its canonical position; the contour is an arc and the pupils sit
    between the eye corners, both symmetric too.
    """
    pts = np.zeros((98, 2))
    for wflw, vertex in all_counterparts().items():
        pts[wflw] = CANONICAL_VERTICES[vertex, :2] * (1.0, -1.0)  # canonical y is up; image y is down
    for k in (*range(16), *range(17, 33)):  # contour: right ear (image left), over the chin (16, canonical), left ear
        t = math.pi * k / 32
        pts[k] = (-7.5 * math.cos(t), -1.0 + 8.0 * math.sin(t))
    pts[96] = (pts[60] + pts[64]) / 2
    pts[97] = (pts[68] + pts[72]) / 2
    a = math.radians(roll)
    rotation = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return pts @ rotation.T * scale + centre


def all_counterparts() -> dict[int, int]:
    from facemirror.layouts.wflw import _COUNTERPARTS

    return _COUNTERPARTS


class MeanShape(LandmarkModel):
    """A stand-in WFLW landmark model (fast, deterministic): the canonical face's 98 points fitted into the box.

    It does not look at the image, like an initialiser; a tracker built on it must notice by itself when the
    face is gone.
    """

    name = "meanshape"
    layout = WFLW_98

    def __init__(self) -> None:
        points = wflw_face(centre=(0.0, 0.0), scale=1.0)
        lo, hi = points.min(axis=0), points.max(axis=0)
        self.unit = (points - lo) / (hi - lo)

    def predict(self, image: np.ndarray, face: Face | np.ndarray) -> np.ndarray:
        box = np.asarray(face.box if isinstance(face, Face) else face, dtype=np.float64)[:4]
        # WFLW's points span about the face box's width and the lower 85% of its height (no forehead)
        x1, y1, x2, y2 = box
        return self.unit * [x2 - x1, 0.85 * (y2 - y1)] + [x1, y1 + 0.15 * (y2 - y1)]
