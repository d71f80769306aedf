"""BlazeFace short-range face detector (MediaPipe Face Landmarker's ``face_detector``), as MediaPipe runs it.

The frame is letterboxed onto 128x128 (keep_aspect_ratio, zero border: the
ROI is the whole frame padded to a square about its centre), RGB scaled to
[-1, 1]. 896 SSD anchors (stride 8: 16x16 cells x 2, stride 16: 8x8 cells x 6)
decode 16 regressors each: box centre offset, width, height, then 6 keypoints
(eyes, nose tip, mouth, ear tragions), in 128-px units. Scores are sigmoid
logits (clipped at +-100) kept at >= 0.5, then MediaPipe's weighted NMS (IoU >
0.3: boxes and keypoints averaged by score).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facemirror.backends import select_engine
from facemirror.errors import FaceMirrorError
from facemirror.models.base import Detector, Face, Model
from facemirror.models.landmarker_source import landmarker_source
from facemirror.models.roi import Roi, warp

INPUT_SIZE = 128
NUM_KEYPOINTS = 6
#: (stride, anchors per cell) of the SSD layers, in output order
ANCHOR_LAYERS = ((8, 2), (16, 6))


def make_anchors(size: int = INPUT_SIZE, layers: tuple[tuple[int, int], ...] = ANCHOR_LAYERS) -> np.ndarray:
    """(N, 2) anchor centres in [0, 1] (x, y) for ``layers`` of (stride, anchors per cell; 896 by default)."""
    centres = []
    for stride, per_cell in layers:
        grid = size // stride
        ys, xs = np.meshgrid((np.arange(grid) + 0.5) / grid, (np.arange(grid) + 0.5) / grid, indexing="ij")
        cells = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(cells, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


ANCHORS = make_anchors()


def letterbox_roi(height: int, width: int) -> Roi:
    """The whole frame padded to a square about its centre (MediaPipe's keep_aspect_ratio)."""
    side = float(max(height, width))
    return Roi(width / 2, height / 2, side, side, 0.0)


class BlazeFace(Model, Detector):
    """Finds faces (box, score, 6 keypoints) in a BGR image, matching MediaPipe's FaceDetector."""

    name = "blazeface"
    #: the network's square input side and its anchors (a subclass may run another BlazeFace variant)
    input_size = INPUT_SIZE
    anchors = ANCHORS

    def __init__(self, engine: Any, score_threshold: float = 0.5, iou_threshold: float = 0.3) -> None:
        self.engine = engine
        self.score_threshold = score_threshold
        self.iou_threshold = iou_threshold

    @classmethod
    def from_weights(
        cls,
        path: str | Path | None = None,
        backend: str | Sequence[str] = "auto",
        score_threshold: float = 0.5,
        iou_threshold: float = 0.3,
        **options: Any,
    ) -> BlazeFace:
        """Load the shipped ``face_detector`` (or ``path``: .onnx, .tflite or .task) on the first backend that works.

        The TFLite detector's tensors already carry these names.
        """
        source = landmarker_source(
            cls.name,
            ("input",),
            ("regressors", "classificators"),
            onnx_weights="face_detector",
            member="face_detector.tflite",
            tflite_names={},
            path=path,
        )
        return cls(select_engine(source, backend, **options), score_threshold, iou_threshold)

    def preprocess(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """``{"input": (1, S, S, 3)}`` (S = ``input_size``) RGB in [-1, 1], letterboxed with zeros (-1 when scaled)."""
        crop = rgb_crop(image, letterbox_roi(*np.shape(image)[:2]), self.input_size, cv2.BORDER_CONSTANT)
        tensor = crop.astype(np.float32) * np.float32(2.0 / 255.0) - np.float32(1.0)
        return {"input": tensor[None]}

    def postprocess(self, outputs: Mapping[str, np.ndarray], image_shape: tuple[int, ...]) -> list[Face]:
        """Decode, threshold, weighted-NMS and map back to image pixels; highest score first."""
        reg = np.asarray(outputs["regressors"], dtype=np.float64).reshape(-1, 4 + 2 * NUM_KEYPOINTS)
        logits = np.asarray(outputs["classificators"], dtype=np.float64).reshape(-1)
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -100.0, 100.0)))
        keep = np.flatnonzero(scores >= self.score_threshold)
        if keep.size == 0:
            return []
        reg, scores, anchors = reg[keep] / self.input_size, scores[keep], self.anchors[keep]
        centre = reg[:, :2] + anchors
        half = reg[:, 2:4] / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1)
        keypoints = reg[:, 4:].reshape(-1, NUM_KEYPOINTS, 2) + anchors[:, None, :]
        height, width = image_shape[:2]
        side = float(max(height, width))
        offset = np.array([(side - width) / 2, (side - height) / 2])
        faces = []
        for box, score, kps in weighted_nms(boxes, scores, keypoints, self.iou_threshold):
            pix_box = box.reshape(2, 2) * side - offset
            faces.append(
                Face(
                    box=pix_box.reshape(4).astype(np.float32),
                    score=float(score),
                    keypoints=(kps * side - offset).astype(np.float32),
                )
            )
        return faces

    def detect(self, image: np.ndarray) -> list[Face]:
        """All faces in the BGR ``image``, highest score first."""
        return self.postprocess(self.forward(self.preprocess(image)), image.shape)


def weighted_nms(
    boxes: np.ndarray, scores: np.ndarray, keypoints: np.ndarray, iou_threshold: float
) -> list[tuple[np.ndarray, float, np.ndarray]]:
    """MediaPipe's WEIGHTED non-max suppression: each cluster (IoU > threshold with its best box) is averaged.

    The kept score is the best box's score; boxes are ``(x1, y1, x2, y2)``.
    """
    order = np.argsort(-scores, kind="stable")
    remaining = order
    kept = []
    while remaining.size:
        best = remaining[0]
        ious = _iou(boxes[best], boxes[remaining])
        cluster = remaining[ious > iou_threshold]
        if cluster.size == 0:  # the best box must join its own cluster; guard against NaN boxes
            cluster = remaining[:1]
        weights = scores[cluster][:, None]
        total = float(weights.sum())
        box = (boxes[cluster] * weights).sum(axis=0) / total
        kps = (keypoints[cluster] * weights[:, :, None]).sum(axis=0) / total
        kept.append((box, float(scores[best]), kps))
        remaining = remaining[~np.isin(remaining, cluster)]
    return kept


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def rgb_crop(image: np.ndarray, roi: Roi, size: int, border: int, pixel_centres: bool = False) -> np.ndarray:
    """The RGB ``size`` x ``size`` crop of ``roi`` in a BGR uint8 (H, W, 3) image (anything else: FaceMirrorError).

    The colour swap comes after the warp: a per-channel warp commutes with it,
    so the result is the same as converting first, at the cost of a crop
    instead of a whole frame.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise FaceMirrorError(f"expected a BGR uint8 image of shape (H, W, 3), got {image.dtype} {image.shape}")
    return cv2.cvtColor(warp(image, roi, size, border, pixel_centres), cv2.COLOR_BGR2RGB)
