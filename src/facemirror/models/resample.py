"""Antialiased bilinear resizing in numpy, equal to the two resizers OpenFace 3.0's MTL path uses.

Both are the separable triangle filter whose support grows with the
downscale factor (PIL's ``BILINEAR`` algorithm, which torch's
``interpolate(mode="bilinear", antialias=True)`` reproduces):

- :func:`resize_bilinear_antialias` works on float images like torch does on
  a ``[0, 1]`` tensor (torchvision ``Resize`` applied after ``ToTensor``);
- :func:`resize_pil_bilinear` works on uint8 images with PIL's 22-bit fixed
  point arithmetic and rounding after each pass (``Resize`` on a PIL image).

cv2's ``INTER_LINEAR``/``INTER_AREA`` differ from both, hence this module.
"""

from __future__ import annotations

import numpy as np

#: PIL's fixed-point precision for 8-bit resampling (``32 - 8 - 2``)
_PIL_PRECISION_BITS = 22


def filter_taps(in_size: int, out_size: int, single: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Source indices ``(out, K)`` and normalized triangle weights ``(out, K)`` for one axis.

    Output pixel ``i`` is centred at ``(i + 0.5) * in/out``; when shrinking,
    the filter support (and the triangle) is stretched by the scale, so every
    source pixel contributes. Taps beyond the image get zero weight.
    ``single=True`` rounds like torch's float32 kernel (scale, centre and
    weights in float32, the ``+ 0.5`` steps in double); else all in double, as PIL.
    """
    if in_size < 1 or out_size < 1:
        raise ValueError(f"cannot resize an axis of {in_size} pixels to {out_size}")
    real = np.dtype(np.float32 if single else np.float64)
    scale = np.asarray(in_size, real) / np.asarray(out_size, real)
    support = np.maximum(scale, np.asarray(1.0, real))
    inv_support = np.asarray(1.0 / support.astype(np.float64), real)
    centers = (scale.astype(np.float64) * (np.arange(out_size) + 0.5)).astype(real)
    # C casts truncate toward zero, as PIL and torch do
    first = np.maximum(np.trunc((centers - support).astype(np.float64) + 0.5).astype(np.int64), 0)
    last = np.minimum(np.trunc((centers + support).astype(np.float64) + 0.5).astype(np.int64), in_size)
    taps = first[:, None] + np.arange(int((last - first).max()))[None, :]
    x = ((taps.astype(real) - centers[:, None]).astype(np.float64) + 0.5) * inv_support.astype(np.float64)
    weights = np.clip(1.0 - np.abs(x.astype(real)), 0.0, None).astype(real)
    weights[taps >= last[:, None]] = 0.0
    total = np.zeros(out_size, dtype=real)
    for k in range(weights.shape[1]):  # sequential sum, in the kernel's order
        total += weights[:, k]
    weights /= total[:, None]
    return np.minimum(taps, in_size - 1), weights


def _resample_axis(image: np.ndarray, axis: int, taps: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted sum of gathered rows (``axis=0``) or columns (``axis=1``)."""
    shape = [1] * image.ndim
    shape[axis] = taps.shape[0]
    out = np.zeros((*image.shape[:axis], taps.shape[0], *image.shape[axis + 1 :]), dtype=weights.dtype)
    for k in range(taps.shape[1]):
        out += weights[:, k].reshape(shape) * np.take(image, taps[:, k], axis=axis)
    return out


def resize_bilinear_antialias(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a float ``(H, W[, C])`` image to ``size = (height, width)``; float32 out.

    Equals ``torch.nn.functional.interpolate(mode="bilinear", align_corners=False,
    antialias=True)`` to float32 rounding (width pass first, then height, as torch does).
    """
    height, width = size
    img = np.asarray(image, dtype=np.float32)
    for axis, out_size in ((1, width), (0, height)):
        taps, weights = filter_taps(img.shape[axis], out_size, single=True)
        img = _resample_axis(img, axis, taps, weights)
    return img


def resize_pil_bilinear(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a uint8 ``(H, W[, C])`` image to ``size = (height, width)`` exactly as PIL's ``BILINEAR`` does.

    PIL rounds the weights to 22-bit integers and the result to uint8 after
    each pass; an axis already at its size is left untouched. The width pass
    runs first, as in classic Pillow; recent Pillow releases run the height
    pass first for some shapes, which moves some pixels by one grey level.
    """
    height, width = size
    img = np.asarray(image, dtype=np.uint8)
    one = 1 << _PIL_PRECISION_BITS
    for axis, out_size in ((1, width), (0, height)):
        if img.shape[axis] == out_size:
            continue
        taps, weights = filter_taps(img.shape[axis], out_size)
        fixed = np.floor(weights * one + 0.5).astype(np.int64)
        acc = _resample_axis(img.astype(np.int64), axis, taps, fixed) + (one >> 1)
        img = np.clip(acc >> _PIL_PRECISION_BITS, 0, 255).astype(np.uint8)
    return img
