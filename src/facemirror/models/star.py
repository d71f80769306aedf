"""STAR 98-point (WFLW) face landmarks, OpenFace 3.0's landmark model, weight-compatible with ``Landmark_98.pkl``.

Crop and decoding follow OpenFace 3.0 / STAR's ``Alignment`` exactly: the
integer box centre goes to (127.5, 127.5) of a 256x256 crop scaled so that
``min(w, h) * 1.05`` spans 200/256 of it (``cv2.warpPerspective``, bilinear,
black border), BGR pixels mapped to [-1, 1]; the network's [-1, 1] points are
denormalised with the ``align_corners=False`` convention (a known 256/255
mismatch with the crop, kept so results equal the reference) and mapped back
through the inverse crop matrix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facemirror.backends.base import Engine, select_engine
from facemirror.layouts import WFLW_98
from facemirror.models.base import Face, LandmarkModel, Model
from facemirror.models.source import NetworkSpec, weights_path

CROP_SIZE = 256
#: the face box's shorter side times this, over 200, is STAR's "scale"
BOX_SCALE = 1.05
INPUT_NAMES = ("input",)
OUTPUT_NAMES = ("landmarks",)


def crop_matrix(box: np.ndarray | Sequence[float]) -> np.ndarray:
    """The float32 3x3 matrix taking frame pixels to crop pixels for a face box ``(x1, y1, x2, y2)``.

    As the reference: the box is truncated to integers, ``scale =
    min(w, h) / 200 * 1.05``, ``s = 256 / (scale * 200)``, and the box centre
    lands on 127.5 (``align_corners=True``).
    """
    x1, y1, x2, y2 = (int(v) for v in np.asarray(box, dtype=np.float64)[:4])
    scale = min(x2 - x1, y2 - y1) / 200 * BOX_SCALE
    if scale <= 0:
        raise ValueError(f"face box {[x1, y1, x2, y2]} has no area")
    s = CROP_SIZE / (scale * 200.0)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    half = (CROP_SIZE - 1) / 2.0
    return np.array([[s, 0.0, half - s * cx], [0.0, s, half - s * cy], [0.0, 0.0, 1.0]], dtype=np.float32)


def denormalize(points: np.ndarray) -> np.ndarray:
    """[-1, 1] network points -> crop pixels, ``align_corners=False`` (``((p + 1) * 256 - 1) / 2``), float32."""
    points = np.asarray(points, dtype=np.float32)
    return ((points + 1) * np.float32(CROP_SIZE) - 1) / 2


def to_frame(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Crop-pixel points ``(P, 2)`` -> frame pixels through the inverse of the affine ``matrix`` (float32)."""
    inv = np.linalg.inv(matrix)
    x, y = points[:, 0], points[:, 1]
    return np.stack([inv[0, 0] * x + inv[0, 1] * y + inv[0, 2], inv[1, 0] * x + inv[1, 1] * y + inv[1, 2]], axis=1)


def _box_of(face: Face | np.ndarray | Sequence[float]) -> np.ndarray:
    return np.asarray(face.box if isinstance(face, Face) else face, dtype=np.float64)


class STAR(Model, LandmarkModel):
    """OpenFace 3.0's STAR landmarker: ``predict(bgr, box) -> (98, 2)`` frame pixels in WFLW order."""

    name = "star"
    layout = WFLW_98
    network = NetworkSpec(
        "star",
        "facemirror.models.nets.star_net:StackedHGNetV1",
        INPUT_NAMES,
        OUTPUT_NAMES,
        (1, 3, CROP_SIZE, CROP_SIZE),
        {"input": {0: "batch"}, "landmarks": {0: "batch"}},
        container_keys=("net", "state_dict"),
    )

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_weights(
        cls,
        path: str | Path | None = None,
        backend: str | Sequence[str] = "auto",
        *,
        precision: str = "fp32",
        **engine_options: Any,
    ) -> STAR:
        """Load ``path`` (``{"net": state_dict}`` checkpoint or ``.onnx``; None = the ``star`` manifest entry)."""
        source = cls.network.source(weights_path(cls.name, path), precision)
        return cls(select_engine(source, backend, precision=precision, **engine_options))

    def crop(self, image: np.ndarray, face: Face | np.ndarray | Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """The 256x256 BGR uint8 crop of ``face`` and the matrix that made it."""
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            desc = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
            raise ValueError(f"STAR expects a BGR uint8 image of shape (H, W, 3), got {desc}")
        matrix = crop_matrix(_box_of(face))
        patch = cv2.warpPerspective(
            image, matrix, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        return patch, matrix

    def preprocess(
        self, image: np.ndarray, faces: Sequence[Face | np.ndarray | Sequence[float]]
    ) -> dict[str, np.ndarray]:
        """``{"input": (N, 3, 256, 256)}``: each face's crop, BGR, ``/255*2-1``."""
        patches = np.stack([self.crop(image, face)[0] for face in faces])
        return {"input": patches.astype(np.float32).transpose(0, 3, 1, 2) / 255.0 * 2.0 - 1.0}

    def postprocess(
        self, outputs: Mapping[str, np.ndarray], faces: Sequence[Face | np.ndarray | Sequence[float]]
    ) -> np.ndarray:
        """``(N, 98, 2)`` float32 frame-pixel landmarks, one row per face."""
        points = np.asarray(outputs["landmarks"], dtype=np.float32)
        return np.stack(
            [to_frame(denormalize(p), crop_matrix(_box_of(face))) for p, face in zip(points, faces)]
        ).astype(np.float32)

    def predict(self, image: np.ndarray, face: Face | np.ndarray) -> np.ndarray:
        """``(98, 2)`` landmarks (x, y in frame pixels) of the face in box ``face``."""
        return self.predict_batch(image, [face])[0]

    def predict_batch(self, image: np.ndarray, faces: Sequence[Face | np.ndarray | Sequence[float]]) -> np.ndarray:
        """``(N, 98, 2)`` landmarks for several faces of one frame, in one engine call."""
        if len(faces) == 0:
            return np.zeros((0, self.num_points, 2), dtype=np.float32)
        return self.postprocess(self.forward(self.preprocess(image, faces)), faces)
