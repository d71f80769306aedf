"""The tracking loop the built-in trackers share: detect, choose the subject, follow from the landmarks.

Following a face from one frame's landmarks to the next is fast and steady,
but can drift; so the detector also runs on the first frame, whenever the
face is lost, and every ``redetect_seconds``. At each detection the
:class:`~facemirror.face.subject.SubjectLock` keeps the face that continues
the subject's track, never simply the detector's best face. When a
scheduled detection does not find the subject, the track goes on.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np

from facemirror.face.base import FaceTracker, TrackedFace
from facemirror.face.subject import SubjectLock
from facemirror.models.base import Face


class FollowingTracker(FaceTracker):
    """Detect, choose the subject, follow; subclasses say how to detect, start from a detection and follow."""

    #: check that each followed box still looks like the subject (for landmark models without a presence score)
    check_appearance = False

    def __init__(self, redetect_seconds: float | None = 2.0, subject: SubjectLock | None = None) -> None:
        if redetect_seconds is not None and redetect_seconds <= 0:
            raise ValueError(f"redetect_seconds must be positive (or None), got {redetect_seconds}")
        self.redetect_seconds = redetect_seconds
        self.subject = subject or SubjectLock()
        self._following = False
        self._last_detection: float | None = None

    def reset(self) -> None:
        self._following = False
        self._last_detection = None
        self.subject.reset()
        self._stop()

    def report(self) -> dict[str, Any]:
        return self.subject.report.as_dict()

    def track(self, image: np.ndarray, timestamp: float) -> TrackedFace | None:
        due = (
            self.redetect_seconds is not None
            and self._last_detection is not None
            and timestamp - self._last_detection >= self.redetect_seconds
        )
        if self._following and not due:
            face = self._followed(image)
            if face is not None:
                self.subject.seen(face.box, timestamp)
                return face
            self._following = False
        face = self._acquire(image, timestamp)
        if face is not None:
            self._last_detection = timestamp
            self._following = True
            self.subject.seen(face.box, timestamp, image)
            return face
        if self._following:  # a scheduled detection missed the subject: keep following
            self._last_detection = timestamp
            face = self._followed(image)
            if face is not None:
                self.subject.seen(face.box, timestamp)
                return face
        self._following = False
        self._stop()
        return None

    def _acquire(self, image: np.ndarray, timestamp: float) -> TrackedFace | None:
        """Detect, choose the subject among the faces, and start from their detection (None: not found)."""
        choice = self.subject.choose(self._detect(image), image, timestamp)
        return self._start(image, choice) if choice is not None else None

    def _followed(self, image: np.ndarray) -> TrackedFace | None:
        """The followed face, unless it was lost (or, with ``check_appearance``, no longer looks like the subject)."""
        face = self._follow(image)
        if face is not None and self.check_appearance and not self.subject.looks_like(image, face.box):
            return None
        return face

    @abstractmethod
    def _detect(self, image: np.ndarray) -> list[Face]:
        """Every face in the frame."""

    @abstractmethod
    def _start(self, image: np.ndarray, face: Face) -> TrackedFace | None:
        """Landmarks for a chosen detection, remembered for following (None when the landmark model rejects it)."""

    @abstractmethod
    def _follow(self, image: np.ndarray) -> TrackedFace | None:
        """The followed face in this frame from the previous frame's landmarks (None when lost)."""

    @abstractmethod
    def _stop(self) -> None:
        """Forget the followed face."""
