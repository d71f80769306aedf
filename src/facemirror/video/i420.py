"""I420 frames: YUV 4:2:0 as one NumPy array, the layout phone videos decode to.

The mirror stage reflects these directly and hands them to the encoder, so the
mirrored videos skip the YUV -> BGR -> YUV round trip: half the bytes to warp,
no colour conversions, and the kept half of every frame is the decoder's own
pixels in the source's own colours.

Layout (FFmpeg's ``yuv420p``, OpenCV's ``COLOR_*_I420``): a ``(H * 3 / 2, W)``
array holding the Y plane (H rows), then U (H/2 x W/2, packed W wide,
so it ends mid-row when H/2 is odd), then V; H and W are even. Chroma
samples are left-sited (H.264's default): in pixel-index coordinates chroma
sample (u, v) sits at luma (2u, 2v + 0.5). 8-bit video is uint8; 10-bit video
(``yuv420p10le``: iPhones record HEVC Main 10) is uint16 holding 0..1023.
"""

from __future__ import annotations

import cv2
import numpy as np

#: the decoder formats that are this layout already (yuvj420p is the full-range variant), and their sample type
FORMATS: dict[str, type[np.unsignedinteger]] = {"yuv420p": np.uint8, "yuvj420p": np.uint8, "yuv420p10le": np.uint16}


def size(yuv: np.ndarray) -> tuple[int, int]:
    """(width, height) of the picture."""
    return yuv.shape[1], yuv.shape[0] * 2 // 3


def planes(yuv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y (H, W), U (H/2, W/2) and V (H/2, W/2) planes; writing to them writes ``yuv``."""
    width, height = size(yuv)
    chroma = yuv[height:].reshape(-1)  # U then V, packed: a plane ends mid-row when height / 2 is odd
    quarter = chroma.size // 2
    shape = (height // 2, width // 2)
    return yuv[:height], chroma[:quarter].reshape(shape), chroma[quarter:].reshape(shape)


def empty(width: int, height: int, dtype: type[np.unsignedinteger] = np.uint8) -> np.ndarray:
    """An uninitialised I420 frame of an even ``width`` x ``height`` (uint16 for 10-bit)."""
    if width % 2 or height % 2:
        raise ValueError(f"I420 needs an even size, got {width}x{height}")
    return np.empty((height * 3 // 2, width), dtype=dtype)


def rotate(yuv: np.ndarray, code: int) -> np.ndarray:
    """The frame turned by a ``cv2.ROTATE_*`` code, each plane on its own."""
    turned = [cv2.rotate(plane, code) for plane in planes(yuv)]
    out = empty(turned[0].shape[1], turned[0].shape[0], yuv.dtype.type)
    for target, plane in zip(planes(out), turned):
        target[:] = plane
    return out


def to_bgr(yuv: np.ndarray) -> np.ndarray:
    """BGR uint8 (H, W, 3) with OpenCV's BT.601 conversion (for models that need colour pixels).

    10-bit samples are rounded to 8 bits first (OpenCV converts 8-bit I420 only).
    """
    if yuv.dtype != np.uint8:
        yuv = np.minimum((yuv + 2) >> 2, 255).astype(np.uint8)
    return cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR_I420)


def region_to_bgr(yuv: np.ndarray, x1: int, y1: int, x2: int, y2: int) -> np.ndarray:
    """BGR of the box ``[y1:y2, x1:x2]`` alone, equal to that box of :func:`to_bgr` (a crop costs a crop).

    The box is widened to even edges for the chroma planes, converted, and cut back.
    """
    width, height = size(yuv)
    if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
        raise ValueError(f"box ({x1}, {y1}, {x2}, {y2}) is not inside the {width}x{height} frame")
    ex1, ey1, ex2, ey2 = x1 - x1 % 2, y1 - y1 % 2, x2 + x2 % 2, y2 + y2 % 2
    region = empty(ex2 - ex1, ey2 - ey1, yuv.dtype.type)
    for target, plane, k in zip(planes(region), planes(yuv), (1, 2, 2)):
        target[:] = plane[ey1 // k : ey2 // k, ex1 // k : ex2 // k]
    return to_bgr(region)[y1 - ey1 : y2 - ey1, x1 - ex1 : x2 - ex1]
