"""Face trackers: follow one person's face through a video as landmarks in a declared layout.

- :class:`FaceTracker` / :class:`TrackedFace`: the interface ``Pipeline(face=...)`` takes.
- :class:`MediaPipeTracker`: the embedded Face Landmarker (``face="mediapipe"``, the default).
- :class:`DetectLandmarkTracker`: any ``Detector`` + any ``LandmarkModel``
  (``face="openface3"`` is RetinaFace + STAR).
- :class:`SubjectLock`: which face is the subject's (one person per video).
"""

from facemirror.face.base import FaceTracker, TrackedFace
from facemirror.face.detect_landmark import DetectLandmarkTracker
from facemirror.face.following import FollowingTracker
from facemirror.face.mediapipe import MediaPipeTracker
from facemirror.face.subject import PRIMARY_RULE, SubjectLock

__all__ = [
    "PRIMARY_RULE",
    "DetectLandmarkTracker",
    "FaceTracker",
    "FollowingTracker",
    "MediaPipeTracker",
    "SubjectLock",
    "TrackedFace",
]
