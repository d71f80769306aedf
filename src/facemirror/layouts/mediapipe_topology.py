"""Bilateral structure of MediaPipe's 478-point face mesh: mirror pairs, midline points, eyes, mouth.

Conventions: "left"/"right" are the SUBJECT's sides (MediaPipe's naming: point 263 is
the subject's left outer eye corner, which lies on the image right in a normal,
non-mirrored camera image). Every pair array lists the subject's-left index first.

Pairs and sagittal points of the 468 mesh vertices come from MediaPipe's canonical
face model (see conversion/make_mediapipe_topology.py and ``mediapipe_canonical``).
The 10 iris points are not in the canonical model; their order was checked on the
landmark network's output: 468 and 473 are the right and left iris centres, and both
rings run image-right (469/474), top (470/475), image-left (471/476), bottom
(472/477), so a reflection swaps 469<->476 and 471<->474.
"""

from __future__ import annotations

import numpy as np

from facemirror.layouts.base import mirror_permutation
from facemirror.layouts.mediapipe_canonical import CANONICAL_PAIRS, CANONICAL_SAGITTAL, CANONICAL_VERTICES

NUM_LANDMARKS = 478

#: (5, 2) iris mirror pairs, subject's left first: centres, then the ring.
IRIS_PAIRS = np.array([(473, 468), (476, 469), (475, 470), (474, 471), (477, 472)], dtype=np.int64)

#: (225, 2) all mirror pairs of the 478-point mesh, subject's-left index first.
LEFT_RIGHT_PAIRS = np.concatenate([CANONICAL_PAIRS, IRIS_PAIRS])

#: The 28 points on the facial midline (each is its own mirror image).
SAGITTAL = CANONICAL_SAGITTAL.copy()


#: (478,) perm[i] = the point mirror-symmetric to i. For landmarks ``lm`` of a
#: horizontally flipped image, ``flipped_back = lm[MIRROR_PERMUTATION]`` with x -> W - x.
MIRROR_PERMUTATION = mirror_permutation(NUM_LANDMARKS, LEFT_RIGHT_PAIRS)

# --- eyes -------------------------------------------------------------------
# Lid points run from the outer corner to the inner corner; UPPER[k] sits above LOWER[k].
RIGHT_EYE_OUTER, RIGHT_EYE_INNER = 33, 133
LEFT_EYE_OUTER, LEFT_EYE_INNER = 263, 362
RIGHT_EYE_UPPER = np.array([246, 161, 160, 159, 158, 157, 173], dtype=np.int64)
RIGHT_EYE_LOWER = np.array([7, 163, 144, 145, 153, 154, 155], dtype=np.int64)
LEFT_EYE_UPPER = np.array([466, 388, 387, 386, 385, 384, 398], dtype=np.int64)
LEFT_EYE_LOWER = np.array([249, 390, 373, 374, 380, 381, 382], dtype=np.int64)
#: the iris centres (the pupils), each followed by its ring of four iris points
RIGHT_IRIS_CENTER, LEFT_IRIS_CENTER = 468, 473

# --- brows and mouth --------------------------------------------------------
# The first five points of each brow run along its upper edge, outer end to inner end.
RIGHT_BROW = np.array([70, 63, 105, 66, 107, 46, 53, 52, 65, 55], dtype=np.int64)
LEFT_BROW = np.array([300, 293, 334, 296, 336, 276, 283, 282, 295, 285], dtype=np.int64)
RIGHT_MOUTH_CORNER, LEFT_MOUTH_CORNER = 61, 291
#: Outer and inner lip contours (both sides and the midline points 0, 17, 13, 14).
LIPS = np.array(
    [
        *(61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 185, 40, 39, 37, 0, 267, 269, 270, 409),
        *(78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 191, 80, 81, 82, 13, 312, 311, 310, 415),
    ],
    dtype=np.int64,
)

# --- points for the midline fit ---------------------------------------------
# Expressions move the lids, brows, lips and lower face, and in facial palsy they
# move them on one side only; the midline is fitted on the rigid upper face and
# nose: vertices above the mouth (canonical y above the subnasale, point 2) that
# are not on a lid, brow or lip contour, plus the iris centres.
_MOBILE = set(
    np.concatenate([RIGHT_EYE_UPPER, RIGHT_EYE_LOWER, LEFT_EYE_UPPER, LEFT_EYE_LOWER, RIGHT_BROW, LEFT_BROW, LIPS])
)
_RIGID = set(np.flatnonzero(CANONICAL_VERTICES[:, 1] >= CANONICAL_VERTICES[2, 1]).tolist()) - _MOBILE
#: Mirror pairs used by the midline fit (subject's left first).
MIDLINE_PAIRS = np.array(
    [p for p in CANONICAL_PAIRS.tolist() if p[0] in _RIGID and p[1] in _RIGID] + [IRIS_PAIRS[0].tolist()],
    dtype=np.int64,
)
#: Sagittal points used by the midline fit.
MIDLINE_SAGITTAL = np.array([i for i in CANONICAL_SAGITTAL.tolist() if i in _RIGID], dtype=np.int64)
