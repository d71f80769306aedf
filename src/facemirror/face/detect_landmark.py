"""A face tracker made of any :class:`Detector` and any :class:`LandmarkModel` (detect, then follow the landmarks).

The detector runs on the first frame, when the face is lost and on a
schedule (:class:`~facemirror.face.following.FollowingTracker`); in between,
each frame's face box follows from the previous frame's landmarks, as the
tool this project replaces did with RetinaFace and STAR ("skip
re-detection"). The box keeps the detector's own convention: at each
detection, the rule that maps the landmarks' bounding box onto the detector's
box is refitted (:meth:`BoxRule.fitted`) and used until the next one, so the
landmark model always gets the kind of box it was trained on.
"""

from __future__ import annotations

import math

import numpy as np

from facemirror.backends.base import Engine
from facemirror.face.base import TrackedFace
from facemirror.face.following import FollowingTracker
from facemirror.face.subject import SubjectLock, box_size
from facemirror.layouts import BoxRule, LandmarkLayout
from facemirror.models.base import Detector, Face, LandmarkModel

#: a followed box this many times smaller or larger than at its detection means the landmarks lost the face
MAX_SCALE_CHANGE = 3.0
#: boxes smaller than this (pixels) are not followed
MIN_BOX_PX = 8.0


class DetectLandmarkTracker(FollowingTracker):
    """``detector`` finds faces, ``landmarks`` places its points on the subject's; their layout is the landmarks'.

    A landmark model gives no presence score, so each followed box is also checked against the subject's
    appearance (:meth:`~facemirror.face.subject.SubjectLock.looks_like`): a box that slid off the face counts
    as lost and the detector runs.
    """

    check_appearance = True

    def __init__(
        self,
        detector: Detector,
        landmarks: LandmarkModel,
        *,
        layout: LandmarkLayout | None = None,
        redetect_seconds: float | None = 2.0,
        subject: SubjectLock | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(redetect_seconds, subject)
        self.detector = detector
        self.landmarks = landmarks
        self.layout = layout or landmarks.layout
        self.name = name or f"{getattr(detector, 'name', 'detector')}+{getattr(landmarks, 'name', 'landmarks')}"
        self._rule: BoxRule | None = None
        self._previous: np.ndarray | None = None
        self._detected_size = 0.0
        self._score = 0.0

    def engines(self) -> dict[str, Engine]:
        out = {}
        for model in (self.detector, self.landmarks):
            engine = getattr(model, "engine", None)
            if isinstance(engine, Engine):
                out[getattr(model, "name", type(model).__name__)] = engine
        return out

    def _detect(self, image: np.ndarray) -> list[Face]:
        return self.detector.detect(image)

    def _start(self, image: np.ndarray, face: Face) -> TrackedFace | None:
        points = self._predict(image, Face(np.asarray(face.box, np.float64), face.score, face.keypoints))
        if points is None:
            return None
        self._rule = BoxRule.fitted(points, face.box)
        self._detected_size = box_size(face.box)
        self._score = float(face.score)
        return self._tracked(points, "detected", np.asarray(face.box, np.float64))

    def _follow(self, image: np.ndarray) -> TrackedFace | None:
        if self._rule is None or self._previous is None:
            return None
        box = self._rule.apply(self._previous)
        height, width = image.shape[:2]
        size = box_size(box)
        inside = box[0] < width and box[1] < height and box[2] > 0 and box[3] > 0
        if (
            not inside
            or not math.isfinite(size)
            or size < MIN_BOX_PX
            or not (self._detected_size / MAX_SCALE_CHANGE <= size <= self._detected_size * MAX_SCALE_CHANGE)
        ):
            return None
        points = self._predict(image, Face(box, self._score))
        return None if points is None else self._tracked(points, "tracked", None)

    def _stop(self) -> None:
        self._rule, self._previous = None, None

    def _predict(self, image: np.ndarray, face: Face) -> np.ndarray | None:
        points = np.asarray(self.landmarks.predict(image, face), dtype=np.float64)
        return points if np.isfinite(points[:, :2]).all() else None

    def _tracked(self, points: np.ndarray, source: str, box: np.ndarray | None) -> TrackedFace:
        assert self._rule is not None
        self._previous = points
        return TrackedFace(points, self.layout, self._score, source, box=box, box_rule=self._rule)
