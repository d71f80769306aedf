"""Midline fit and head pose on synthetic face meshes with known geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from facemirror.layouts.mediapipe_topology import LEFT_RIGHT_PAIRS, MIRROR_PERMUTATION, SAGITTAL
from facemirror.mirror.midline import Midline, estimate_midline, fit_symmetry_axis, head_pose
from mirror_synthetic import face_landmarks


def _reflect(points: np.ndarray, midline: Midline) -> np.ndarray:
    n = np.array(midline.normal)
    d = (points[:, :2] - midline.point) @ n
    return points[:, :2] - 2.0 * d[:, None] * n


def _line_distance(a: Midline, b: Midline) -> float:
    """Largest distance between two lines over a 400-px stretch around a's point, plus direction mismatch."""
    offsets = [b.signed_distance(a.point[0] + s * a.direction[0], a.point[1] + s * a.direction[1]) for s in (-200, 200)]
    return max(abs(float(o)) for o in offsets)


@pytest.mark.parametrize("roll", [0.0, 12.0, -35.0, 170.0])
def test_symmetric_face_gives_its_axis_exactly(roll: float) -> None:
    # A pitched face turned in the image plane by ``roll`` about (400, 300).
    lm = face_landmarks(centre=(400.0, 300.0), pitch=10.0)[:, :2] - (400.0, 300.0)
    a = math.radians(roll)
    lm = lm @ np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]]) + (400.0, 300.0)
    m = estimate_midline(lm)
    assert m.angle_deg == pytest.approx(roll if roll <= 180 else roll - 360, abs=1e-6)
    # The face centre (400, 300) lies on the axis of a rolled, pitched face.
    assert m.signed_distance(400.0, 300.0) == pytest.approx(0.0, abs=1e-6)
    assert m.residual_px < 1e-6


def test_direction_points_down_the_face_and_normal_to_the_subjects_left() -> None:
    lm = face_landmarks(roll=0.0)
    m = estimate_midline(lm)
    chin, forehead = lm[152, :2], lm[10, :2]
    assert np.dot(m.direction, chin - forehead) > 0
    assert m.signed_distance(*lm[263, :2]) > 0 > m.signed_distance(*lm[33, :2])  # 263 = subject's left eye


def test_flip_averaged_landmarks_give_the_known_line_to_1e6() -> None:
    # An asymmetric, noisy mesh made exactly equivariant about a known line by averaging it with its mirror.
    rng = np.random.default_rng(3)
    lm = face_landmarks(centre=(310.0, 250.0), yaw=18.0, roll=9.0, noise=2.0, rng=rng)
    lm[61, :2] += (4.0, 9.0)  # a drooping mouth corner
    truth = Midline.from_angle((305.0, 240.0), 7.5)
    mirrored = _reflect(lm, truth)[MIRROR_PERMUTATION]
    averaged = 0.5 * (lm[:, :2] + mirrored)
    m = estimate_midline(averaged)
    assert _line_distance(truth, m) < 1e-6
    assert abs(m.angle_deg - truth.angle_deg) < 1e-6


def test_fit_on_all_pairs_matches_the_default_subset_on_a_symmetric_face() -> None:
    lm = face_landmarks(roll=-20.0)
    a = estimate_midline(lm)
    b = estimate_midline(lm, pairs=LEFT_RIGHT_PAIRS, sagittal=SAGITTAL)
    assert _line_distance(a, b) < 1e-6


def test_robust_weights_resist_a_few_gross_outliers() -> None:
    rng = np.random.default_rng(4)
    lm = face_landmarks(centre=(320.0, 240.0), roll=5.0, noise=0.5, rng=rng)
    clean = estimate_midline(lm)
    lm[[1, 4, 168, 263, 133]] += rng.normal(0.0, 40.0, size=(5, 3))
    robust = estimate_midline(lm)
    assert _line_distance(clean, robust) < 1.0
    assert robust.inlier_fraction < 1.0
    # Plain least squares (fixed unit weights) is pulled much further.
    from facemirror.layouts.mediapipe_topology import MIDLINE_PAIRS, MIDLINE_SAGITTAL

    idx = np.concatenate([MIDLINE_PAIRS, np.repeat(MIDLINE_SAGITTAL[:, None], 2, 1)])
    n, c, _ = fit_symmetry_axis(lm[idx[:, 0], :2], lm[idx[:, 1], :2])
    plain = Midline(point=tuple(c * n), direction=(-n[1], n[0]))
    assert _line_distance(clean, plain) > 2 * _line_distance(clean, robust)


def test_endpoints_are_clipped_to_the_frame() -> None:
    m = Midline.from_angle((100.0, 50.0), 45.0)  # runs down and to the image left
    (x0, y0), (x1, y1) = m.endpoints(200, 300)
    assert (x0, y0) == pytest.approx((150.0, 0.0), abs=1e-9) and (x1, y1) == pytest.approx((0.0, 150.0))
    assert Midline.from_angle((-10.0, 50.0), 0.0).endpoints(100, 100) is None
    (_, top), (_, bottom) = Midline.from_angle((20.0, 30.0), 0.0).endpoints(100, 100)
    assert (top, bottom) == (0.0, 99.0)


@pytest.mark.parametrize(
    ("yaw", "pitch", "roll"), [(0, 0, 0), (25, 0, 0), (-30, 0, 0), (0, 20, 0), (0, -15, 0), (0, 0, 30), (20, -10, 15)]
)
def test_head_pose_recovers_the_pose(yaw: float, pitch: float, roll: float) -> None:
    lm = face_landmarks(yaw=yaw, pitch=pitch, roll=roll, noise=0.5, rng=np.random.default_rng(5))
    pose = head_pose(lm)
    assert pose == pytest.approx((yaw, pitch, roll), abs=0.5)
    assert estimate_midline(lm).yaw_deg == pytest.approx(pose.yaw)


def test_head_pose_signs_are_as_documented() -> None:
    # yaw > 0: the nose tip (1) moves towards the image right of the face centre; pitch > 0: it moves up.
    centre = np.array([320.0, 240.0])
    right = face_landmarks(yaw=20.0)
    up = face_landmarks(pitch=20.0)
    assert right[1, 0] - centre[0] > face_landmarks()[1, 0] - centre[0]
    assert up[1, 1] < face_landmarks()[1, 1]
    assert head_pose(right).yaw > 0 and head_pose(up).pitch > 0
    assert head_pose(face_landmarks(roll=10.0)).roll == pytest.approx(10.0, abs=1e-6)
    # roll > 0 is clockwise in the image (y down): the subject's-left eye (263) moves down.
    rolled = face_landmarks(roll=10.0)
    assert rolled[263, 1] > rolled[33, 1]
    assert math.isclose(estimate_midline(rolled).angle_deg, 10.0, abs_tol=1e-6)


def test_bad_landmark_shape_is_rejected() -> None:
    with pytest.raises(ValueError, match="mediapipe478 landmarks of shape \\(478"):
        estimate_midline(np.zeros((68, 2)))
