"""MediaPipe's Face Landmarker (detector + 478-point mesh + blendshapes) on facemirror's engines.

``process_image`` is MediaPipe's IMAGE mode: detect, take the best face, run
the mesh on its ROI. ``track`` is VIDEO mode: the first frame (and any frame
after the face was lost) is detected; later frames reuse the ROI derived from
the previous frame's landmarks while their presence score stays >= 0.5.
Unlike MediaPipe, a frame whose tracked presence drops is re-detected at once
instead of being returned empty, and no temporal smoothing is applied (the
caller smooths; :class:`~facemirror.models.landmark_smoothing.OneEuroSmoother`
reproduces MediaPipe's). Every result says whether it was ``"detected"`` or
``"tracked"``. No state is shared between instances, so results are the same
whatever the thread count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facemirror.models.blazeface import BlazeFace
from facemirror.models.blendshapes import Blendshapes
from facemirror.models.facemesh import FaceMesh, roi_from_detection, roi_from_landmarks
from facemirror.models.roi import Roi


@dataclass
class LandmarkResult:
    """One face: 478 landmarks ``(x, y, z)`` in image pixels, where they came from and how sure the nets are.

    ``box`` is ``(x1, y1, x2, y2)``: the detection box when detected, the
    landmarks' bounding box when tracked. ``detection_score`` is None when tracked.
    """

    landmarks: np.ndarray
    box: np.ndarray
    presence: float
    source: str  # "detected" | "tracked" | "mediapipe"
    detection_score: float | None = None
    roi: Roi | None = None
    blendshapes: np.ndarray | None = None


class FaceLandmarker:
    """BlazeFace + FaceMesh (+ Blendshapes) with MediaPipe's IMAGE and VIDEO mode logic."""

    def __init__(
        self,
        detector: BlazeFace,
        mesh: FaceMesh,
        blendshapes: Blendshapes | None = None,
        min_presence: float = 0.5,
    ) -> None:
        self.detector = detector
        self.mesh = mesh
        self.blendshapes = blendshapes
        self.min_presence = min_presence
        self._next_roi: Roi | None = None

    @classmethod
    def from_weights(
        cls,
        path: str | Path | None = None,
        backend: str | Sequence[str] = "auto",
        *,
        detector_path: str | Path | None = None,
        landmarks_path: str | Path | None = None,
        blendshapes_path: str | Path | None = None,
        with_blendshapes: bool = True,
        symmetric: bool = False,
        min_detection: float = 0.5,
        min_presence: float = 0.5,
        **options: Any,
    ) -> FaceLandmarker:
        """Load the three shipped networks (or the given paths); ``path`` is a folder holding all three ONNX files.

        The shipped weights carry both formats (ONNX, and the .task's TFLite for litert); a folder or an
        explicit ``.onnx`` path gives ONNX only, so ``auto`` then skips litert.
        """
        folder = Path(path) if path is not None else None
        detector_path = detector_path or (folder / "face_detector.onnx" if folder else None)
        landmarks_path = landmarks_path or (folder / "face_landmarks.onnx" if folder else None)
        blendshapes_path = blendshapes_path or (folder / "face_blendshapes.onnx" if folder else None)
        detector = BlazeFace.from_weights(detector_path, backend, score_threshold=min_detection, **options)
        mesh = FaceMesh.from_weights(landmarks_path, backend, symmetric=symmetric, **options)
        blend = Blendshapes.from_weights(blendshapes_path, backend, **options) if with_blendshapes else None
        return cls(detector, mesh, blend, min_presence)

    def process_image(self, image: np.ndarray) -> LandmarkResult | None:
        """The best face in a BGR image (IMAGE mode), or None when no face is found or its presence is low."""
        faces = self.detector.detect(image)
        if not faces:
            return None
        face = faces[0]
        roi = roi_from_detection(face)
        out = self.mesh.run(image, roi)
        if out.presence[0] < self.min_presence:
            return None
        if self.mesh.symmetric:
            # the detection's crop is not centred on the face's axis; redo it from the landmarks, as tracking would
            roi = roi_from_landmarks(out.landmarks[0], aligned=True)
            out = self.mesh.run(image, roi)
        return self._result(out.landmarks[0], face.box, float(out.presence[0]), "detected", face.score, roi)

    def track(self, image: np.ndarray) -> LandmarkResult | None:
        """The face in the next video frame (VIDEO mode); None when no face is found."""
        if self._next_roi is not None:
            roi = self._next_roi
            out = self.mesh.run(image, roi)
            if out.presence[0] >= self.min_presence:
                lm = out.landmarks[0]
                self._next_roi = roi_from_landmarks(lm, aligned=self.mesh.symmetric)
                box = np.concatenate([lm[:, :2].min(axis=0), lm[:, :2].max(axis=0)])
                return self._result(lm, box, float(out.presence[0]), "tracked", None, roi)
        result = self.process_image(image)
        self._next_roi = None if result is None else roi_from_landmarks(result.landmarks, self.mesh.symmetric)
        return result

    def reset(self) -> None:
        """Forget the tracked face: the next ``track`` call detects."""
        self._next_roi = None

    def _result(
        self,
        landmarks: np.ndarray,
        box: np.ndarray,
        presence: float,
        source: str,
        score: float | None,
        roi: Roi,
    ) -> LandmarkResult:
        blend = self.blendshapes.predict(landmarks) if self.blendshapes is not None else None
        return LandmarkResult(
            landmarks=landmarks,
            box=np.asarray(box, dtype=np.float32),
            presence=presence,
            source=source,
            detection_score=score,
            roi=roi,
            blendshapes=blend,
        )
