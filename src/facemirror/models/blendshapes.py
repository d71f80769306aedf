"""MediaPipe's 52 face blendshape scores from 146 of the 478 face-mesh landmarks (x, y in image pixels)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facemirror.backends import select_engine
from facemirror.errors import FaceMirrorError
from facemirror.models.base import Model
from facemirror.models.facemesh_topology import NUM_LANDMARKS
from facemirror.models.landmarker_source import landmarker_source

#: the landmarks the blendshape network reads, in its input order
BLENDSHAPE_LANDMARKS = np.array(
    [0, 1, 4, 5, 6, 7, 8, 10, 13, 14, 17, 21, 33, 37, 39, 40, 46, 52, 53, 54, 55, 58, 61, 63, 65, 66, 67, 70, 78, 80,
     81, 82, 84, 87, 88, 91, 93, 95, 103, 105, 107, 109, 127, 132, 133, 136, 144, 145, 146, 148, 149, 150, 152, 153,
     154, 155, 157, 158, 159, 160, 161, 162, 163, 168, 172, 173, 176, 178, 181, 185, 191, 195, 197, 234, 246, 249,
     251, 263, 267, 269, 270, 276, 282, 283, 284, 285, 288, 291, 293, 295, 296, 297, 300, 308, 310, 311, 312, 314,
     317, 318, 321, 323, 324, 332, 334, 336, 338, 356, 361, 362, 365, 373, 374, 375, 377, 378, 379, 380, 381, 382,
     384, 385, 386, 387, 388, 389, 390, 397, 398, 400, 402, 405, 409, 415, 454, 466, 468, 469, 470, 471, 472, 473,
     474, 475, 476, 477],
    dtype=np.int64,
)  # fmt: skip

#: MediaPipe's published blendshape order ("Left"/"Right" are the subject's sides)
BLENDSHAPE_NAMES: tuple[str, ...] = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft",
    "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft",
    "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft",
    "jawOpen", "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft",
    "mouthPressRight", "mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
    "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight",
)  # fmt: skip


class Blendshapes(Model):
    """52 blendshape scores in [0, 1] (names in :data:`BLENDSHAPE_NAMES`) from one face's 478 landmarks."""

    name = "blendshapes"

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    @classmethod
    def from_weights(
        cls, path: str | Path | None = None, backend: str | Sequence[str] = "auto", **options: Any
    ) -> Blendshapes:
        """Load the shipped ``face_blendshapes`` (or ``path``: .onnx, .tflite or .task) on the first backend that works.

        TFLite tensors: ``serving_default_input_points:0`` the points, ``StatefulPartitionedCall:0`` the 52 scores.
        """
        source = landmarker_source(
            cls.name,
            ("points",),
            ("blendshapes",),
            onnx_weights="face_blendshapes",
            member="face_blendshapes.tflite",
            tflite_names={"points": "serving_default_input_points:0", "blendshapes": "StatefulPartitionedCall:0"},
            path=path,
        )
        return cls(select_engine(source, backend, **options))

    def preprocess(self, landmarks: np.ndarray) -> dict[str, np.ndarray]:
        """``{"points": (1, 146, 2)}``: the network's landmark subset, x and y in image pixels."""
        pts = np.asarray(landmarks)
        if pts.ndim != 2 or pts.shape[0] != NUM_LANDMARKS or pts.shape[1] < 2:
            raise FaceMirrorError(f"blendshapes need ({NUM_LANDMARKS}, 2+) landmarks, got shape {pts.shape}")
        return {"points": pts[BLENDSHAPE_LANDMARKS, :2].astype(np.float32)[None]}

    def postprocess(self, outputs: Mapping[str, np.ndarray]) -> np.ndarray:
        """``(52,)`` float32 scores in MediaPipe's order."""
        return np.asarray(outputs["blendshapes"], dtype=np.float32).reshape(len(BLENDSHAPE_NAMES))

    def predict(self, landmarks: np.ndarray) -> np.ndarray:
        """``(52,)`` blendshape scores for one face's ``(478, 2+)`` landmarks in image pixels."""
        return self.postprocess(self.forward(self.preprocess(landmarks)))
