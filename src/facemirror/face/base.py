"""The face-tracker interface: per frame, one person's face as landmarks in a declared layout.

A :class:`FaceTracker` is what ``Pipeline(face=...)`` takes: it follows one
person through a video and, for each frame, returns a :class:`TrackedFace`
(landmarks, the layout they follow, a confidence, the face box) or None when
that person is not found. Everything downstream (midline, mirroring, blink,
AU crops, measures) reads the geometry from the face's layout.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from facemirror.backends.base import Engine
from facemirror.layouts import BoxRule, LandmarkLayout


class TrackedFace:
    """One frame's face: ``landmarks`` ``(N, 2 or 3)`` in image pixels, following ``layout``.

    ``box`` (``x1, y1, x2, y2``) is the face box the AU crop uses; by default
    ``box_rule`` applied to the landmarks, and ``box_rule`` defaults to the
    layout's. A tracker whose detector has its own box convention passes the
    rule fitted to it, so the mirrored faces' boxes follow the same convention.
    ``source`` says whether the landmarks started from a detection in this
    frame (``"detected"``) or followed the previous frame (``"tracked"``).
    """

    def __init__(
        self,
        landmarks: np.ndarray,
        layout: LandmarkLayout,
        confidence: float,
        source: str = "tracked",
        box: np.ndarray | None = None,
        box_rule: BoxRule | None = None,
    ) -> None:
        self.landmarks = layout.check(landmarks)
        self.layout = layout
        self.confidence = float(confidence)
        self.source = source
        self.box_rule = box_rule or layout.box_rule
        self.box = self.box_rule.apply(self.landmarks) if box is None else np.asarray(box, np.float64)[:4]

    def box_of(self, landmarks: np.ndarray) -> np.ndarray:
        """The face box of other landmarks of this face (a mirrored face's) by the same rule."""
        return self.box_rule.apply(landmarks)

    def __repr__(self) -> str:
        return f"<TrackedFace {self.source} {self.layout.name} box={np.round(self.box, 1).tolist()}>"


class FaceTracker(ABC):
    """Follows one person's face through a video; a subclass needs ``layout`` and :meth:`track`.

    ``track`` is called once per frame, in order, with the frame's BGR image and
    its timestamp in seconds; ``reset`` before each new video.
    """

    name: str = "face_tracker"
    #: the landmark set of every TrackedFace it returns
    layout: LandmarkLayout

    @abstractmethod
    def track(self, image: np.ndarray, timestamp: float) -> TrackedFace | None:
        """The followed person's face in this frame, or None when they are not found in it."""

    def reset(self) -> None:  # noqa: B027 - optional hook
        """Forget the video so far: the next frame starts a new one."""

    def engines(self) -> dict[str, Engine]:
        """The networks it runs, by name (what ran them is recorded in every sidecar)."""
        return {}

    def report(self) -> dict[str, Any]:
        """What it saw in the video so far (faces seen, other faces ignored...), for summaries and sidecars."""
        return {}

    def for_job(self, needs_midline: bool) -> FaceTracker:
        """The tracker a job should use: itself, or a variant tuned for whether the job fits a midline."""
        return self
