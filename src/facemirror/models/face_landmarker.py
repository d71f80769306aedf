"""MediaPipe's Face Landmarker (detector + 478-point mesh + blendshapes) on facemirror's engines.

``process_image`` is MediaPipe's IMAGE mode: detect, take the best face, run
the mesh on its ROI. ``track`` is VIDEO mode: the first frame (and any frame
after the face was lost) is detected; later frames reuse the ROI derived from
the previous frame's landmarks while their presence score stays >= 0.5. Its
two halves are public, so a tracker can choose which detected face to follow
(:meth:`FaceLandmarker.detect_faces`, :meth:`FaceLandmarker.start`,
:meth:`FaceLandmarker.follow`; see :mod:`facemirror.face`).
Unlike MediaPipe, a frame whose tracked presence drops is re-detected at once
instead of being returned empty, and no temporal smoothing is applied (the
caller smooths; :class:`~facemirror.models.landmark_smoothing.OneEuroSmoother`
reproduces MediaPipe's). Every result says whether it was ``"detected"`` or
``"tracked"``. No state is shared between instances, so results are the same
whatever the thread count.

With a symmetric mesh, ``flip_every=k`` runs the (crop, mirror) pair only on
every k-th tracked frame (and on every detection); the frames between run the
crop alone and add the last pair's flip correction in crop pixels. Tracking
keeps the crop centred, level and scaled on the face, so the correction
changes slowly, and those frames cost about half (see
benchmarks/results/flip_every.md for the accuracy). ``k=1`` is the plain
symmetric mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facemirror.models.base import Face
from facemirror.models.blazeface import BlazeFace
from facemirror.models.blendshapes import Blendshapes
from facemirror.models.facemesh import FaceMesh, MeshOutput, roi_from_detection, roi_from_landmarks
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


def check_flip_every(flip_every: object) -> int:
    """``flip_every`` as an int, or a ValueError saying it must be an integer >= 1."""
    if isinstance(flip_every, bool) or not isinstance(flip_every, (int, np.integer)) or flip_every < 1:
        raise ValueError(f"flip_every must be an integer >= 1, got {flip_every!r}")
    return int(flip_every)


class FaceLandmarker:
    """BlazeFace + FaceMesh (+ Blendshapes) with MediaPipe's IMAGE and VIDEO mode logic."""

    def __init__(
        self,
        detector: BlazeFace,
        mesh: FaceMesh,
        blendshapes: Blendshapes | None = None,
        min_presence: float = 0.5,
        flip_every: int = 1,
    ) -> None:
        self.detector = detector
        self.mesh = mesh
        self.blendshapes = blendshapes
        self.min_presence = min_presence
        #: run the symmetric pair on every k-th tracked frame (ignored unless the mesh is symmetric)
        self.flip_every = check_flip_every(flip_every)
        self._next_roi: Roi | None = None
        self._correction: np.ndarray | None = None  # the last pair's flip correction, crop pixels (478, 3)
        self._held_frames = 0  # tracked frames that may still reuse it

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
        flip_every: int = 1,
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
        return cls(detector, mesh, blend, min_presence, flip_every)

    def process_image(self, image: np.ndarray) -> LandmarkResult | None:
        """The best face in a BGR image (IMAGE mode), or None when no face is found or its presence is low.

        Leaves the tracking state (``track``/``follow``) as it was.
        """
        faces = self.detect_faces(image)
        return self._landmarks_for(image, faces[0])[0] if faces else None

    def track(self, image: np.ndarray) -> LandmarkResult | None:
        """The face in the next video frame (VIDEO mode); None when no face is found.

        Follows the previous frame's face while its presence stays high, else
        detects and starts from the detector's best face.
        """
        result = self.follow(image)
        if result is not None:
            return result
        faces = self.detect_faces(image)
        if not faces:
            self.reset()
            return None
        return self.start(image, faces[0])

    def detect_faces(self, image: np.ndarray) -> list[Face]:
        """Every face the detector finds in ``image``, highest score first."""
        return self.detector.detect(image)

    def start(self, image: np.ndarray, face: Face, roi: Roi | None = None) -> LandmarkResult | None:
        """Landmarks of the detected ``face`` (mesh ROI from the detection, or ``roi``), and follow it from here.

        None when the mesh's presence score is low; what was followed before (if anything) is then
        followed still, so a re-detection the mesh rejects does not drop a track that is going well.
        """
        result, correction = self._landmarks_for(image, face, roi)
        if result is not None:
            self._next_roi = roi_from_landmarks(result.landmarks, self.mesh.symmetric)
            self._hold(correction)
        return result

    def follow(self, image: np.ndarray) -> LandmarkResult | None:
        """The followed face in the next frame, its ROI from the previous landmarks; None when lost or not following."""
        if self._next_roi is None:
            return None
        roi = self._next_roi
        out = self._track_mesh(image, roi)
        if out.presence[0] < self.min_presence:
            self.reset()
            return None
        lm = out.landmarks[0]
        self._next_roi = roi_from_landmarks(lm, aligned=self.mesh.symmetric)
        box = np.concatenate([lm[:, :2].min(axis=0), lm[:, :2].max(axis=0)])
        return self._result(lm, box, float(out.presence[0]), "tracked", None, roi)

    def reset(self) -> None:
        """Forget the followed face (and any held flip correction): the next ``track`` call detects."""
        self._next_roi = None
        self._hold(None)

    def _landmarks_for(
        self, image: np.ndarray, face: Face, roi: Roi | None = None
    ) -> tuple[LandmarkResult | None, np.ndarray | None]:
        """IMAGE mode for one detection, and the symmetric pair's flip correction (None without a symmetric mesh)."""
        roi = roi or roi_from_detection(face)
        out = self.mesh.run(image, roi)
        if out.presence[0] < self.min_presence:
            return None, None
        correction = None
        if self.mesh.symmetric:
            # the detection's crop is not centred on the face's axis; redo it from the landmarks, as tracking would
            roi = roi_from_landmarks(out.landmarks[0], aligned=True)
            out, correction = self.mesh.run_pair(image, roi)
        return self._result(out.landmarks[0], face.box, float(out.presence[0]), "detected", face.score, roi), correction

    def _track_mesh(self, image: np.ndarray, roi: Roi) -> MeshOutput:
        """The mesh on a tracked ROI: the symmetric pair when due, else the crop alone plus the held correction."""
        if not self.mesh.symmetric:
            return self.mesh.run(image, roi)
        if self._correction is not None and self._held_frames > 0:
            self._held_frames -= 1
            return self.mesh.run_corrected(image, roi, self._correction)
        out, correction = self.mesh.run_pair(image, roi)
        self._hold(correction)
        return out

    def _hold(self, correction: np.ndarray | None) -> None:
        """Keep a fresh pair's correction for the next ``flip_every - 1`` tracked frames (None: drop it)."""
        self._correction = correction
        self._held_frames = 0 if correction is None else self.flip_every - 1

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
