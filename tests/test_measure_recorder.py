"""The measure recorder on synthetic landmarks of known geometry: how it shares the field's correction per side."""

from __future__ import annotations

import numpy as np

from facemirror import Measures
from facemirror.layouts import WFLW_98
from facemirror.measures import NAMES, MeasureRecorder, frame_measures
from facemirror.mirror.midline import Midline
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
