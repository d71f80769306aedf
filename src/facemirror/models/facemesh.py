"""MediaPipe's 478-point face mesh (Face Landmarker's ``face_landmarks_detector``), as MediaPipe runs it.

The network sees a 256x256 RGB crop in [0, 1] of a rotated square ROI and
returns 478 (x, y, z) points in crop pixels plus a face-presence logit. The ROI
comes from a detection (1.5x the box's longer side, rotated so the eyes are
level) or, when tracking, from the previous frame's landmarks (their bounding
box, rotated by the eye corners 33 -> 263, 1.5x its longer side), exactly as
MediaPipe's face landmarker graph does.

``symmetric=True`` runs the crop and its horizontal mirror as one batch of 2,
maps the mirrored points back (left/right index permutation, x reflected)
and averages: the network's own left/right bias cancels, which the midline needs.
:meth:`FaceMesh.run_pair` also returns that average's correction to the plain
crop, and :meth:`FaceMesh.run_corrected` applies a held one to the crop alone
(how :class:`~facemirror.models.face_landmarker.FaceLandmarker` runs the pair
only every few tracked frames).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facemirror.backends import select_engine
from facemirror.layouts import MEDIAPIPE_478
from facemirror.layouts.mediapipe_topology import MIRROR_PERMUTATION, NUM_LANDMARKS
from facemirror.models.base import Face, LandmarkModel, Model
from facemirror.models.blazeface import rgb_crop
from facemirror.models.landmarker_source import landmarker_source
from facemirror.models.roi import Roi, rotation_between, square_roi

INPUT_SIZE = 256
ROI_SCALE = 1.5
#: eye corners whose line levels the tracking ROI (subject's right outer, left outer)
TRACKING_EYES = (33, 263)
#: a point at crop x in the mirrored crop lies at FLIP_ORIGIN - x in the crop: the network uses pixel-edge
#: coordinates (measured: x + mirrored x averages 255.3-256.1 over 478 points on 8 real faces, not 255)
FLIP_ORIGIN = float(INPUT_SIZE)


@dataclass
class MeshOutput:
    """Landmarks ``(N, 478, 3)`` in image pixels (z scaled like x) and presence scores ``(N,)`` in [0, 1]."""

    landmarks: np.ndarray
    presence: np.ndarray


def roi_from_detection(face: Face) -> Roi:
    """The landmark ROI for a BlazeFace detection: 1.5x the longer box side, eyes (keypoints 0, 1) level."""
    x1, y1, x2, y2 = (float(v) for v in face.box)
    rotation = rotation_between(face.keypoints[0], face.keypoints[1])
    return square_roi((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, rotation, ROI_SCALE)


def roi_from_landmarks(landmarks: np.ndarray, aligned: bool = False) -> Roi:
    """The next frame's ROI from this frame's 478 landmarks.

    ``aligned=False`` is MediaPipe's tracking rule: the bounding box in image
    axes, rotated so the eyes (33 -> 263) are level. ``aligned=True`` takes the
    bounding box in the eye-levelled axes instead: for a mirror-symmetric set of
    landmarks its centre lies on the symmetry axis, so the next crop of a
    symmetric face is itself symmetric (the image-axes box of a tilted face is
    off the axis by up to a few pixels). The symmetric mesh mode uses it.
    """
    pts = np.asarray(landmarks, dtype=np.float64)[:, :2]
    p0, p1 = pts[TRACKING_EYES[0]], pts[TRACKING_EYES[1]]
    rotation = rotation_between(p0, p1)
    if not aligned:
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        centre, size = (lo + hi) / 2, hi - lo
        return square_roi(centre[0], centre[1], size[0], size[1], rotation, ROI_SCALE)
    u = (p1 - p0) / max(float(np.hypot(*(p1 - p0))), 1e-12)
    axes = np.array([u, [-u[1], u[0]]])  # eye line, and its perpendicular
    local = pts @ axes.T
    lo, hi = local.min(axis=0), local.max(axis=0)
    centre = ((lo + hi) / 2) @ axes
    size = hi - lo
    return square_roi(centre[0], centre[1], size[0], size[1], rotation, ROI_SCALE)


class FaceMesh(Model, LandmarkModel):
    """478 face landmarks (x, y, z in image pixels) for a face ROI, with a presence score."""

    name = "facemesh"
    layout = MEDIAPIPE_478

    def __init__(self, engine: Any, symmetric: bool = False) -> None:
        self.engine = engine
        self.symmetric = symmetric

    @classmethod
    def from_weights(
        cls,
        path: str | Path | None = None,
        backend: str | Sequence[str] = "auto",
        symmetric: bool = False,
        **options: Any,
    ) -> FaceMesh:
        """Load the shipped ``face_landmarks`` (or ``path``: .onnx, .tflite or .task) on the first backend that works.

        TFLite tensors (checked against the ONNX on the same input): ``input_12`` is the crop,
        ``Identity`` (1434 values) the landmarks, ``Identity_1`` the presence logit, ``Identity_2`` the aux output.
        """
        source = landmarker_source(
            cls.name,
            ("input",),
            ("landmarks", "presence_logit", "aux"),
            onnx_weights="face_landmarks",
            member="face_landmarks_detector.tflite",
            tflite_names={
                "input": "input_12",
                "landmarks": "Identity",
                "presence_logit": "Identity_1",
                "aux": "Identity_2",
            },
            path=path,
        )
        return cls(select_engine(source, backend, **options), symmetric)

    def preprocess(self, image: np.ndarray, rois: Roi | Sequence[Roi]) -> dict[str, np.ndarray]:
        """``{"input": (N, 256, 256, 3)}`` RGB in [0, 1]: one crop per ROI, each followed by its mirror if symmetric."""
        return {"input": self._crops(image, rois, mirrors=self.symmetric)}

    def postprocess(self, outputs: Mapping[str, np.ndarray], rois: Roi | Sequence[Roi]) -> MeshOutput:
        """Crop points -> image pixels per ROI; a symmetric pair is mirrored back and averaged."""
        points, logits = _crop_points(outputs)
        if self.symmetric:
            points, logits = _flip_average(points, logits)
        return _to_image(points, logits, rois)

    def run_pair(self, image: np.ndarray, roi: Roi) -> tuple[MeshOutput, np.ndarray]:
        """The symmetric output for one ROI (as :meth:`run`) and its flip correction.

        The correction is ``averaged - plain`` crop points ``(478, 3)``: what flip averaging adds to the
        crop alone. Tracking keeps the crop steady on the face, so it changes slowly and can be held for a
        few frames (:meth:`run_corrected`) at half the cost.
        """
        if not self.symmetric:
            raise ValueError("run_pair needs a symmetric FaceMesh (symmetric=True)")
        points, logits = _crop_points(self.forward(self.preprocess(image, roi)))
        averaged, mean_logits = _flip_average(points, logits)
        return _to_image(averaged, mean_logits, roi), averaged[0] - points[0]

    def run_corrected(self, image: np.ndarray, roi: Roi, correction: np.ndarray) -> MeshOutput:
        """The crop alone (no mirror, batch 1) plus a held flip ``correction`` from :meth:`run_pair`, in crop pixels.

        Presence is the crop's own. The crop is sampled as the symmetric pair samples it, so the correction applies.
        """
        points, logits = _crop_points(self.forward({"input": self._crops(image, roi, mirrors=False)}))
        return _to_image(points + correction, logits, roi)

    def run(self, image: np.ndarray, rois: Roi | Sequence[Roi]) -> MeshOutput:
        """Landmarks and presence for each ROI of ``image`` in one batch."""
        return self.postprocess(self.forward(self.preprocess(image, rois)), rois)

    def predict(self, image: np.ndarray, face: Face | np.ndarray | Roi) -> np.ndarray:
        """``(478, 3)`` landmarks for a detection, a previous frame's landmarks, or an explicit ROI."""
        if isinstance(face, Roi):
            roi = face
        elif isinstance(face, Face):
            roi = roi_from_detection(face)
        else:
            roi = roi_from_landmarks(face)
        return self.run(image, roi).landmarks[0]

    def _crops(self, image: np.ndarray, rois: Roi | Sequence[Roi], mirrors: bool) -> np.ndarray:
        """``(N, 256, 256, 3)`` float32 crops in [0, 1], each followed by its mirror when ``mirrors``."""
        crops = []
        for roi in [rois] if isinstance(rois, Roi) else rois:
            crop = rgb_crop(image, roi, INPUT_SIZE, cv2.BORDER_REPLICATE, pixel_centres=self.symmetric)
            crops.append(crop)
            if mirrors:
                crops.append(crop[:, ::-1])
        return np.stack(crops).astype(np.float32) * np.float32(1.0 / 255.0)


def _crop_points(outputs: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The network's points ``(N, 478, 3)`` in crop pixels and presence logits ``(N,)``, as float64."""
    points = np.asarray(outputs["landmarks"], dtype=np.float64).reshape(-1, NUM_LANDMARKS, 3)
    logits = np.asarray(outputs["presence_logit"], dtype=np.float64).reshape(-1)
    return points, logits


def _flip_average(points: np.ndarray, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average each (crop, mirrored crop) pair: the mirror's points are permuted left/right and x reflected."""
    mirrored = points[1::2][:, MIRROR_PERMUTATION].copy()
    mirrored[..., 0] = FLIP_ORIGIN - mirrored[..., 0]
    return (points[0::2] + mirrored) / 2, (logits[0::2] + logits[1::2]) / 2


def _to_image(points: np.ndarray, logits: np.ndarray, rois: Roi | Sequence[Roi]) -> MeshOutput:
    """Crop points ``(N, 478, 3)`` -> image pixels through each ROI; logits -> presence."""
    roi_list = [rois] if isinstance(rois, Roi) else list(rois)
    landmarks = np.stack([roi.to_image(p, INPUT_SIZE) for roi, p in zip(roi_list, points)])
    presence = 1.0 / (1.0 + np.exp(-logits))
    return MeshOutput(landmarks.astype(np.float32), presence.astype(np.float32))
