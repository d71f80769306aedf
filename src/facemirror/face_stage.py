"""The face stage every job shares: follow one face through a video with the embedded face model.

MediaPipe-style tracking (landmarks of one frame give the next frame's crop)
is fast and steady, but can drift onto something that is not the face. So
the detector also runs on a schedule (``redetect_seconds``) besides when the
mesh's presence score drops. The face followed is the detector's best face
(the most confident, which in practice is the largest, most frontal one);
see docs/architecture.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facemirror.mirror.midline import HeadPose, Midline, estimate_midline, head_pose
from facemirror.models.face_landmarker import FaceLandmarker, LandmarkResult
from facemirror.timing import StageTimes
from facemirror.video import Frame


@dataclass
class FaceFrame:
    """A decoded frame and what the face stage found in it (all None without a face)."""

    frame: Frame
    face: LandmarkResult | None
    pose: HeadPose | None
    midline: Midline | None

    @property
    def landmarks(self) -> np.ndarray | None:
        return None if self.face is None else self.face.landmarks

    @property
    def source(self) -> str:
        """detected | tracked | none."""
        return "none" if self.face is None else self.face.source


class FaceFollower:
    """Landmarks, head pose and raw midline of the followed face, frame after frame."""

    def __init__(
        self, landmarker: FaceLandmarker, redetect_seconds: float | None, times: StageTimes, midline: bool = True
    ) -> None:
        self.landmarker = landmarker
        self.redetect_seconds = redetect_seconds
        self.times = times
        #: fit the raw midline (the mirror jobs); extract_aus only needs landmarks and head pose
        self.midline = midline
        self._last_detection: float | None = None
        landmarker.reset()

    def __call__(self, frame: Frame) -> FaceFrame:
        due = (
            self.redetect_seconds is not None
            and self._last_detection is not None
            and frame.timestamp - self._last_detection >= self.redetect_seconds
        )
        if due:
            self.landmarker.reset()
        with self.times.measure("landmarks"):
            face = self.landmarker.track(frame.image)
        if face is None:
            return FaceFrame(frame, None, None, None)
        if face.source == "detected":
            self._last_detection = frame.timestamp
        with self.times.measure("midline" if self.midline else "head_pose"):
            pose = head_pose(face.landmarks)
            midline = estimate_midline(face.landmarks, pose=pose) if self.midline else None
        return FaceFrame(frame, face, pose, midline)
