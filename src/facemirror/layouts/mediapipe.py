"""MediaPipe's 478-point face mesh as a :class:`LandmarkLayout` (the embedded Face Landmarker's points)."""

from __future__ import annotations

import numpy as np

from facemirror.layouts import mediapipe_topology as mesh
from facemirror.layouts.base import BoxRule, EyeRing, LandmarkLayout
from facemirror.layouts.mediapipe_canonical import CANONICAL_VERTICES

#: RetinaFace's box relative to the bounding box of the 478 points, measured on 31 real faces (frames of
#: ../shared/media/single_face.mp4 and face_noface.mov, the two photos upright and rotated by +-15 degrees,
#: scikit-image's astronaut): centre (cx + 0.004 w, cy - 0.069 h), size (0.995 w, 1.139 h); standard
#: deviations 0.013, 0.008, 0.032 and 0.021 (units of w or h).
RETINAFACE_BOX = BoxRule(shift=(0.004, -0.069), scale=(0.995, 1.139))


def _eye(outer: int, inner: int, upper: np.ndarray, lower: np.ndarray, pupil: int, iris: range) -> EyeRing:
    # the eye aspect ratio's lid points: the 3rd and 5th of the 7 points on each lid
    return EyeRing(
        outer=outer,
        inner=inner,
        upper_lid=tuple(upper.tolist()),
        lower_lid=tuple(lower.tolist()),
        ear_upper=(int(upper[2]), int(upper[4])),
        ear_lower=(int(lower[2]), int(lower[4])),
        pupil=pupil,
        iris=tuple(iris),
    )


# lips as closed contours, starting at the subject's right corner, along the lower lip, back along the upper lip
_LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
_LIPS_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)

MEDIAPIPE_478 = LandmarkLayout(
    name="mediapipe478",
    num_points=mesh.NUM_LANDMARKS,
    mirror_pairs=mesh.LEFT_RIGHT_PAIRS,
    sagittal=mesh.SAGITTAL,
    midline_pairs=mesh.MIDLINE_PAIRS,
    midline_sagittal=mesh.MIDLINE_SAGITTAL,
    eyes={
        "left": _eye(
            mesh.LEFT_EYE_OUTER,
            mesh.LEFT_EYE_INNER,
            mesh.LEFT_EYE_UPPER,
            mesh.LEFT_EYE_LOWER,
            mesh.LEFT_IRIS_CENTER,
            range(474, 478),
        ),
        "right": _eye(
            mesh.RIGHT_EYE_OUTER,
            mesh.RIGHT_EYE_INNER,
            mesh.RIGHT_EYE_UPPER,
            mesh.RIGHT_EYE_LOWER,
            mesh.RIGHT_IRIS_CENTER,
            range(469, 473),
        ),
    },
    brows={"left": tuple(mesh.LEFT_BROW[:5].tolist()), "right": tuple(mesh.RIGHT_BROW[:5].tolist())},
    mouth_corners={"left": mesh.LEFT_MOUTH_CORNER, "right": mesh.RIGHT_MOUTH_CORNER},
    lips_outer=_LIPS_OUTER,
    lips_inner=_LIPS_INNER,
    lower_lip_bottom=17,
    pose_points=np.arange(len(CANONICAL_VERTICES)),
    pose_model=CANONICAL_VERTICES,
    box_rule=RETINAFACE_BOX,
)
