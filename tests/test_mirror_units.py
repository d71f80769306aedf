"""The mirror stage's pieces on synthetic data: symmetry fit, head pose, smoothing, reflection, mirrored landmarks."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from facemirror.layouts.mediapipe_topology import LEFT_RIGHT_PAIRS, MIRROR_PERMUTATION
from facemirror.mirror.debug import draw_debug
from facemirror.mirror.landmarks import mirrored_landmarks, reflect_points
from facemirror.mirror.midline import Midline, estimate_midline, head_pose
from facemirror.mirror.reflect import mirror_both, mirror_frame, reflect_image
from facemirror.mirror.smoothing import HELD, NONE, TRACKED, SmoothingParams, StreamingSmoother, smooth_midlines
from mirror_synthetic import face_landmarks


def _line_offset(m: Midline, point: tuple[float, float]) -> float:
    """Distance of ``point`` from the line ``m``."""
    return abs(float(np.dot(m.normal, np.asarray(point) - np.asarray(m.point))))


@pytest.mark.parametrize("roll", [-20.0, 0.0, 13.0])
def test_symmetric_landmarks_give_the_exact_axis(roll: float) -> None:
    rng = np.random.default_rng(1)
    lm = face_landmarks(centre=(400.0, 300.0), scale=120.0, roll=roll)
    lm[:, :2] += rng.normal(0, 2.0, (len(lm), 2))  # an asymmetric face...
    axis = Midline.from_angle((410.0, 290.0), roll)
    symmetric = 0.5 * (lm + reflect_points(lm, axis)[MIRROR_PERMUTATION])  # ...made exactly symmetric
    fit = estimate_midline(symmetric)
    assert abs(fit.angle_deg - roll) < 1e-6
    assert _line_offset(fit, (410.0, 290.0)) < 1e-6


def test_fit_resists_a_one_sided_outlier() -> None:
    lm = face_landmarks(centre=(300.0, 300.0), scale=100.0)
    lm[263, :2] += (25.0, 10.0)  # one eye corner badly placed
    fit = estimate_midline(lm)
    assert abs(fit.angle_deg) < 0.5 and _line_offset(fit, (300.0, 300.0)) < 0.5


def test_head_pose_signs() -> None:
    for yaw, pitch, roll in [(20, 0, 0), (0, 15, 0), (0, 0, -10), (-15, 10, 5)]:
        pose = head_pose(face_landmarks(scale=100.0, yaw=yaw, pitch=pitch, roll=roll))
        assert pose.yaw == pytest.approx(yaw, abs=1.0)
        assert pose.pitch == pytest.approx(pitch, abs=1.0)
        assert pose.roll == pytest.approx(roll, abs=1.0)


def _noisy_sequence(n: int, fps: float, angle: np.ndarray, rng: np.random.Generator) -> list[Midline | None]:
    return [Midline.from_angle((320 + rng.normal(0, 1.0), 240.0), float(a) + rng.normal(0, 0.2)) for a in angle]


def test_streaming_equals_offline_with_gaps() -> None:
    rng = np.random.default_rng(2)
    t = np.arange(150) / 30.0
    seq = _noisy_sequence(150, 30.0, 15 * np.sin(2 * np.pi * t / 2), rng)
    for i in [*range(40, 52), 3, 99]:
        seq[i] = None
    offline = smooth_midlines(t, seq)
    streaming = StreamingSmoother()
    online = [out for ti, m in zip(t, seq) for out in streaming.push(ti, m)] + streaming.flush()
    assert [o.status for o in online] == [o.status for o in offline]
    for a, b in zip(online, offline):
        if a.midline is not None:
            assert a.midline.angle_deg == b.midline.angle_deg and a.midline.point == b.midline.point


def test_hold_then_none() -> None:
    t = np.arange(60) / 30.0
    seq: list[Midline | None] = [Midline.from_angle((100.0, 100.0), 0.0)] * 20 + [None] * 40
    status = [o.status for o in smooth_midlines(t, seq, SmoothingParams(hold_seconds=0.5))]
    assert status[:20] == [TRACKED] * 20
    held = status.count(HELD)
    assert held == 15 and status[20:35] == [HELD] * 15 and set(status[35:]) == {NONE}


def test_no_jitter_when_still_and_no_lag_when_turning() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(120) / 60.0
    still = smooth_midlines(t, _noisy_sequence(120, 60.0, np.zeros(120), rng))
    assert np.std([o.midline.point[0] for o in still]) < 0.3
    turn = 20 * np.clip((t - 0.5) / 0.5, 0, 1)  # 20 degrees in 0.5 s
    out = smooth_midlines(t, _noisy_sequence(120, 60.0, turn, rng))
    errors = np.abs([o.midline.angle_deg for o in out] - turn)
    assert errors.max() < 1.5 and np.median(errors) < 0.3


def _symmetric_image(width: int = 200, height: int = 120, axis_col: int = 97) -> np.ndarray:
    rng = np.random.default_rng(4)
    img = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    img = cv2.GaussianBlur(img, (7, 7), 2)
    half = min(axis_col, width - 1 - axis_col)
    img[:, axis_col + 1 : axis_col + half + 1] = img[:, axis_col - half : axis_col][:, ::-1]
    return img


def test_reflection_about_the_true_axis_returns_a_symmetric_image() -> None:
    img = _symmetric_image()
    axis = Midline.from_angle((97.5, 60.0), 0.0)  # centre of column 97, continuous coordinates
    inner = np.s_[:, 20:175]
    np.testing.assert_array_equal(reflect_image(img, axis)[inner], img[inner])
    left, right = mirror_both(img, axis)
    np.testing.assert_array_equal(left[inner], img[inner])
    np.testing.assert_array_equal(right[inner], img[inner])


def test_sides_follow_the_convention() -> None:
    img = np.zeros((40, 80, 3), np.uint8)
    img[:, 40:] = 255  # image right (the subject's left in a normal camera) is white
    axis = Midline.from_angle((40.0, 20.0), 0.0)
    left, right = mirror_both(img, axis, feather_px=1.0)
    assert left[:, :30].min() == 255 and right[:, 50:].max() == 0
    np.testing.assert_array_equal(mirror_frame(img, axis, "left", feather_px=1.0), left)
    selfie_left, _ = mirror_both(img, axis, feather_px=1.0, selfie=True)
    np.testing.assert_array_equal(selfie_left, right)


def test_mirrored_landmarks_are_symmetric_and_keep_one_half() -> None:
    lm = face_landmarks(centre=(300.0, 200.0), scale=80.0, roll=8.0, noise=0.5, rng=np.random.default_rng(5))
    axis = estimate_midline(lm)
    left = mirrored_landmarks(lm, axis, keep_subject_left=True)
    kept, replaced = LEFT_RIGHT_PAIRS[:, 0], LEFT_RIGHT_PAIRS[:, 1]
    np.testing.assert_array_equal(left[kept], lm[kept])
    np.testing.assert_allclose(left[replaced], reflect_points(lm[kept], axis), atol=1e-9)
    assert estimate_midline(left).angle_deg == pytest.approx(axis.angle_deg, abs=1e-6)


def test_debug_frame_size_and_flags() -> None:
    img = np.zeros((360, 640, 3), np.uint8)
    lm = face_landmarks(centre=(320.0, 180.0), scale=60.0)
    out = draw_debug(img, lm, estimate_midline(lm), [200, 60, 440, 300], 1, head_pose(lm), TRACKED, scale=0.5)
    assert out.shape == (180, 320, 3) and out.any()
    lost = draw_debug(img, None, None, None, 2, None, NONE, scale=0.5)
    assert lost[:10].any()  # the banner
    assert not img.any(), "the input frame is not modified"
    assert math.isfinite(float(out.mean()))
