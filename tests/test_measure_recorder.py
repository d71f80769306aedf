"""The measure recorder on synthetic landmarks of known geometry: how it shares the field's correction per side."""

from __future__ import annotations

import cv2
import numpy as np

from facemirror import Measures
from facemirror.layouts import WFLW_98
from facemirror.measures import MEASURES, NAMES, MeasureRecorder, frame_measures
from facemirror.measures.recorder import share_left
from facemirror.mirror.midline import Midline
from facemirror.mirror.reflect import mirror_both
from layout_faces import wflw_face

MIDLINE = Midline((320.0, 240.0), (0.0, 1.0))
IMAGE = np.zeros((480, 640, 3), np.uint8)


def test_a_side_that_was_read_stays_read_when_the_other_was_not() -> None:
    # the subject's right pupil (image left) moved out past its brow's end: the right brow cannot be read
    face = wflw_face()
    face[96, 0] = face[33:38, 0].min() - 10.0
    plain = frame_measures(face, WFLW_98, MIDLINE)
    brow = NAMES.index("brow_height_mm")
    assert np.isfinite(plain[brow, 0]) and np.isnan(plain[brow, 1])
    recorder = MeasureRecorder(Measures(flow=False, mm_per_px=0.5, key_frames=0))
    for frame in range(1, 4):
        recorder.add(frame, (frame - 1) / 10, IMAGE, face, WFLW_98, MIDLINE)
    left, right = recorder.finish().series("brow_height_mm")
    np.testing.assert_allclose(left, plain[brow, 0] * 0.5)  # the cell docs/measures.md says is read
    assert np.isnan(right).all()


def test_a_side_counts_as_moving_by_its_own_movement_in_its_measures_unit() -> None:
    rest = np.array([True] * 3 + [False])
    plain = np.zeros((4, len(MEASURES), 2))
    plain[:, :, :] = 10.0
    length, angle, area = (
        NAMES.index("commissure_height_mm"),
        NAMES.index("smile_angle_deg"),
        NAMES.index("lip_opening_area_mm2"),
    )
    plain[3, length] = (10.2, 10.1)  # neither side moved by a quarter pixel, together more
    plain[3, angle] = (11.0, 10.0)  # the left side turned by a degree
    plain[3, area] = (13.0, 10.0)  # 3 px² on the left: a lip opening's noise, not a movement
    share = share_left(plain, rest)
    assert share[3, length] == 0.5
    assert share[3, angle] == 1.0
    assert share[3, area] == 0.5
    plain[3, area] = (30.0, 10.0)  # 20 px²: a movement
    assert share_left(plain, rest)[3, area] == 1.0


def test_key_frames_are_mirrored_with_the_videos_seam() -> None:
    # a face larger than the picture: the key frame's crop is the whole picture
    image = np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    midline = Midline((100.0, 100.0), (0.0, 1.0))
    recorder = MeasureRecorder(Measures(flow=False, mm_per_px=0.5, key_frames=1), feather_px=30.0)
    recorder.add(1, 0.0, image, wflw_face((100.0, 100.0)), WFLW_98, midline)
    (key,) = recorder.finish().key_frames
    left, right = mirror_both(image, midline, feather_px=30.0)
    np.testing.assert_array_equal(key.left_mirrored, left)
    np.testing.assert_array_equal(key.right_mirrored, right)


def test_a_key_frame_cut_out_before_mirroring_matches_the_whole_frames() -> None:
    image = np.random.default_rng(1).integers(0, 256, (400, 500, 3), dtype=np.uint8)
    midline = Midline.from_angle((250.0, 200.0), 8.0)
    face = wflw_face((250.0, 200.0), scale=8.0, roll=8.0)
    recorder = MeasureRecorder(Measures(mm_per_px=0.5, key_frames=1), feather_px=6.0)
    field = recorder.add(1, 0.0, image, face, WFLW_98, midline)
    assert field is not None
    (key,) = recorder.finish().key_frames
    # where the crop lies: its pixels are the frame's own
    h, w = key.original.shape[:2]
    assert (h, w) < (400, 500)
    _, _, (x, y), _ = cv2.minMaxLoc(cv2.matchTemplate(image, key.original, cv2.TM_SQDIFF))
    np.testing.assert_array_equal(image[y : y + h, x : x + w], key.original)
    crop = (slice(y, y + h), slice(x, x + w))
    left, right = mirror_both(image, midline, feather_px=6.0)
    np.testing.assert_allclose(key.left_mirrored, left[crop], atol=1)
    np.testing.assert_allclose(key.right_mirrored, right[crop], atol=1)
    np.testing.assert_allclose(key.heatmap, recorder.heatmap(image, field, face)[crop], atol=1)
