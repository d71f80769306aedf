"""The embedded face tracker: MediaPipe's Face Landmarker (BlazeFace + the 478-point mesh), one subject per video."""

from __future__ import annotations

from typing import Any

import numpy as np

from facemirror.backends.base import Engine
from facemirror.face.base import TrackedFace
from facemirror.face.following import FollowingTracker
from facemirror.face.subject import SubjectLock
from facemirror.layouts import MEDIAPIPE_478
from facemirror.models.base import Face
from facemirror.models.face_landmarker import FaceLandmarker, LandmarkResult
from facemirror.models.facemesh import FaceMesh


class MediaPipeTracker(FollowingTracker):
    """Follows the subject with the embedded Face Landmarker (works offline on a fresh install).

    A symmetric mesh (``FaceMesh(symmetric=True)``: each crop and its mirror,
    averaged) cancels the network's left/right bias, which the midline needs;
    :meth:`for_job` gives jobs that fit no midline the plain mesh on the same
    engines (half the cost).
    """

    name = "mediapipe"
    layout = MEDIAPIPE_478

    def __init__(
        self,
        landmarker: FaceLandmarker,
        *,
        redetect_seconds: float | None = 2.0,
        subject: SubjectLock | None = None,
        plain_for_aus: bool = True,
    ) -> None:
        super().__init__(redetect_seconds, subject)
        self.landmarker = landmarker
        self.plain_for_aus = plain_for_aus
        self._plain: MediaPipeTracker | None = None

    @classmethod
    def from_weights(
        cls,
        backend: str | list[str] = "auto",
        *,
        symmetric: bool | None = None,
        flip_every: int = 1,
        redetect_seconds: float | None = 2.0,
        subject: SubjectLock | None = None,
        **engine_options: Any,
    ) -> MediaPipeTracker:
        """The shipped networks; ``symmetric`` None: the flip-averaged mesh where a midline is fitted only."""
        landmarker = FaceLandmarker.from_weights(
            backend=backend,
            symmetric=symmetric is not False,
            flip_every=flip_every,
            with_blendshapes=False,
            **engine_options,
        )
        return cls(landmarker, redetect_seconds=redetect_seconds, subject=subject, plain_for_aus=symmetric is None)

    def for_job(self, needs_midline: bool) -> MediaPipeTracker:
        """This tracker, or for a job without a midline (``extract_aus``) the same engines with the plain mesh."""
        if needs_midline or not (self.plain_for_aus and self.landmarker.mesh.symmetric):
            return self
        if self._plain is None:
            base = self.landmarker
            plain = FaceLandmarker(base.detector, FaceMesh(base.mesh.engine, symmetric=False), None, base.min_presence)
            self._plain = MediaPipeTracker(
                plain, redetect_seconds=self.redetect_seconds, subject=SubjectLock(), plain_for_aus=False
            )
        self._plain.subject = self.subject
        return self._plain

    def engines(self) -> dict[str, Engine]:
        return {"face_detector": self.landmarker.detector.engine, "face_landmarks": self.landmarker.mesh.engine}

    def _detect(self, image: np.ndarray) -> list[Face]:
        return self.landmarker.detect_faces(image)

    def _start(self, image: np.ndarray, face: Face) -> TrackedFace | None:
        return self._face(self.landmarker.start(image, face))

    def _follow(self, image: np.ndarray) -> TrackedFace | None:
        return self._face(self.landmarker.follow(image))

    def _stop(self) -> None:
        self.landmarker.reset()

    def _face(self, result: LandmarkResult | None) -> TrackedFace | None:
        if result is None:
            return None
        return TrackedFace(result.landmarks, self.layout, result.presence, result.source)
