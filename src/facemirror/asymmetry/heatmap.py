"""The asymmetry field drawn as a heat map over a frame (the debug video's and the report's picture)."""

from __future__ import annotations

import cv2
import numpy as np

from facemirror.asymmetry.field import AsymmetryField


def overlay_heatmap(
    image: np.ndarray, field: AsymmetryField, full_scale_px: float, scale: float = 1.0, opacity: float = 0.6
) -> np.ndarray:
    """``image`` (BGR uint8, ``scale`` times the field's frame) with ``|a|`` blended over the face in INFERNO colours.

    ``full_scale_px`` (image pixels of the field's frame) maps to the brightest colour; keep it fixed over a
    video so colours compare between frames. Where the field is undefined the image shows through.
    """
    if full_scale_px <= 0:
        raise ValueError(f"full_scale_px must be positive, got {full_scale_px}")
    magnitude = field.magnitude_image(image.shape[:2], scale)
    defined = np.isfinite(magnitude)
    level = np.clip(np.nan_to_num(magnitude) * (255.0 / full_scale_px), 0, 255).astype(np.uint8)
    colours = cv2.applyColorMap(level, cv2.COLORMAP_INFERNO)
    out = image.copy()
    out[defined] = cv2.addWeighted(image, 1.0 - opacity, colours, opacity, 0.0)[defined]
    return out
