"""Reflect a frame across the facial midline into left-mirrored and right-mirrored faces.

Convention. "Left" and "right" are the SUBJECT's sides. In a normal (non-mirrored)
camera image the subject's left half is on the IMAGE RIGHT of the midline. The
*left-mirrored* frame keeps the subject's left half and replaces the other half by
its reflection (a face made of two left halves); the *right-mirrored* frame does the
same with the right half. The face mesh labels sides by appearance, so the kept
side is the one :attr:`Midline.normal` points to (the mesh's left). If the recording
itself was mirrored (a selfie-camera preview), the subject's real left is on the
image left: pass ``selfie=True`` to swap the sides.

Both outputs come from one warp: the reflected frame is the same for both and only
the side kept differs. Away from the line each output pixel is a plain copy of the
original or of the reflection; only a strip of rows or columns around the line, where
the ``feather_px`` seam ramps from one to the other, is blended (float32 weights from
an outer sum, then OpenCV's ``blendLinear``).

:func:`mirror_both_i420` does the same to the decoder's own I420 frames (8- or
10-bit, see :mod:`facemirror.video.i420`), each plane at its own resolution: half the bytes
of BGR to warp and no colour conversion, which is how the pipeline mirrors
videos. The chroma planes use the same line in their own pixel indices.

Coordinates. Midlines come from the face mesh, whose coordinates are
continuous image coordinates (MediaPipe's): pixel (i, j) covers
[i, i+1) x [j, j+1), so its centre is (i + 0.5, j + 0.5). OpenCV's warps index
pixel centres by integers, so every public function here shifts the midline by
half a pixel before warping (:func:`to_pixel_indices`); without it the
reflection lands one pixel off.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import cv2
import numpy as np

from facemirror.mirror.midline import Midline
from facemirror.video import i420

Side = Literal["left", "right"]


def reflection_matrix(midline: Midline) -> np.ndarray:
    """2x3 affine matrix of the reflection across the midline (its own inverse)."""
    n = np.asarray(midline.normal, dtype=np.float64)
    p0 = np.asarray(midline.point, dtype=np.float64)
    linear = np.eye(2) - 2.0 * np.outer(n, n)
    return np.hstack([linear, (2.0 * (n @ p0) * n)[:, None]])


def to_pixel_indices(midline: Midline) -> Midline:
    """The same line in OpenCV's pixel-index coordinates (pixel centres at integers)."""
    x, y = midline.point
    return replace(midline, point=(x - 0.5, y - 0.5))


def reflect_image(image: np.ndarray, midline: Midline, border: int = cv2.BORDER_REPLICATE) -> np.ndarray:
    """The whole frame reflected across the midline (bilinear)."""
    return _reflect(image, to_pixel_indices(midline), border)


def _reflect(image: np.ndarray, midline: Midline, border: int = cv2.BORDER_REPLICATE) -> np.ndarray:
    """``reflect_image`` for a midline already in pixel-index coordinates."""
    h, w = image.shape[:2]
    return cv2.warpAffine(
        image, reflection_matrix(midline), (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=border
    )


def _keep_side(
    image: np.ndarray,
    reflected: np.ndarray,
    normal: tuple[float, float],
    offset: float,
    feather_px: float,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Original pixels where ``normal . p > offset``, reflected ones elsewhere, ramped over ``feather_px``.

    Written into ``out`` when given (any array of the image's shape, a view included).
    """
    h, w = image.shape[:2]
    nx, ny = normal
    feather = max(float(feather_px), 1e-3)
    # The seam crosses every row when the line is steep (strip of columns), else every column (strip of rows).
    axis, along, across, n_along, n_across = (1, w, h, nx, ny) if abs(nx) >= abs(ny) else (0, h, w, ny, nx)
    ends = [(offset - n_across * q) / n_along for q in (0.0, across - 1.0)]
    half = 0.5 * feather / abs(n_along)
    lo = int(np.clip(np.floor(min(ends) - half), 0, along))
    hi = int(np.clip(np.ceil(max(ends) + half) + 1, lo, along))
    before, after = (reflected, image) if n_along > 0 else (image, reflected)
    if out is None:
        out = np.empty_like(image)
    index = [slice(None)] * image.ndim
    for src, span in ((before, slice(0, lo)), (after, slice(hi, along))):
        index[axis] = span
        out[tuple(index)] = src[tuple(index)]
    if hi > lo:
        index[axis] = slice(lo, hi)
        strip = tuple(index)
        xs = np.arange(w if axis == 0 else hi - lo, dtype=np.float32) + (0 if axis == 0 else lo)
        ys = np.arange(h if axis == 1 else hi - lo, dtype=np.float32) + (0 if axis == 1 else lo)
        weight = np.add.outer(
            np.float32(ny / feather) * ys + np.float32(0.5 - offset / feather), np.float32(nx / feather) * xs
        )
        np.clip(weight, 0.0, 1.0, out=weight)
        out[strip] = _blend(image[strip], reflected[strip], weight)
    return out


def _blend(a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``a * weight + b * (1 - weight)``; OpenCV's ``blendLinear`` blends 8-bit or float, so 16-bit goes via float."""
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    if a.dtype == np.uint8:
        return cv2.blendLinear(a, b, weight, 1.0 - weight)
    blended = cv2.blendLinear(a.astype(np.float32), b.astype(np.float32), weight, 1.0 - weight)
    return np.rint(blended).astype(a.dtype)


def _oriented(midline: Midline, keep_left: bool) -> tuple[tuple[float, float], float]:
    """Normal and offset of the midline oriented so that the kept half is on its positive side."""
    nx, ny = midline.normal
    if not keep_left:
        nx, ny = -nx, -ny
    return (nx, ny), nx * midline.point[0] + ny * midline.point[1]


def mirror_both(
    image: np.ndarray, midline: Midline, feather_px: float = 4.0, selfie: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(left-mirrored, right-mirrored) frames from one reflection (see the module doc for the convention)."""
    midline = to_pixel_indices(midline)
    reflected = _reflect(image, midline)
    left = _keep_side(image, reflected, *_oriented(midline, keep_left=not selfie), feather_px)
    right = _keep_side(image, reflected, *_oriented(midline, keep_left=selfie), feather_px)
    return left, right


def mirror_both_i420(
    yuv: np.ndarray, midline: Midline, feather_px: float = 4.0, selfie: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`mirror_both` for an I420 frame: (left-mirrored, right-mirrored) I420 frames."""
    luma = to_pixel_indices(midline)
    x, y = luma.point
    chroma = replace(luma, point=(x / 2, (y - 0.5) / 2))  # chroma sample (u, v) sits at luma (2u, 2v + 0.5)
    outputs = (np.empty_like(yuv), np.empty_like(yuv))
    sources, left_planes, right_planes = i420.planes(yuv), i420.planes(outputs[0]), i420.planes(outputs[1])
    for k, plane in enumerate(sources):
        line, feather = (luma, feather_px) if k == 0 else (chroma, feather_px / 2)
        reflected = _reflect(plane, line)
        _keep_side(plane, reflected, *_oriented(line, keep_left=not selfie), feather, out=left_planes[k])
        _keep_side(plane, reflected, *_oriented(line, keep_left=selfie), feather, out=right_planes[k])
    return outputs


def mirror_frame(
    image: np.ndarray, midline: Midline, side: Side, feather_px: float = 4.0, selfie: bool = False
) -> np.ndarray:
    """The ``side``-mirrored frame: that half of the subject's face and its reflection."""
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', not {side!r}")
    midline = to_pixel_indices(midline)
    reflected = _reflect(image, midline)
    return _keep_side(image, reflected, *_oriented(midline, keep_left=(side == "left") != selfie), feather_px)
