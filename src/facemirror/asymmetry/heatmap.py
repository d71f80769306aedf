"""The asymmetry field drawn over a frame (the debug video's and the report's picture)."""

from __future__ import annotations

import cv2
import numpy as np

from facemirror.asymmetry.field import AsymmetryField

_LOWER = np.array([40, 40, 230], dtype=np.float32)  # BGR red: sits lower than its partner's mirror image
_HIGHER = np.array([230, 120, 30], dtype=np.float32)  # BGR blue: sits higher
#: what the signed map's colours mean, for legends
SIGNED_LEGEND = (
    "red where a point sits lower than the mirror image of its partner on the other side, blue where it sits "
    "higher; the stronger the colour, the larger the difference"
)


def overlay_heatmap(
    image: np.ndarray,
    field: AsymmetryField,
    full_scale_px: float,
    scale: float = 1.0,
    opacity: float = 0.7,
    signed: bool = False,
    outline: np.ndarray | None = None,
    origin: tuple[int, int] = (0, 0),
) -> np.ndarray:
    """``image`` (BGR uint8, ``scale`` times the field's frame) with the asymmetry blended over the face.

    Unsigned: ``|a|`` in INFERNO colours. Signed: the down-the-face part, red where a point sits lower than the
    mirror image of its partner and blue where it sits higher, so a drooping side shows red and its healthy
    partner blue. Opacity grows with the value up to ``opacity`` at ``full_scale_px`` (image pixels of the
    field's frame; keep it fixed over a video so colours compare), so symmetric skin stays as it is. With
    ``outline`` (points of the face, e.g. its landmarks, in the field's frame) only their convex hull is coloured:
    the background and hair beside a face differ from their reflection too, and say nothing about it.
    ``origin`` (x, y): where ``image``'s top-left pixel lies in the scaled frame, when it is a cut-out of it.
    """
    if full_scale_px <= 0:
        raise ValueError(f"full_scale_px must be positive, got {full_scale_px}")
    values = field.to_image(field.down() if signed else field.magnitude(), image.shape[:2], scale, origin)
    level = np.clip(np.nan_to_num(values) / full_scale_px, -1.0, 1.0)
    if outline is not None:
        inside = np.zeros(level.shape, dtype=np.uint8)
        hull = cv2.convexHull(np.round(np.asarray(outline)[:, :2] * scale - 0.5 - origin).astype(np.int32))
        cv2.fillConvexPoly(inside, hull, 1)
        level[inside == 0] = 0.0
    if signed:
        colours = np.where(level[..., None] > 0, _LOWER, _HIGHER)
    else:
        index = np.round(np.abs(level) * 255).astype(np.uint8)
        colours = cv2.applyColorMap(index, cv2.COLORMAP_INFERNO).astype(np.float32)
    weight = (opacity * np.abs(level))[..., None].astype(np.float32)
    return np.round(image * (1.0 - weight) + colours * weight).astype(np.uint8)
