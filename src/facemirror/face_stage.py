"""The face stage every job shares: the face tracker's face in each frame, with its head pose and raw midline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from facemirror.face.base import FaceTracker, TrackedFace
from facemirror.mirror.midline import HeadPose, Midline, estimate_midline, head_pose
from facemirror.models.far_face import SMALL_FACE_PX, face_width
from facemirror.timing import StageTimes
from facemirror.video import Frame


@dataclass
class FaceFrame:
    """A decoded frame and what the face stage found in it (all None without a face)."""

    frame: Frame
    face: TrackedFace | None
    pose: HeadPose | None
    midline: Midline | None

    @property
    def landmarks(self) -> np.ndarray | None:
        return None if self.face is None else self.face.landmarks

    @property
    def source(self) -> str:
        """detected | tracked | none."""
        return "none" if self.face is None else self.face.source


class FaceStage:
    """Runs the tracker on each frame and adds head pose and (``midline=True``) the raw midline fit."""

    def __init__(self, tracker: FaceTracker, times: StageTimes, midline: bool = True) -> None:
        self.tracker = tracker
        self.times = times
        #: fit the raw midline (the mirror jobs); extract_aus only needs landmarks and head pose
        self.midline = midline
        self._widths: list[float] = []
        tracker.reset()

    def face_size(self) -> dict[str, Any]:
        """The followed face's width (pixels, cheek to cheek) over the video, and whether it was small."""
        widths = np.array([w for w in self._widths if np.isfinite(w)])
        if not len(widths):
            return {}
        median = float(np.median(widths))
        return {
            "min_px": float(widths.min()),
            "median_px": median,
            "max_px": float(widths.max()),
            "small": median < SMALL_FACE_PX,
            "small_below_px": SMALL_FACE_PX,
        }

    def __call__(self, frame: Frame) -> FaceFrame:
        with self.times.measure("landmarks"):
            face = self.tracker.track(frame.image, frame.timestamp)
        if face is None:
            return FaceFrame(frame, None, None, None)
        self._widths.append(face_width(face.landmarks, face.layout))
        with self.times.measure("midline" if self.midline else "head_pose"):
            pose = head_pose(face.landmarks, face.layout)
            midline = estimate_midline(face.landmarks, face.layout, pose=pose) if self.midline else None
        return FaceFrame(frame, face, pose, midline)
