"""MediaPipe's 52 face blendshape scores from 146 of the 478 face-mesh landmarks (x, y in image pixels).

:class:`Blendshapes` is the network; :class:`BlendshapeAUs` is the same network
as an :class:`~facemirror.models.base.AUModel` (one ``bs_<name>`` column per score),
the embedded AU model of the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facemirror.backends import select_engine
from facemirror.errors import FaceMirrorError
from facemirror.layouts import MEDIAPIPE_478
from facemirror.layouts.mediapipe_topology import NUM_LANDMARKS
from facemirror.models.base import AUModel, AUPrediction, Model
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
#: the AU CSV column of each score: ``bs_`` and the name (``bs_neutral``, ``bs_browDownLeft``, ...)
BLENDSHAPE_COLUMNS = tuple(f"bs_{name.lstrip('_')}" for name in BLENDSHAPE_NAMES)


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


class BlendshapeAUs(AUModel):
    """The blendshape network as an AU model: reads each face's 478 mesh landmarks, writes 52 ``bs_*`` columns."""

    name = "blendshapes"
    inputs = "landmarks"
    layout = MEDIAPIPE_478
    labels = {"blendshapes": BLENDSHAPE_COLUMNS}

    def __init__(self, network: Blendshapes) -> None:
        self.network = network
        self.engine = network.engine

    @classmethod
    def from_weights(
        cls, path: str | Path | None = None, backend: str | Sequence[str] = "auto", **options: Any
    ) -> BlendshapeAUs:
        """The shipped blendshape network (see :meth:`Blendshapes.from_weights`)."""
        return cls(Blendshapes.from_weights(path, backend, **options))

    def predict(self, items: Sequence[np.ndarray]) -> AUPrediction:
        """``{"blendshapes": (N, 52)}`` for N faces' ``(478, 2+)`` landmarks."""
        scores = np.stack([self.network.predict(lm) for lm in items]) if len(items) else np.zeros((0, 52), np.float32)
        return AUPrediction(values={"blendshapes": scores}, labels={"blendshapes": BLENDSHAPE_COLUMNS})
