"""WFLW's 98 face landmarks (STAR, OpenFace 3.0's landmark model) as a :class:`LandmarkLayout`.

Point order (image sides for a frontal, non-mirrored face; the subject's right
is the image left): 0-32 the face contour from the subject's right ear over
the chin (16) to the left ear; 33-37 the right brow's upper edge (outer to
inner) and 38-41 its lower edge (inner to outer); 42-46 the left brow's upper
edge (inner to outer) and 47-50 its lower edge; 51-54 the nose bridge to the
tip; 55-59 the nose's lower edge (57 on the midline); 60-67 the right eye (60
outer corner, 61-63 upper lid, 64 inner corner, 65-67 lower lid); 68-75 the
left eye (68 inner, 72 outer); 76-87 the outer lips (76 right corner, 79 upper
midline, 82 left corner, 85 lower midline); 88-95 the inner lips; 96/97 the
right/left pupil. WFLW has no iris ring, so millimetre scales fall back to the
distance between the pupils.

Head pose uses the points that have a counterpart in MediaPipe's canonical
face model (:data:`MESH_COUNTERPART`; the contour and pupils have none).
"""

from __future__ import annotations

import numpy as np

from facemirror.layouts.base import BoxRule, EyeRing, LandmarkLayout, mirror_permutation
from facemirror.layouts.mediapipe_canonical import CANONICAL_VERTICES
from facemirror.layouts.mediapipe_topology import MIRROR_PERMUTATION

NUM_POINTS = 98

# every mirror pair, subject's left first (the subject's left is the image right, the higher WFLW index)
_PAIRS = [
    *((32 - k, k) for k in range(16)),  # contour
    (46, 33), (45, 34), (44, 35), (43, 36), (42, 37), (50, 38), (49, 39), (48, 40), (47, 41),  # brows
    (59, 55), (58, 56),  # nose
    (72, 60), (71, 61), (70, 62), (69, 63), (68, 64), (73, 67), (74, 66), (75, 65),  # eyes
    (82, 76), (81, 77), (80, 78), (83, 87), (84, 86),  # outer lips
    (92, 88), (91, 89), (93, 95),  # inner lips
    (97, 96),  # pupils
]  # fmt: skip
_SAGITTAL = (16, 51, 52, 53, 54, 57, 79, 85, 90, 94)

#: WFLW point -> the MediaPipe mesh vertex at the same place (subject's right side and the midline; the left
#: side follows by symmetry). Used for head pose and to relate WFLW's face box to the mesh's.
MESH_COUNTERPART = {
    16: 152,
    33: 70, 34: 63, 35: 105, 36: 66, 37: 107, 38: 55, 39: 65, 40: 52, 41: 53,
    51: 168, 52: 197, 53: 5, 54: 4, 55: 98, 56: 97, 57: 2,
    60: 33, 61: 161, 62: 159, 63: 157, 64: 133, 65: 154, 66: 145, 67: 163,
    76: 61, 77: 40, 78: 37, 79: 0, 85: 17, 86: 84, 87: 91,
    88: 78, 89: 81, 90: 13, 94: 14, 95: 178,
}  # fmt: skip


def _full_counterparts() -> dict[int, int]:
    perm = mirror_permutation(NUM_POINTS, _PAIRS)
    out = dict(MESH_COUNTERPART)
    for wflw, vertex in MESH_COUNTERPART.items():
        out.setdefault(int(perm[wflw]), int(MIRROR_PERMUTATION[vertex]))
    return dict(sorted(out.items()))


_COUNTERPARTS = _full_counterparts()

#: RetinaFace's box relative to the bounding box of the 98 points. Estimated through the mesh (STAR's trained
#: weights are not available here): on the real faces of benchmarks/calibrate_box_rules.py, the bounding box of
#: the mesh points that stand for WFLW's (the counterparts above, plus the contour's ends at the ears) against
#: RetinaFace MobileNet-0.25's box. The detect-then-landmark tracker refits this rule to its detector at every
#: detection (``BoxRule.fitted``), so this default matters only for landmarks that come without a box.
RETINAFACE_BOX = BoxRule(shift=(0.0, -0.10), scale=(1.0, 1.2))

WFLW_98 = LandmarkLayout(
    name="wflw98",
    num_points=NUM_POINTS,
    mirror_pairs=np.array(_PAIRS),
    sagittal=np.array(_SAGITTAL),
    # rigid points only: eye corners, pupils, the nose's lower edge, the contour down to the cheekbones
    midline_pairs=np.array([(72, 60), (68, 64), (97, 96), (59, 55), (58, 56), *((32 - k, k) for k in range(7))]),
    midline_sagittal=np.array([51, 52, 53, 54, 57]),
    eyes={
        "right": EyeRing(60, 64, (61, 62, 63), (67, 66, 65), (61, 62, 63), (67, 66, 65), pupil=96),
        "left": EyeRing(72, 68, (71, 70, 69), (73, 74, 75), (71, 70, 69), (73, 74, 75), pupil=97),
    },
    brows={"left": (46, 45, 44, 43, 42), "right": (33, 34, 35, 36, 37)},
    mouth_corners={"left": 82, "right": 76},
    lips_outer=tuple(range(76, 88)),
    lips_inner=tuple(range(88, 96)),
    lower_lip_bottom=85,
    pose_points=np.array(list(_COUNTERPARTS)),
    pose_model=CANONICAL_VERTICES[list(_COUNTERPARTS.values())],
    box_rule=RETINAFACE_BOX,
)
