"""The debug frame: the midline, landmarks, face box, frame number and head pose drawn on a reduced frame.

A coloured banner across the top flags frames a reviewer must look at: the face was
lost (no midline: the frame passes through unmirrored), the midline is held from an
earlier frame, or the head is turned too far for a valid split.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from facemirror.mirror.midline import HeadPose, Midline
from facemirror.mirror.smoothing import HELD, NONE, TRACKED, TURNED

# BGR colours
_MIDLINE = (0, 255, 255)
_LANDMARK = (80, 220, 80)
_BOX = (255, 160, 0)
_TEXT = (255, 255, 255)
_BANNERS = {
    NONE: ((40, 40, 220), "NO FACE - frame not mirrored"),
    HELD: ((0, 165, 255), "FACE LOST - midline held"),
    TURNED: ((200, 60, 200), "HEAD TURNED TOO FAR - split not valid"),
}


def _scaled_image(image: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return image.copy()
    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR)


def _text(image: np.ndarray, text: str, origin: tuple[int, int], size: float) -> None:
    thickness = max(1, round(2 * size))
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, size, (0, 0, 0), thickness + 1, cv2.LINE_AA)
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, size, _TEXT, thickness, cv2.LINE_AA)


def _draw_points(image: np.ndarray, xy: np.ndarray) -> None:
    """2x2-pixel dots, set directly (cheaper than one cv2.circle per landmark)."""
    h, w = image.shape[:2]
    pts = np.round(xy).astype(np.int64)
    for dx in (0, 1):
        for dy in (0, 1):
            x, y = pts[:, 0] + dx, pts[:, 1] + dy
            ok = (x >= 0) & (x < w) & (y >= 0) & (y < h)
            image[y[ok], x[ok]] = _LANDMARK


def draw_debug(
    image: np.ndarray,
    landmarks: np.ndarray | None,
    midline: Midline | None,
    box: Sequence[float] | np.ndarray | None,
    frame_index: int,
    pose: HeadPose | None,
    status: str,
    scale: float = 0.5,
) -> np.ndarray:
    """A new BGR frame, ``scale`` times the input size, with the overlay (the input is not modified).

    ``box`` is (x0, y0, x1, y1) in input pixels; ``status`` is one of the smoothing
    statuses (tracked, held, none) or ``TURNED``; anything but tracked gets a banner.
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    out = _scaled_image(image, scale)
    h, w = out.shape[:2]
    font = max(0.35, h / 900.0)
    line = max(1, round(h / 360))
    if landmarks is not None:
        _draw_points(out, np.asarray(landmarks, dtype=np.float64)[:, :2] * scale)
    if box is not None:
        x0, y0, x1, y1 = (round(v * scale) for v in box[:4])
        cv2.rectangle(out, (x0, y0), (x1, y1), _BOX, line, cv2.LINE_AA)
    if midline is not None:
        scaled = Midline(point=(midline.point[0] * scale, midline.point[1] * scale), direction=midline.direction)
        ends = scaled.endpoints(h, w)
        if ends is not None:
            (ax, ay), (bx, by) = ends
            cv2.line(out, (round(ax), round(ay)), (round(bx), round(by)), _MIDLINE, line, cv2.LINE_AA)
    step = round(32 * font)
    top = step + 4
    if status != TRACKED:
        colour, label = _BANNERS.get(status, ((128, 128, 128), status.upper()))
        cv2.rectangle(out, (0, 0), (w - 1, step + 8), colour, -1)
        _text(out, label, (6, step), font)
        top += step + 8
    _text(out, f"frame {frame_index}", (6, top), font)
    if pose is not None and np.isfinite(pose).all():  # a layout without pose points gives NaN
        _text(out, f"yaw {pose.yaw:+.0f} pitch {pose.pitch:+.0f} roll {pose.roll:+.0f}", (6, top + step), font)
    if midline is not None:
        _text(out, f"midline {midline.angle_deg:+.1f} deg", (6, top + 2 * step), font)
    return out
