"""The face-mesh mirror topology: an involution that matches MediaPipe's known pairs."""

from __future__ import annotations

import numpy as np

from facemirror.layouts import mediapipe_topology as topo
from facemirror.layouts.mediapipe_canonical import CANONICAL_VERTICES


def test_permutation_is_an_involution_over_all_points() -> None:
    perm = topo.MIRROR_PERMUTATION
    assert perm.shape == (topo.NUM_LANDMARKS,)
    assert np.array_equal(np.sort(perm), np.arange(topo.NUM_LANDMARKS))
    assert np.array_equal(perm[perm], np.arange(topo.NUM_LANDMARKS))


def test_pairs_are_distinct_and_cover_every_non_sagittal_point() -> None:
    pairs = topo.LEFT_RIGHT_PAIRS
    flat = pairs.ravel()
    assert len(set(flat.tolist())) == flat.size
    assert np.all(pairs[:, 0] != pairs[:, 1])
    assert set(flat.tolist()) | set(topo.SAGITTAL.tolist()) == set(range(topo.NUM_LANDMARKS))
    assert np.array_equal(topo.MIRROR_PERMUTATION[topo.SAGITTAL], topo.SAGITTAL)


def test_sagittal_points_are_the_known_midline_points() -> None:
    assert 20 <= len(topo.SAGITTAL) <= 30
    known = {1, 4, 5, 6, 8, 9, 10, 151, 152, 168, 195, 197, 199, 200, 0, 11, 12, 13, 14, 15, 16, 17, 18, 164, 94, 2}
    assert known <= set(topo.SAGITTAL.tolist())


def test_known_mediapipe_pairs() -> None:
    perm = topo.MIRROR_PERMUTATION
    for a, b in [(33, 263), (133, 362), (61, 291), (468, 473), (159, 386), (145, 374), (234, 454)]:
        assert perm[a] == b and perm[b] == a


def test_left_first_convention_matches_canonical_model() -> None:
    # +x in the canonical model is the subject's left (263 = left outer eye corner).
    mesh_pairs = topo.LEFT_RIGHT_PAIRS[topo.LEFT_RIGHT_PAIRS[:, 0] < len(CANONICAL_VERTICES)]
    assert np.all(CANONICAL_VERTICES[mesh_pairs[:, 0], 0] > 0)
    assert np.allclose(CANONICAL_VERTICES[mesh_pairs[:, 0]] * [-1, 1, 1], CANONICAL_VERTICES[mesh_pairs[:, 1]])


def test_eye_brow_and_lip_contours_mirror_onto_each_other() -> None:
    perm = topo.MIRROR_PERMUTATION
    assert np.array_equal(perm[topo.RIGHT_EYE_UPPER], topo.LEFT_EYE_UPPER)
    assert np.array_equal(perm[topo.RIGHT_EYE_LOWER], topo.LEFT_EYE_LOWER)
    assert np.array_equal(perm[topo.RIGHT_BROW], topo.LEFT_BROW)
    assert perm[topo.RIGHT_EYE_OUTER] == topo.LEFT_EYE_OUTER and perm[topo.RIGHT_EYE_INNER] == topo.LEFT_EYE_INNER
    assert perm[topo.RIGHT_MOUTH_CORNER] == topo.LEFT_MOUTH_CORNER
    assert set(perm[topo.LIPS].tolist()) == set(topo.LIPS.tolist())
    # Upper lid points lie above their lower partners in the canonical model (y up).
    assert np.all(CANONICAL_VERTICES[topo.RIGHT_EYE_UPPER, 1] > CANONICAL_VERTICES[topo.RIGHT_EYE_LOWER, 1])


def test_midline_fit_subset_is_mirror_closed_and_rigid() -> None:
    perm = topo.MIRROR_PERMUTATION
    assert np.array_equal(perm[topo.MIDLINE_PAIRS[:, 0]], topo.MIDLINE_PAIRS[:, 1])
    assert set(topo.MIDLINE_SAGITTAL.tolist()) <= set(topo.SAGITTAL.tolist())
    assert not set(topo.MIDLINE_PAIRS.ravel().tolist()) & set(topo.LIPS.tolist())
    assert len(topo.MIDLINE_PAIRS) >= 50 and len(topo.MIDLINE_SAGITTAL) >= 8
