"""Parts a researcher might write themselves, for the composition tests (module level, so they pickle)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from facemirror.face import FaceTracker, TrackedFace
from facemirror.layouts import EyeRing, LandmarkLayout
from facemirror.models import AUModel, AUPrediction


class Brightness(AUModel):
    """A researcher's own 'AU model': the mean brightness of each face crop, in one column."""

    name = "brightness"
    labels = {"brightness": ("brightness",)}

    def predict(self, items: list[np.ndarray]) -> AUPrediction:
        return AUPrediction({"brightness": np.array([[float(c.mean())] for c in items])}, dict(self.labels))


class ScaledBrightness(Brightness):
    """Brightness passed through a function the researcher gives (a part that holds a function)."""

    def __init__(self, scale: Callable[[float], float]) -> None:
        self.scale = scale

    def predict(self, items: list[np.ndarray]) -> AUPrediction:
        values = np.array([[self.scale(float(c.mean()))] for c in items])
        return AUPrediction({"brightness": values}, dict(self.labels))


#: a six-point layout a tracker declares: eyes and mouth corners in mirror pairs (subject's left first), nose and chin
SIX = LandmarkLayout(
    "six",
    6,
    mirror_pairs=np.array([(0, 1), (2, 3)]),
    sagittal=np.array([4, 5]),
    eyes={
        "left": EyeRing(0, 0, (0,), (0,), (0,), (0,)),
        "right": EyeRing(1, 1, (1,), (1,), (1,), (1,)),
    },
    mouth_corners={"left": 2, "right": 3},
)


def six_points(axis_x: float, axis_y: float, angle_deg: float) -> np.ndarray:
    """Six points mirror-symmetric about the line through (axis_x, axis_y) at ``angle_deg`` from the vertical."""
    local = np.array([[30, -40], [-30, -40], [22, 35], [-22, 35], [0, 0], [0, 70]], dtype=np.float64)
    a = math.radians(angle_deg)
    # the face's down direction is (-sin a, cos a); its subject's-left direction (image right) is (cos a, sin a)
    rotation = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return local @ rotation.T + (axis_x, axis_y)


class KnownFace(FaceTracker):
    """A tracker that 'finds' known landmarks in every frame (a stand-in for any third-party tracker)."""

    name = "known"
    layout = SIX

    def __init__(self, points: np.ndarray) -> None:
        self.points = points
        self.frames = 0

    def track(self, image: np.ndarray, timestamp: float) -> TrackedFace | None:
        self.frames += 1
        return TrackedFace(self.points, self.layout, confidence=0.9, source="detected")
