"""RetinaFace MobileNet-0.25 face detector (OpenFace 3.0's detector), weight-compatible with its checkpoint.

Pre- and post-processing follow OpenFace 3.0's ``FaceDetector`` (BGR float
minus (104, 117, 123); priors on strides 8/16/32; variances 0.1/0.2; score >
0.02, NMS 0.4 with the +1 pixel area convention) with three changes, each an
option: frames larger than ``max_size`` are downscaled before detection (the
largest anchor is 512 px, so a face filling a 1080p frame is missed at full
resolution), boxes are clipped to the image, and (``min_brightness``, off by
default) a dark input is brightened before detection: at 10% brightness with
sensor noise a face 60-80 px wide in a 1080p frame is found in 40-85% of frames
as it is, in all of them brightened (benchmarks/results/far_faces.md).
``max_size=None, clip=False`` reproduces the reference numbers exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facemirror.backends.base import Engine, select_engine
from facemirror.models.base import Detector, Face, Model
from facemirror.models.source import NetworkSpec, weights_path

#: per-channel BGR mean subtracted from the raw 0-255 pixels
MEAN_BGR = np.array([104, 117, 123], dtype=np.float32)
#: (stride, anchor sizes in input pixels) per pyramid level, as in ``cfg_mnet``
LEVELS: tuple[tuple[int, tuple[int, ...]], ...] = ((8, (16, 32)), (16, (64, 128)), (32, (256, 512)))
VARIANCES = (0.1, 0.2)
#: the most ``min_brightness`` may scale a dark input (more only amplifies sensor noise)
MAX_GAIN = 8.0
INPUT_NAMES = ("input",)
OUTPUT_NAMES = ("loc", "conf", "landms")


@lru_cache(maxsize=16)
def priors(height: int, width: int) -> np.ndarray:
    """``(P, 4)`` float32 anchors ``(cx, cy, w, h)`` normalised by the input size, in the network's output order.

    Per level: rows, then columns, then anchor sizes; the grid is
    ``ceil(H/stride) x ceil(W/stride)``. Cached per input size.
    """
    out = []
    for step, sizes in LEVELS:
        rows, cols = -(-height // step), -(-width // step)
        cy, cx = np.meshgrid(
            (np.arange(rows) + 0.5) * step / height, (np.arange(cols) + 0.5) * step / width, indexing="ij"
        )
        level = np.empty((rows, cols, len(sizes), 4), dtype=np.float64)
        level[..., 0] = cx[..., None]
        level[..., 1] = cy[..., None]
        level[..., 2] = np.array(sizes) / width
        level[..., 3] = np.array(sizes) / height
        out.append(level.reshape(-1, 4))
    result = np.concatenate(out).astype(np.float32)
    result.flags.writeable = False
    return result


def decode_boxes(loc: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """``(P, 4)`` offsets -> ``(P, 4)`` corners ``(x1, y1, x2, y2)`` normalised to [0, 1] (float32, reference order)."""
    centre = anchors[:, :2] + loc[:, :2] * VARIANCES[0] * anchors[:, 2:]
    size = anchors[:, 2:] * np.exp(loc[:, 2:] * VARIANCES[1])
    top_left = centre - size / 2
    return np.concatenate([top_left, top_left + size], axis=1)


def decode_landmarks(landms: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """``(P, 10)`` offsets -> ``(P, 10)`` normalised x, y of the 5 keypoints."""
    points = anchors[:, None, :2] + landms.reshape(-1, 5, 2) * VARIANCES[0] * anchors[:, None, 2:]
    return points.reshape(-1, 10)


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Indices kept by greedy NMS, highest score first; areas use the +1 pixel convention (py_cpu_nms)."""
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort()[::-1]
    keep = []
    while order.size > 0:
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        iou = inter / (areas[i] + areas[rest] - inter)
        order = rest[iou <= threshold]
    return np.asarray(keep, dtype=np.int64)


def brighten(image: np.ndarray, min_brightness: float) -> np.ndarray:
    """``image`` (uint8) scaled up, saturating, so its mean pixel value is ``min_brightness`` (at most MAX_GAIN x).

    An image already that bright is returned as it is.
    """
    mean = float(np.mean(cv2.mean(image)[:3]))
    gain = min(MAX_GAIN, min_brightness / max(mean, 1.0))
    return cv2.convertScaleAbs(image, alpha=gain) if gain > 1.0 else image


def _check_image(image: Any) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        desc = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise ValueError(f"RetinaFace expects a BGR uint8 image of shape (H, W, 3), got {desc}")
    return image


class RetinaFace(Model, Detector):
    """OpenFace 3.0's RetinaFace MobileNet-0.25 detector: ``detect(bgr) -> list[Face]`` with 5 keypoints."""

    name = "retinaface"
    #: the network: any input size (the example is the default 640-px cap), outputs per anchor
    network = NetworkSpec(
        "retinaface",
        "facemirror.models.nets.retinaface_net:RetinaFaceNet",
        INPUT_NAMES,
        OUTPUT_NAMES,
        (1, 3, 640, 640),
        {"input": {0: "batch", 2: "height", 3: "width"}, **{n: {0: "batch"} for n in OUTPUT_NAMES}},
    )

    def __init__(
        self,
        engine: Engine,
        *,
        max_size: int | None = 640,
        clip: bool = True,
        confidence_threshold: float = 0.02,
        nms_threshold: float = 0.4,
        score_threshold: float = 0.5,
        min_brightness: float | None = None,
    ) -> None:
        if max_size is not None and max_size < 32:
            raise ValueError(f"max_size must be at least 32 pixels (or None), got {max_size}")
        self.engine = engine
        self.max_size = max_size
        self.clip = clip
        self.confidence_threshold = confidence_threshold
        self.nms_threshold = nms_threshold
        self.score_threshold = score_threshold
        #: a (resized) input whose mean pixel value is below this is brightened to it; None: never
        self.min_brightness = min_brightness

    @classmethod
    def from_weights(
        cls,
        path: str | Path | None = None,
        backend: str | Sequence[str] = "auto",
        *,
        max_size: int | None = 640,
        clip: bool = True,
        confidence_threshold: float = 0.02,
        nms_threshold: float = 0.4,
        score_threshold: float = 0.5,
        min_brightness: float | None = None,
        precision: str = "fp32",
        **engine_options: Any,
    ) -> RetinaFace:
        """Load ``path`` (``.pth`` state dict or ``.onnx``; None = the ``retinaface`` manifest entry)."""
        source = cls.network.source(weights_path(cls.name, path), precision)
        engine = select_engine(source, backend, precision=precision, **engine_options)
        return cls(
            engine,
            max_size=max_size,
            clip=clip,
            confidence_threshold=confidence_threshold,
            nms_threshold=nms_threshold,
            score_threshold=score_threshold,
            min_brightness=min_brightness,
        )

    def input_size(self, height: int, width: int) -> tuple[int, int]:
        """The network input ``(height, width)`` for a frame: the longer side capped at ``max_size``."""
        longest = max(height, width)
        if self.max_size is None or longest <= self.max_size:
            return height, width
        scale = self.max_size / longest
        return max(1, round(height * scale)), max(1, round(width * scale))

    def preprocess(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """``{"input": (1, 3, h, w)}``: the (capped) BGR frame as float32 minus the BGR mean."""
        return self.preprocess_batch([image])

    def preprocess_batch(self, images: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        """``{"input": (N, 3, h, w)}`` for frames of one size (each brightened when ``min_brightness`` says so)."""
        if not images:
            raise ValueError("RetinaFace.preprocess_batch needs at least one image")
        shape = _check_image(images[0]).shape
        h, w = self.input_size(shape[0], shape[1])
        batch = np.empty((len(images), 3, h, w), dtype=np.float32)
        for k, image in enumerate(images):
            if _check_image(image).shape != shape:
                raise ValueError(f"detect_batch needs images of one size: {image.shape} differs from {shape}")
            if (h, w) != shape[:2]:
                image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
            if self.min_brightness is not None:
                image = brighten(image, self.min_brightness)
            batch[k] = (image.astype(np.float32) - MEAN_BGR).transpose(2, 0, 1)
        return {"input": batch}

    def detections(self, outputs: Mapping[str, np.ndarray], image_shape: Sequence[int]) -> list[np.ndarray]:
        """Per batch item, ``(K, 15)`` float32 rows ``[x1, y1, x2, y2, score, 5 x (x, y)]`` in frame pixels.

        All detections with score > ``confidence_threshold`` that survive NMS,
        highest score first: the reference's ``detect_faces`` output (before
        the 0.5 score cut), boxes clipped to the frame when ``clip`` is set.
        """
        loc, conf, landms = (np.asarray(outputs[n], dtype=np.float32) for n in OUTPUT_NAMES)
        height, width = int(image_shape[0]), int(image_shape[1])
        in_h, in_w = self.input_size(height, width)
        anchors = priors(in_h, in_w)
        if loc.shape[1] != len(anchors):
            raise ValueError(f"network gave {loc.shape[1]} anchors for a {in_w}x{in_h} input, expected {len(anchors)}")
        # reference scales by the input size; then map the capped input back onto the frame
        box_scale = np.array([in_w, in_h, in_w, in_h], dtype=np.float32)
        point_scale = np.tile(np.array([in_w, in_h], dtype=np.float32), 5)
        back = np.array([width / in_w, height / in_h], dtype=np.float32)
        results = []
        for b in range(loc.shape[0]):
            scores = conf[b, :, 1]
            mask = scores > self.confidence_threshold
            boxes = decode_boxes(loc[b, mask], anchors[mask]) * box_scale
            points = decode_landmarks(landms[b, mask], anchors[mask]) * point_scale
            scores = scores[mask]
            order = scores.argsort()[::-1]
            dets = np.hstack([boxes[order], scores[order, None]]).astype(np.float32)
            keep = nms(dets[:, :4], dets[:, 4], self.nms_threshold)
            rows = np.concatenate([dets[keep], points[order][keep]], axis=1)
            if (in_h, in_w) != (height, width):
                rows[:, [0, 2, 5, 7, 9, 11, 13]] *= back[0]
                rows[:, [1, 3, 6, 8, 10, 12, 14]] *= back[1]
            if self.clip:
                rows[:, [0, 2]] = np.clip(rows[:, [0, 2]], 0, width)
                rows[:, [1, 3]] = np.clip(rows[:, [1, 3]], 0, height)
            results.append(rows)
        return results

    def postprocess(self, outputs: Mapping[str, np.ndarray], image_shape: Sequence[int]) -> list[list[Face]]:
        """Per batch item, the faces scoring at least ``score_threshold``, highest first."""
        return [
            [
                Face(box=row[:4].copy(), score=float(row[4]), keypoints=row[5:].reshape(5, 2).copy())
                for row in rows
                if row[4] >= self.score_threshold
            ]
            for rows in self.detections(outputs, image_shape)
        ]

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in one BGR uint8 frame, highest score first."""
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Face]]:
        """Faces in each of several same-size BGR frames, in one engine call."""
        if len(images) == 0:
            return []
        outputs = self.forward(self.preprocess_batch(images))
        return self.postprocess(outputs, images[0].shape)
