"""The AU network's face box, derived from the face mesh so no second detector has to run.

OpenFace 3.0 crops MTL's input with RetinaFace's box. RetinaFace's box is a
stable function of the face mesh's extent: measured on 31 real faces (frames
of ../shared/media/single_face.mp4 and face_noface.mov, the two photos
upright and rotated by +-15 degrees, and scikit-image's astronaut), relative
to the bounding box of the 478 mesh points (centre cx, cy; size w, h), the
RetinaFace MobileNet-0.25 box has centre (cx + 0.004 w, cy - 0.069 h) and
size (0.995 w, 1.139 h), with standard deviations 0.013, 0.008, 0.032 and
0.021 (in units of w or h). Using the mesh box with this mapping keeps the
crops RetinaFace-like, runs no extra network per frame, and gives the same
box rule to ``extract_aus()`` and to the mirrored faces of ``run()``.
"""

from __future__ import annotations

import numpy as np

#: RetinaFace box relative to the mesh bounding box: (centre x shift, centre y shift) in units of (w, h), (w, h) scale
RETINAFACE_FROM_MESH = ((0.004, -0.069), (0.995, 1.139))


def au_box(landmarks: np.ndarray) -> np.ndarray:
    """``(x1, y1, x2, y2)``: the RetinaFace-equivalent face box of a mesh's landmarks (image pixels)."""
    xy = np.asarray(landmarks, dtype=np.float64)[:, :2]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    size = hi - lo
    (sx, sy), (kw, kh) = RETINAFACE_FROM_MESH
    centre = (lo + hi) / 2 + np.array([sx, sy]) * size
    half = np.array([kw, kh]) * size / 2
    return np.concatenate([centre - half, centre + half])
