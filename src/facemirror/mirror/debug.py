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
_FONT = cv2.FONT_HERSHEY_SIMPLEX
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


def label_style(height: int, width: int) -> tuple[float, int]:
    """Font scale and stroke thickness of the labels on a debug frame of this size: they grow with the frame.

    Sized by the frame's shorter side, so a portrait video's labels fit its width.
    """
    size = max(0.35, min(height, width) / 900.0)
    return size, max(1, round(2 * size))


def _text(image: np.ndarray, text: str, origin: tuple[int, int], size: float, thickness: int) -> None:
    """White text with a dark outline hugging its glyphs, readable on any background.

    The outline is the glyph mask grown by the stroke thickness, not a second, thicker ``putText``: OpenCV
    advances each character by the stroke thickness, so a thicker copy drifts off the text.
    """
    (tw, th), base = cv2.getTextSize(text, _FONT, size, thickness)
    pad = thickness  # outline width
    margin = 2 * pad + 2  # room for the anti-aliased edge and the outline around it
    x0, y0 = max(0, origin[0] - margin), max(0, origin[1] - th - margin)
    x1, y1 = min(image.shape[1], origin[0] + tw + margin), min(image.shape[0], origin[1] + base + margin)
    if x1 <= x0 or y1 <= y0:
        return
    glyphs = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.putText(glyphs, text, (origin[0] - x0, origin[1] - y0), _FONT, size, 255, thickness, cv2.LINE_AA)
    outline = cv2.dilate((glyphs > 0).astype(np.uint8), np.ones((2 * pad + 1, 2 * pad + 1), np.uint8)) > 0
    # on black, the anti-aliased glyphs are their coverage times the text colour
    image[y0:y1, x0:x1][outline] = glyphs[outline][:, None].astype(np.uint16) * np.array(_TEXT) // 255


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
    font, thickness = label_style(h, w)
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
    step = round(36 * font)  # a line of text and the outlines above and below it
    top = step + 4
    if status != TRACKED:
        colour, label = _BANNERS.get(status, ((128, 128, 128), status.upper()))
        cv2.rectangle(out, (0, 0), (w - 1, step + 8), colour, -1)
        _text(out, label, (6, step), font, thickness)
        top += step + 8
    lines = [f"frame {frame_index}"]
    if pose is not None and np.isfinite(pose).all():  # a layout without pose points gives NaN
        lines.append(f"yaw {pose.yaw:+.0f} pitch {pose.pitch:+.0f} roll {pose.roll:+.0f}")
    if midline is not None:
        lines.append(f"midline {midline.angle_deg:+.1f} deg")
    for i, text in enumerate(lines):
        _text(out, text, (6, top + i * step), font, thickness)
    return out
