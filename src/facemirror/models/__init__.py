"""Face models, one module each: every class owns its pre- and post-processing and runs on any engine.

Classes are imported on first use (``from facemirror.models import MTL``), so
importing this package does not load every network's code.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from facemirror.models.base import AUModel, AUPrediction, Detector, Face, LandmarkModel, Model

_LAZY = {
    "RetinaFace": "facemirror.models.retinaface",
    "STAR": "facemirror.models.star",
    "MTL": "facemirror.models.mtl",
    "BlazeFace": "facemirror.models.blazeface",
    "FaceMesh": "facemirror.models.facemesh",
    "Blendshapes": "facemirror.models.blendshapes",
    "FaceLandmarker": "facemirror.models.face_landmarker",
    "LandmarkResult": "facemirror.models.face_landmarker",
    "MediaPipeLandmarker": "facemirror.models.mediapipe_landmarker",
}

__all__ = ["AUModel", "AUPrediction", "Detector", "Face", "LandmarkModel", "Model", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'facemirror.models' has no attribute {name!r}")
