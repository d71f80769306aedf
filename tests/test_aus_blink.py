"""Blink (AU45): eye aspect ratio on synthetic eyes for both landmark sets, the 0-5 mapping, per-video baselines."""

from __future__ import annotations

import math

import numpy as np
import pytest

from facemirror.aus import au45, au45_intensity, mesh_ear, video_baseline, wflw_ear
from facemirror.aus.blink import CLOSED_FRACTION, DEFAULT_OPEN_EAR, MIN_BASELINE_FRAMES, eye_aspect_ratio
from facemirror.layouts import MEDIAPIPE_478, WFLW_98
from facemirror.layouts import mediapipe_topology as topo


def _lid(center: tuple[float, float], width: float, height: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` upper and lower lid points on an ellipse, outer (image-left) to inner, plus the two corners."""
    t = np.linspace(0, math.pi, n + 2)[1:-1]
    x = center[0] - width / 2 * np.cos(t)
    upper = np.stack([x, center[1] - height / 2 * np.sin(t)], 1)
    lower = np.stack([x, center[1] + height / 2 * np.sin(t)], 1)
    return upper, lower


def _mesh_face(left_open: float, right_open: float, width: float = 30.0) -> np.ndarray:
    """A 478-point mesh with elliptical eyes whose height/width ratios are given (subject's left, right)."""
    lm = np.zeros((topo.NUM_LANDMARKS, 3))
    eyes = [  # subject's right eye on the image left, corners outer then inner
        (topo.RIGHT_EYE_OUTER, topo.RIGHT_EYE_INNER, topo.RIGHT_EYE_UPPER, topo.RIGHT_EYE_LOWER, 100.0, right_open),
        (topo.LEFT_EYE_OUTER, topo.LEFT_EYE_INNER, topo.LEFT_EYE_UPPER, topo.LEFT_EYE_LOWER, 200.0, left_open),
    ]
    for outer, inner, up_idx, low_idx, cx, ratio in eyes:
        sign = 1.0 if cx < 150 else -1.0  # the outer corner is away from the nose
        upper, lower = _lid((cx, 100.0), width, ratio * width, len(up_idx))
        upper[:, 0] = cx + sign * (upper[:, 0] - cx)
        lower[:, 0] = cx + sign * (lower[:, 0] - cx)
        lm[up_idx, :2], lm[low_idx, :2] = upper, lower
        lm[outer, :2] = (cx - sign * width / 2, 100.0)
        lm[inner, :2] = (cx + sign * width / 2, 100.0)
    return lm


def _six_point_ellipse_ear(ratio: float, n: int = 7) -> float:
    # EAR of an ellipse sampled like the mesh: the 3rd and 5th of n lid points
    t = np.linspace(0, math.pi, n + 2)[1:-1]
    return ratio * (math.sin(t[2]) + math.sin(t[4])) / 2


def test_mesh_ear_on_synthetic_eyes() -> None:
    left, right = mesh_ear(_mesh_face(left_open=0.35, right_open=0.0))
    assert left == pytest.approx(_six_point_ellipse_ear(0.35))
    assert 0.25 < left < 0.35  # an open eye's EAR range (Soukupová & Čech)
    assert right == pytest.approx(0.0, abs=1e-12)
    # the sides are the subject's: swap which eye is shut and the outputs swap
    left, right = mesh_ear(_mesh_face(left_open=0.02, right_open=0.3))
    assert left < 0.05 and right == pytest.approx(_six_point_ellipse_ear(0.3))


def test_mesh_ear_points_are_corners_and_facing_lids() -> None:
    def six_points(side: str) -> tuple[int, ...]:
        eye = MEDIAPIPE_478.eyes[side]
        return (eye.outer, *eye.ear_upper, eye.inner, *eye.ear_lower[::-1])

    assert six_points("right") == (33, 160, 158, 133, 153, 144)
    assert six_points("left") == (263, 387, 385, 362, 380, 373)
    assert MEDIAPIPE_478.eyes["right"].outer == topo.RIGHT_EYE_OUTER
    assert MEDIAPIPE_478.eyes["left"].inner == topo.LEFT_EYE_INNER
    # scale and translation invariance
    lm = _mesh_face(0.3, 0.2)
    assert mesh_ear(lm * 3.0 + 50.0) == pytest.approx(mesh_ear(lm))


def _wflw_face(left_open: float, right_open: float, width: float = 40.0) -> np.ndarray:
    lm = np.zeros((98, 2))
    # ring 60-67: image-left eye (subject's right); 60 outer corner, 61-63 upper, 64 inner, 65-67 lower
    for start, cx, ratio in ((60, 100.0, right_open), (68, 200.0, left_open)):
        upper, lower = _lid((cx, 100.0), width, ratio * width, 3)
        lm[start] = (cx - width / 2, 100.0)
        lm[start + 1 : start + 4] = upper
        lm[start + 4] = (cx + width / 2, 100.0)
        lm[start + 5 : start + 8] = lower[::-1]
    return lm


def test_wflw_eye_rings_are_the_layouts() -> None:
    # WFLW's eye rings are 60-67 (subject's right) and 68-75, corners at 60/64 and 68/72 (the prior tool's bug)
    right, left = WFLW_98.eyes["right"], WFLW_98.eyes["left"]
    assert (right.outer, right.inner, left.inner, left.outer) == (60, 64, 68, 72)
    assert set(right.ear_upper + right.ear_lower) == set(range(61, 68)) - {64}
    assert set(left.ear_upper + left.ear_lower) == set(range(69, 76)) - {72}


def test_wflw_ear_on_synthetic_eyes() -> None:
    left, right = wflw_ear(_wflw_face(left_open=0.3, right_open=0.05))
    expected = 0.3 * (2 * math.sin(math.pi / 4) + 1) / 3  # lid points at 45, 90, 135 degrees
    assert left == pytest.approx(expected)
    assert right == pytest.approx(0.05 * (2 * math.sin(math.pi / 4) + 1) / 3)
    with pytest.raises(ValueError, match="98"):
        wflw_ear(np.zeros((68, 2)))


def test_degenerate_eye_is_nan() -> None:
    assert math.isnan(eye_aspect_ratio(np.zeros((6, 2)), (0, 3), (1, 2), (5, 4)))


def test_intensity_mapping() -> None:
    open_ear = 0.3
    values = au45_intensity([0.3, 0.4, CLOSED_FRACTION * 0.3, 0.0, math.nan], open_ear)
    assert values[:4] == pytest.approx([0.0, 0.0, 5.0, 5.0])
    assert math.isnan(values[4])
    half = open_ear * (1 + CLOSED_FRACTION) / 2
    assert au45_intensity(half, open_ear) == pytest.approx(2.5)


def test_video_baseline_adapts_and_falls_back() -> None:
    rng = np.random.default_rng(0)
    series = rng.normal(0.24, 0.01, 300)
    series[::20] = 0.03  # blinks: 5 % of frames
    assert video_baseline(series) == pytest.approx(0.24, abs=0.005)
    assert video_baseline([0.3] * (MIN_BASELINE_FRAMES - 1)) == DEFAULT_OPEN_EAR
    assert video_baseline([math.nan] * 100) == DEFAULT_OPEN_EAR


def test_au45_offline_and_fixed() -> None:
    left = np.full(60, 0.25)
    right = np.full(60, 0.32)
    left[30:33] = right[30:33] = 0.02  # a blink: both eyes shut
    right[40] = math.nan  # one eye not measured
    left[50] = right[50] = math.nan  # no face
    blink = au45(left, right)
    assert blink.open_ear == pytest.approx((0.25, 0.32))
    assert blink.r[0] == 0.0 and blink.c[0] == 0.0  # open eyes, each against its own baseline
    assert np.all(blink.r[30:33] == 5.0) and np.all(blink.c[30:33] == 1.0)
    assert blink.r[40] == blink.left_r[40] == 0.0  # the measured eye alone
    assert math.isnan(blink.r[50]) and math.isnan(blink.c[50])
    # a fixed baseline: per-frame values that do not depend on the rest of the video
    fixed = au45([0.14], [0.28], open_ear=0.28)
    assert fixed.left_r[0] == pytest.approx(5 * 0.5 / (1 - CLOSED_FRACTION))
    assert fixed.right_r[0] == 0.0 and fixed.r[0] == pytest.approx(fixed.left_r[0] / 2)
    assert fixed.c[0] == 1.0
