"""Landmark layouts as data: their consistency, and the geometry (midline, pose, blink, mirrored face) on WFLW-98."""

from __future__ import annotations

import math

import numpy as np
import pytest

from facemirror.aus.blink import layout_ear, wflw_ear
from facemirror.layouts import MEDIAPIPE_478, WFLW_98, BoxRule, EyeRing, LandmarkLayout, get_layout
from facemirror.layouts.wflw import MESH_COUNTERPART
from facemirror.mirror.landmarks import mirrored_landmarks, reflect_points
from facemirror.mirror.midline import Midline, estimate_midline, head_pose
from layout_faces import all_counterparts, wflw_face


def test_layouts_are_consistent() -> None:
    for layout in (MEDIAPIPE_478, WFLW_98):
        perm = layout.mirror_permutation
        assert (perm[perm] == np.arange(layout.num_points)).all()  # reflecting twice is the identity
        assert not set(layout.sagittal.tolist()) & set(layout.mirror_pairs.ravel().tolist())
        assert set(layout.midline_pairs.ravel().tolist()) <= set(layout.mirror_pairs.ravel().tolist())
        assert get_layout(layout.name) is layout
    # the rigid points only: no lid, brow or lip point in the WFLW midline fit
    mobile = set(range(33, 51)) | set(range(61, 68)) - {64} | set(range(69, 76)) - {72} | set(range(76, 96))
    assert not mobile & (set(WFLW_98.midline_pairs.ravel().tolist()) | set(WFLW_98.midline_sagittal.tolist()))
    # every WFLW point with a mesh counterpart: its mirror partner's counterpart is the mesh vertex's partner
    mesh_perm, wflw_perm = MEDIAPIPE_478.mirror_permutation, WFLW_98.mirror_permutation
    full = all_counterparts()
    assert len(full) == 2 * len(MESH_COUNTERPART) - sum(wflw_perm[w] == w for w in MESH_COUNTERPART)
    for wflw, vertex in full.items():
        assert full[int(wflw_perm[wflw])] == mesh_perm[vertex]


def test_a_layout_refuses_points_it_does_not_have() -> None:
    with pytest.raises(ValueError, match="point 9 does not exist in 6 points"):
        LandmarkLayout("bad", 6, mirror_pairs=np.array([(0, 1)]), sagittal=np.array([9]))
    pair = np.array([(0, 1)])
    with pytest.raises(ValueError, match="point -1 does not exist"):
        LandmarkLayout("negative", 6, mirror_pairs=pair, sagittal=np.array([-1, 2]))
    with pytest.raises(ValueError, match="point 7 does not exist"):
        LandmarkLayout("midline", 6, mirror_pairs=pair, sagittal=np.array([2, 3]), midline_sagittal=np.array([2, 7]))
    with pytest.raises(ValueError, match=r"midline pairs \[\(4, 5\)\] are not among the mirror pairs"):
        LandmarkLayout("stray", 6, mirror_pairs=pair, sagittal=np.array([2]), midline_pairs=np.array([(0, 1), (4, 5)]))
    with pytest.raises(ValueError, match="at least two"):
        LandmarkLayout("tiny", 2, mirror_pairs=np.zeros((0, 2), int), sagittal=np.array([0]))
    with pytest.raises(ValueError, match="shape"):
        WFLW_98.check(np.zeros((68, 2)))
    with pytest.raises(ValueError, match="as many upper as lower"):
        EyeRing(0, 1, (2,), (3,), (2, 4), (3,))


@pytest.mark.parametrize(("roll", "centre"), [(0.0, (320.0, 240.0)), (17.0, (410.5, 200.25)), (-33.0, (150.0, 300.0))])
def test_wflw_midline_recovers_a_known_line(roll: float, centre: tuple[float, float]) -> None:
    truth = Midline.from_angle(centre, roll)
    face = wflw_face(centre, roll=roll)
    fit = estimate_midline(face, WFLW_98)
    assert fit.angle_deg == pytest.approx(roll, abs=1e-6)
    assert fit.signed_distance(*centre) == pytest.approx(0.0, abs=1e-6)
    # an asymmetric face (a drooping mouth corner, a raised brow, noise) made symmetric about the known line
    rng = np.random.default_rng(1)
    uneven = face + rng.normal(0, 1.5, face.shape)
    uneven[76] += (3.0, 9.0)
    uneven[35] += (0.0, -6.0)
    symmetric = 0.5 * (uneven + reflect_points(uneven, truth)[WFLW_98.mirror_permutation])
    fit = estimate_midline(symmetric, WFLW_98)
    assert fit.angle_deg == pytest.approx(roll, abs=1e-6)
    assert fit.signed_distance(*centre) == pytest.approx(0.0, abs=1e-6)
    # the rigid points only: moving a lip or a brow does not move the fitted line at all
    moved = face.copy()
    moved[[76, 77, 87, 33, 34]] += (5.0, 12.0)
    assert estimate_midline(moved, WFLW_98).signed_distance(*centre) == pytest.approx(0.0, abs=1e-9)


def test_wflw_pose_from_the_canonical_points() -> None:
    pose = head_pose(wflw_face(roll=12.0), WFLW_98)
    assert pose == pytest.approx((0.0, 0.0, 12.0), abs=1e-6)
    # a layout without pose points has no pose: NaN, never invented
    bare = LandmarkLayout("bare", 3, mirror_pairs=np.array([(0, 1)]), sagittal=np.array([2]))
    assert all(math.isnan(v) for v in head_pose(np.zeros((3, 2)), bare))


def test_wflw_blink_uses_its_eye_rings() -> None:
    face = wflw_face()
    open_left, open_right = layout_ear(face, WFLW_98)
    assert open_left == pytest.approx(open_right) and open_left > 0.1
    closed = face.copy()
    right = WFLW_98.eyes["right"]  # ring 60-67: the subject's right eye, on the image left
    closed[list(right.ear_upper)] = closed[list(right.ear_lower)]
    left_ear, right_ear = wflw_ear(closed)
    assert right_ear == pytest.approx(0.0) and left_ear == pytest.approx(open_left)
    assert face[60, 0] < face[72, 0]  # the subject's right eye is the image-left one


def test_mirrored_wflw_face_keeps_one_side() -> None:
    face = wflw_face(roll=5.0)
    face[76] += (4.0, 10.0)  # the subject's right mouth corner droops
    line = estimate_midline(face, WFLW_98)
    left = mirrored_landmarks(face, line, keep_subject_left=True, layout=WFLW_98)
    np.testing.assert_allclose(left[82], face[82])  # the left corner is kept...
    np.testing.assert_allclose(left[76], reflect_points(face[[82]], line)[0, :2])  # ...and mirrored onto the right
    right = mirrored_landmarks(face, line, keep_subject_left=False, layout=WFLW_98)
    np.testing.assert_allclose(right[76], face[76])


def test_box_rules_map_landmarks_onto_a_detectors_box() -> None:
    points = np.array([[10.0, 20.0], [50.0, 20.0], [30.0, 80.0]])
    box = np.array([5.0, 0.0, 57.0, 90.0])
    rule = BoxRule.fitted(points, box)
    np.testing.assert_allclose(rule.apply(points), box)
    np.testing.assert_allclose(rule.apply(points + 7.0), box + 7.0)  # it follows the landmarks
    np.testing.assert_allclose(rule.apply(points * 2.0), [rule.apply(points)[0] * 2.0, *rule.apply(points * 2.0)[1:]])
