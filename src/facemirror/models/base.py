"""The abstract model interfaces users see: :class:`Detector`, :class:`LandmarkModel`, :class:`AUModel`.

Every concrete model has one shape: ``Model.from_weights(path, backend="auto")``
builds it; ``preprocess`` turns an image into the network's named input
tensors; ``forward`` is the engine call (raw outputs by name);
``postprocess`` decodes them. The one-call methods (``detect``, ``predict``)
chain the three. Models own their maths; the engine only runs tensors, so the
same model can be compared across backends on identical tensors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from facemirror.backends.base import Engine, EngineInfo


@dataclass
class Face:
    """One detected face in image pixels.

    ``box`` is ``(x1, y1, x2, y2)``; ``keypoints`` holds the detector's
    landmarks as ``(K, 2)`` x, y (RetinaFace: eyes, nose, mouth corners in
    image-left-first order; BlazeFace: 6 points).
    """

    box: np.ndarray
    score: float
    keypoints: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])

    @property
    def center(self) -> tuple[float, float]:
        return float(self.box[0] + self.box[2]) / 2, float(self.box[1] + self.box[3]) / 2


@dataclass
class AUPrediction:
    """Per-crop outputs of an AU model, rows aligned with the crops given.

    ``values`` maps an output name (``"au"``, ``"emotion"``, ``"gaze"``,
    ``"blendshapes"``) to an ``(N, K)`` array whose columns are named by
    ``labels[name]``.
    """

    values: dict[str, np.ndarray]
    labels: dict[str, tuple[str, ...]]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def __len__(self) -> int:
        return len(next(iter(self.values.values()))) if self.values else 0


class Model(ABC):
    """The common shape of every network wrapper: pre-process, engine call, post-process."""

    #: short name used in results, manifests and logs
    name: str = "model"
    engine: Engine

    @classmethod
    @abstractmethod
    def from_weights(cls, path: Any = None, backend: str | Sequence[str] = "auto", **options: Any) -> Model:
        """Build the model from its weight file on the first backend of ``backend`` that loads."""

    @abstractmethod
    def preprocess(self, image: Any, *args: Any, **kwargs: Any) -> dict[str, np.ndarray]:
        """The network's input tensors by name."""

    def forward(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the engine: raw network outputs by name."""
        return self.engine.run(inputs)

    @abstractmethod
    def postprocess(self, outputs: Mapping[str, np.ndarray], *args: Any, **kwargs: Any) -> Any:
        """Decode raw outputs into the model's result type."""

    @property
    def engine_info(self) -> EngineInfo:
        return self.engine.info


class Detector(Model):
    """Finds faces in a BGR uint8 image."""

    @abstractmethod
    def detect(self, image: np.ndarray) -> list[Face]:
        """All faces in ``image``, highest score first."""


class LandmarkModel(Model):
    """Places a fixed set of landmarks on one face."""

    #: how many points ``predict`` returns
    num_points: int

    @abstractmethod
    def predict(self, image: np.ndarray, face: Face | np.ndarray) -> np.ndarray:
        """``(num_points, 2)`` (or ``(num_points, 3)``) landmark coordinates in image pixels."""


class AUModel(Model):
    """Scores facial action units (and whatever else the network gives) on face crops."""

    @abstractmethod
    def predict(self, crops: Sequence[np.ndarray]) -> AUPrediction:
        """Outputs for each BGR face crop, in one batch."""
