"""Faces too small for the short-range BlazeFace: the shipped RetinaFace detector and the face mesh's ROI for its faces.

The embedded detector (MediaPipe's short-range BlazeFace) sees the whole frame
squeezed to 128x128, so it needs a face at least ~12 px wide there: ~180 px in
a 1080p frame. RetinaFace MobileNet-0.25 (biubug6/Pytorch_Retinaface's MIT
weights, shipped as ONNX) on the frame scaled to 640 px finds real faces from
60 px wide in a 1080p frame, also at 10% brightness with noise (dark frames are
brightened first), for ~19 ms at one thread (BlazeFace: ~2 ms), with no false
detection on no-face footage; MediaPipe's full-range BlazeFace, tiling the
short-range one and a cascade of scales were measured and found fewer faces
(benchmarks/results/far_faces.md). A tracker runs it when the short-range
detector finds no face whose mesh is present.

:func:`roi_from_retinaface` turns a RetinaFace face into the mesh's ROI:
calibrated on real faces 70-500 px wide so that it matches the ROI the mesh's
own landmarks give when tracking (``roi_from_landmarks``), so the first mesh
pass lands as well as a tracked one. :func:`face_width` and SMALL_FACE_PX say
when a face is small enough that numbers from it are less precise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facemirror.layouts import MEDIAPIPE_478, LandmarkLayout
from facemirror.models.base import Face
from facemirror.models.retinaface import RetinaFace
from facemirror.models.roi import Roi, rotation_between, square_roi
from facemirror.models.source import weights_path

#: manifest entry of the shipped ONNX file (MIT), made by conversion/export_far_face_detector.py
FAR_FACE_WEIGHTS = "retinaface_mit"
#: the longer side of the picture RetinaFace sees (a 1080p frame -> 640x360, a 60 px face -> 20 px)
MAX_SIZE = 640
#: a frame darker than this mean pixel value is brightened (at most 8x) before detection
MIN_BRIGHTNESS = 60.0
#: the mesh ROI's side, in units of the RetinaFace box's longer side (the box height for an upright face)
ROI_SIDE = 1.33
#: how far the ROI's centre lies below the box centre, towards the chin, in the same unit
ROI_SHIFT = 0.06
#: below this face width (px, :func:`face_width`) numbers are less precise: the mesh's error relative to the face
#: about doubles (0.5% vs 0.25% of its width) and one pixel is more than ~1.4 mm of face (docs/far-faces.md)
SMALL_FACE_PX = 100.0


def face_width(landmarks: np.ndarray, layout: LandmarkLayout = MEDIAPIPE_478) -> float:
    """A face's width in pixels: the extent of its landmarks along the eye line (for the mesh: cheek to cheek).

    Measured along the line between the outer eye corners rather than the image's x axis, so it does not change
    when the head tilts; NaN for a layout without eyes.
    """
    pts = np.asarray(landmarks, dtype=np.float64)[:, :2]
    if not {"left", "right"} <= set(layout.eyes):
        return math.nan
    axis = pts[layout.eyes["left"].outer] - pts[layout.eyes["right"].outer]
    along = pts @ (axis / max(float(np.hypot(*axis)), 1e-12))
    return float(along.max() - along.min())


def far_face_detector(
    path: str | Path | None = None,
    backend: str | Sequence[str] = "auto",
    *,
    score_threshold: float = 0.5,
    **options: Any,
) -> RetinaFace:
    """The shipped far-face detector (or ``path``: an ONNX file or checkpoint of the same network), set up for
    wide frames: 640-px input, dark frames brightened. Runs on ONNX Runtime; torch is not needed."""
    return RetinaFace.from_weights(
        weights_path(FAR_FACE_WEIGHTS, path),
        backend,
        max_size=MAX_SIZE,
        min_brightness=MIN_BRIGHTNESS,
        score_threshold=score_threshold,
        **options,
    )


def roi_from_retinaface(face: Face) -> Roi:
    """The face mesh's ROI for a RetinaFace face: a square of ROI_SIDE x the box's longer side, its centre
    ROI_SHIFT x that side below the box centre along the face, rotated so the eyes (keypoints 0, 1) are level."""
    x1, y1, x2, y2 = (float(v) for v in face.box)
    side = max(x2 - x1, y2 - y1)
    rotation = rotation_between(face.keypoints[0], face.keypoints[1])
    # the crop's downward axis in the image (Roi.to_image of (0, 1))
    down_x, down_y = -math.sin(rotation), math.cos(rotation)
    cx = (x1 + x2) / 2 + ROI_SHIFT * side * down_x
    cy = (y1 + y2) / 2 + ROI_SHIFT * side * down_y
    return square_roi(cx, cy, side, side, rotation, ROI_SIDE)
