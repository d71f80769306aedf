"""The model interfaces users see (:class:`Detector`, :class:`LandmarkModel`, :class:`AUModel`) and :class:`Model`.

The three interfaces ask only for what the pipeline calls, so a researcher's
own class (a different detector, landmark set or AU network, even one that
is not a neural network) plugs in with a few lines; ``docs/extending.md`` shows
how. :class:`Model` is the shape every built-in network wrapper shares:
``Model.from_weights(path, backend="auto")`` builds it; ``preprocess`` turns
an image into the network's named input tensors; ``forward`` is the engine
call (raw outputs by name); ``postprocess`` decodes them. Models own their
maths; the engine only runs tensors, so the same model can be compared across
backends on identical tensors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from facemirror.backends.base import Engine, EngineInfo
from facemirror.errors import NoFaceError
from facemirror.layouts import LandmarkLayout
from facemirror.video import i420


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
    ``"blendshapes"``, or a user model's own) to an ``(N, K)`` array whose
    columns are named by ``labels[name]``.
    """

    values: dict[str, np.ndarray]
    labels: dict[str, tuple[str, ...]]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def __len__(self) -> int:
        return len(next(iter(self.values.values()))) if self.values else 0


class Model(ABC):
    """The common shape of every built-in network wrapper: pre-process, engine call, post-process."""

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


class Detector(ABC):
    """Finds faces in a BGR uint8 image. A subclass needs only :meth:`detect` (and a ``name``)."""

    name: str = "detector"

    @abstractmethod
    def detect(self, image: np.ndarray) -> list[Face]:
        """All faces in ``image``, highest score first."""


class LandmarkModel(ABC):
    """Places a fixed set of landmarks, described by ``layout``, on one face. Needs :meth:`predict` and ``layout``."""

    name: str = "landmarks"
    #: the landmark set ``predict`` returns (see :mod:`facemirror.layouts`)
    layout: LandmarkLayout

    @property
    def num_points(self) -> int:
        """How many points ``predict`` returns."""
        return self.layout.num_points

    @abstractmethod
    def predict(self, image: np.ndarray, face: Face | np.ndarray) -> np.ndarray:
        """``(num_points, 2)`` (or ``(num_points, 3)``) landmark coordinates in image pixels for a face box."""


#: what an AU model's ``predict`` takes
AU_INPUTS = ("crops", "landmarks")


class AUModel(ABC):
    """Scores facial action units (or anything else per face) for the AU CSVs.

    A subclass needs a ``name``, its output ``labels`` (output name -> the
    CSV column names of its values, in order) and :meth:`predict`. By default
    ``predict`` takes BGR uint8 face crops, cut with :meth:`crops` from the box
    the face tracker gives; with ``inputs = "landmarks"`` it takes each face's
    landmarks instead, in ``layout``. A model may also offer the batched split
    ``preprocess_crop(crop) -> array`` plus ``predict_inputs(stacked) ->
    AUPrediction``, which lets the pipeline prepare crops on a less busy thread.
    """

    name: str = "au_model"
    labels: Mapping[str, Sequence[str]]
    inputs: str = "crops"
    #: the landmark layout a landmark-input model reads (None: any, or crops)
    layout: LandmarkLayout | None = None
    #: crops per ``predict`` call the pipeline gathers before running the model
    batch_size: int = 4

    @abstractmethod
    def predict(self, items: Sequence[np.ndarray]) -> AUPrediction:
        """Outputs for each face crop (or each face's landmarks, with ``inputs = "landmarks"``), in one batch."""

    def columns(self) -> list[str]:
        """The CSV columns this model fills, in order: every label of every output."""
        return [label for names in self.labels.values() for label in names]

    def cells(self, prediction: AUPrediction, index: int) -> dict[str, Any]:
        """Row ``index`` of ``prediction`` as ``{column: value}`` (each label names its own column)."""
        return {
            label: float(value)
            for name, labels in prediction.labels.items()
            for label, value in zip(labels, np.asarray(prediction.values[name][index]).reshape(-1))
        }

    def crops(self, image: np.ndarray, boxes: Sequence[Any], *, yuv: bool = False) -> list[np.ndarray]:
        """The BGR uint8 face crops of ``boxes`` (``Face`` or ``[x1, y1, x2, y2, ...]``) in a BGR or I420 frame.

        Boxes are truncated to integers and clipped to the frame, as OpenFace 3.0 cuts its crops (:func:`crop_box`).
        """
        return cut_crops(image, boxes, yuv=yuv)


def crop_box(box: Any, image_shape: Sequence[int], margin: float = 0.0) -> tuple[int, int, int, int]:
    """Integer ``(x1, y1, x2, y2)`` crop of a face box inside an image of ``image_shape``.

    Coordinates are truncated as OpenFace 3.0's ``det[:4].astype(int)`` does;
    ``margin`` grows the box by ``int(margin * w)`` / ``int(margin * h)`` on
    each side (its GitHub demo's ``scale_bbox``); the result is clipped to the image.
    """
    coords = box.box if isinstance(box, Face) else box
    x1, y1, x2, y2 = (int(v) for v in np.asarray(coords, dtype=np.float64)[:4].astype(np.int64))
    if margin:
        dx, dy = int(margin * (x2 - x1)), int(margin * (y2 - y1))
        x1, y1, x2, y2 = x1 - dx, y1 - dy, x2 + dx, y2 + dy
    height, width = int(image_shape[0]), int(image_shape[1])
    x1, x2 = min(max(x1, 0), width), min(max(x2, 0), width)
    y1, y2 = min(max(y1, 0), height), min(max(y2, 0), height)
    if x2 <= x1 or y2 <= y1:
        raise NoFaceError(
            f"face box {tuple(np.asarray(coords)[:4].tolist())} is empty inside the {width}x{height} image"
        )
    return x1, y1, x2, y2


def cut_crops(image: np.ndarray, boxes: Sequence[Any], *, yuv: bool = False, margin: float = 0.0) -> list[np.ndarray]:
    """BGR uint8 crops of ``boxes`` in a BGR frame, or in an I420 frame with ``yuv`` (only the crops are converted).

    BGR crops are views of ``image``: copy one to keep it beyond the frame.
    """
    if yuv:
        width, height = i420.size(image)
        return [i420.region_to_bgr(image, *crop_box(box, (height, width), margin)) for box in boxes]
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        desc = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise ValueError(f"face crops need a BGR uint8 image of shape (H, W, 3), got {desc}")
    out = []
    for box in boxes:
        x1, y1, x2, y2 = crop_box(box, image.shape, margin)
        out.append(image[y1:y2, x1:x2])
    return out
