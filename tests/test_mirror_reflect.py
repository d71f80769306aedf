"""Reflection across the midline and the left/right composites.

Midlines are in continuous image coordinates (pixel (i, j) has its centre at
(i + 0.5, j + 0.5)), like the face-mesh landmarks they come from.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from facemirror.mirror.midline import Midline
from facemirror.mirror.reflect import mirror_both, mirror_frame, reflect_image, reflection_matrix


def _symmetric_image(h: int, w: int, midline: Midline) -> np.ndarray:
    """A smooth textured image that is mirror-symmetric about ``midline``."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    d = np.abs(midline.signed_distance(xx, yy))
    s = (xx - midline.point[0]) * midline.direction[0] + (yy - midline.point[1]) * midline.direction[1]
    img = np.stack(
        [
            128 + 90 * np.cos(d / 9.0) * np.cos(s / 13.0),
            128 + 90 * np.sin(d / 17.0 + s / 23.0),
            128 + 100 * np.exp(-(((d - 40) / 15.0) ** 2)) - 50 * np.cos(s / 31.0),
        ],
        axis=-1,
    )
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def test_reflection_matrix_is_an_involution_fixing_the_line() -> None:
    m = Midline.from_angle((100.0, 80.0), 23.0)
    a = np.vstack([reflection_matrix(m), [0, 0, 1]])
    assert np.allclose(a @ a, np.eye(3))
    on_line = np.array([100.0 + 50 * m.direction[0], 80.0 + 50 * m.direction[1], 1.0])
    assert np.allclose(a @ on_line, on_line)
    off = np.array([100.0 + 10 * m.normal[0], 80.0 + 10 * m.normal[1], 1.0])
    assert np.allclose((a @ off)[:2], [100.0 - 10 * m.normal[0], 80.0 - 10 * m.normal[1]])


@pytest.mark.parametrize("angle", [0.0, 11.0, -27.0, 75.0])
def test_symmetric_image_is_its_own_mirror(angle: float) -> None:
    h, w = 240, 320
    m = Midline.from_angle((161.3, 118.7), angle)
    img = _symmetric_image(h, w, m)
    inner = (slice(60, 180), slice(100, 220))
    assert _psnr(reflect_image(img, m)[inner], img[inner]) > 40
    left, right = mirror_both(img, m)
    assert _psnr(left[inner], img[inner]) > 40 and _psnr(right[inner], img[inner]) > 40


def test_left_and_right_outputs_keep_the_documented_halves() -> None:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(120, 200, 3), dtype=np.uint8)
    m = Midline.from_angle((100.0, 60.0), 0.0)  # vertical through the centre; subject's left = image right
    left, right = mirror_both(img, m, feather_px=2.0)
    flipped = img[:, ::-1]  # the reflection about x = 100: column j <-> column 199 - j
    assert np.array_equal(left[:, 101:], img[:, 101:])  # subject's left half kept as is
    assert np.array_equal(left[:, :99], flipped[:, :99])  # and reflected onto the other side
    assert np.array_equal(right[:, :99], img[:, :99])
    assert np.array_equal(right[:, 101:], flipped[:, 101:])
    assert np.array_equal(mirror_frame(img, m, "left", feather_px=2.0), left)
    assert np.array_equal(mirror_frame(img, m, "right", feather_px=2.0), right)
    # selfie=True swaps the sides.
    assert np.array_equal(mirror_frame(img, m, "left", feather_px=2.0, selfie=True), right)
    sl, sr = mirror_both(img, m, feather_px=2.0, selfie=True)
    assert np.array_equal(sl, right) and np.array_equal(sr, left)


def test_left_of_image_equals_flipped_right_of_flipped_image() -> None:
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, size=(90, 161, 3), dtype=np.uint8)
    m = Midline.from_angle((80.5, 45.0), 0.0)  # the centre of a 161-pixel-wide frame
    left = mirror_frame(img, m, "left")
    right_of_flipped = mirror_frame(np.ascontiguousarray(img[:, ::-1]), m, "right")
    assert np.abs(left.astype(int) - right_of_flipped[:, ::-1].astype(int)).max() <= 1


@pytest.mark.parametrize("angle", [8.0, 60.0, 135.0])
def test_seam_is_a_linear_ramp_of_the_feather_width(angle: float) -> None:
    h, w = 100, 140
    img = np.full((h, w, 3), 200, np.uint8)
    img[..., 1] = 0
    m = Midline.from_angle((70.2, 49.6), angle)
    # Mark the kept side by colour so the blend weight can be read back from the output.
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    d = m.signed_distance(xx, yy)
    img[d > 10] = (0, 0, 0)
    img[d < -10] = (250, 250, 250)
    reflected = reflect_image(img, m).astype(np.float64)
    out = mirror_frame(img, m, "left", feather_px=6.0).astype(np.float64)
    weight = np.clip(0.5 + d / 6.0, 0, 1)[..., None]
    expected = weight * img + (1 - weight) * reflected
    assert np.abs(out - expected).max() <= 1.0


def test_bad_side_is_rejected() -> None:
    with pytest.raises(ValueError, match="side"):
        mirror_frame(np.zeros((4, 4, 3), np.uint8), Midline.from_angle((2.0, 2.0), 0.0), "top")  # type: ignore[arg-type]
