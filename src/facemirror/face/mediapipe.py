"""The embedded face tracker: MediaPipe's Face Landmarker (BlazeFace + the 478-point mesh), one subject per video.

MediaPipe's short-range BlazeFace sees the whole frame at 128x128 and misses
faces narrower than ~180 px in a 1080p frame. When it finds no subject, the
shipped RetinaFace (:mod:`facemirror.models.far_face`) looks at the frame at
640 px, which finds faces from ~60 px wide; its face gives the mesh its ROI
(:func:`~facemirror.models.far_face.roi_from_retinaface`). Close-ups never run
it; while no face is followed it runs on every ``FAR_EVERY``-th frame.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from facemirror.backends.base import Engine
from facemirror.errors import BackendUnavailable
from facemirror.face.base import TrackedFace
from facemirror.face.following import FollowingTracker
from facemirror.face.subject import SubjectLock
from facemirror.layouts import MEDIAPIPE_478
from facemirror.models.base import Face
from facemirror.models.face_landmarker import FaceLandmarker, LandmarkResult
from facemirror.models.facemesh import FaceMesh
from facemirror.models.far_face import far_face_detector, roi_from_retinaface
from facemirror.models.retinaface import RetinaFace

log = logging.getLogger(__name__)

#: while no face is followed, the far-face detector runs on every this many frames (a far face is found within
#: 0.2 s at 30 fps; on a video without faces this costs ~3 ms a frame instead of ~19: benchmarks/results/far_faces.md)
FAR_EVERY = 6


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
        far_detector: RetinaFace | None = None,
    ) -> None:
        super().__init__(redetect_seconds, subject)
        self.landmarker = landmarker
        self.plain_for_aus = plain_for_aus
        self.far_detector = far_detector
        self._plain: MediaPipeTracker | None = None
        self._misses = 0  # frames in a row without the subject
        self.far_used = False  # whether the far-face detector found the subject in this video

    @classmethod
    def from_weights(
        cls,
        backend: str | list[str] = "auto",
        *,
        symmetric: bool | None = None,
        flip_every: int = 1,
        redetect_seconds: float | None = 2.0,
        subject: SubjectLock | None = None,
        far_faces: bool = True,
        **engine_options: Any,
    ) -> MediaPipeTracker:
        """The shipped networks; ``symmetric`` None: the flip-averaged mesh where a midline is fitted only;
        ``far_faces``: also the shipped far-face detector."""
        landmarker = FaceLandmarker.from_weights(
            backend=backend,
            symmetric=symmetric is not False,
            flip_every=flip_every,
            with_blendshapes=False,
            **engine_options,
        )
        far = _far_detector(backend, engine_options) if far_faces else None
        return cls(
            landmarker,
            redetect_seconds=redetect_seconds,
            subject=subject,
            plain_for_aus=symmetric is None,
            far_detector=far,
        )

    def for_job(self, needs_midline: bool) -> MediaPipeTracker:
        """This tracker, or for a job without a midline (``extract_aus``) the same engines with the plain mesh."""
        if needs_midline or not (self.plain_for_aus and self.landmarker.mesh.symmetric):
            return self
        if self._plain is None:
            base = self.landmarker
            plain = FaceLandmarker(base.detector, FaceMesh(base.mesh.engine, symmetric=False), None, base.min_presence)
            self._plain = MediaPipeTracker(
                plain,
                redetect_seconds=self.redetect_seconds,
                subject=SubjectLock(),
                plain_for_aus=False,
                far_detector=self.far_detector,
            )
        self._plain.subject = self.subject
        return self._plain

    def reset(self) -> None:
        super().reset()
        self._misses = 0
        self.far_used = False

    def engines(self) -> dict[str, Engine]:
        """The networks that ran: the far-face detector only in a video where it found the subject."""
        engines = {"face_detector": self.landmarker.detector.engine, "face_landmarks": self.landmarker.mesh.engine}
        if self.far_used and self.far_detector is not None:
            engines["far_face_detector"] = self.far_detector.engine
        return engines

    def _acquire(self, image: np.ndarray, timestamp: float) -> TrackedFace | None:
        """The short-range detector first; when it gives no subject, the far-face detector (throttled while lost)."""
        face = super()._acquire(image, timestamp)
        if face is None and self.far_detector is not None and (self._following or self._misses % FAR_EVERY == 0):
            choice = self.subject.choose(self.far_detector.detect(image), image, timestamp)
            if choice is not None:
                face = self._face(self.landmarker.start(image, choice, roi_from_retinaface(choice)))
                self.far_used = self.far_used or face is not None
        self._misses = 0 if face is not None else self._misses + 1
        return face

    def _detect(self, image: np.ndarray) -> list[Face]:
        return self.landmarker.detect_faces(image)

    def _start(self, image: np.ndarray, face: Face) -> TrackedFace | None:
        return self._face(self.landmarker.start(image, face))

    def _follow(self, image: np.ndarray) -> TrackedFace | None:
        face = self._face(self.landmarker.follow(image))
        if face is not None:
            self._misses = 0  # a later loss tries the far-face detector at once
        return face

    def _stop(self) -> None:
        self.landmarker.reset()

    def _face(self, result: LandmarkResult | None) -> TrackedFace | None:
        if result is None:
            return None
        return TrackedFace(result.landmarks, self.layout, result.presence, result.source)


def _far_detector(backend: str | list[str], engine_options: dict[str, Any]) -> RetinaFace:
    """The far-face detector on ``backend``, or where it can run when that backend has no model of its kind (it
    ships as ONNX only: ``backend="litert"`` keeps the face networks on LiteRT and this one on ``auto``)."""
    try:
        return far_face_detector(None, backend, **engine_options)
    except BackendUnavailable as exc:
        log.info("far-face detector: %s; it runs on the first backend that can", exc)
        return far_face_detector(None, "auto", **engine_options)
