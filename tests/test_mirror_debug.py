"""The debug frame: size, overlay and status banners."""

from __future__ import annotations

import numpy as np
import pytest

from facemirror.mirror.debug import draw_debug
from facemirror.mirror.midline import estimate_midline, head_pose
from facemirror.mirror.smoothing import HELD, NONE, TRACKED, TURNED
from mirror_synthetic import face_landmarks


def _frame() -> np.ndarray:
    return np.full((480, 640, 3), 60, np.uint8)


def test_debug_frame_is_reduced_and_draws_the_overlay() -> None:
    img = _frame()
    lm = face_landmarks(centre=(320.0, 260.0), roll=5.0)
    m = estimate_midline(lm)
    out = draw_debug(img, lm, m, (200, 90, 440, 430), 12, head_pose(lm), TRACKED, scale=0.5)
    assert out.shape == (240, 320, 3)
    assert np.all(img == 60)  # input untouched
    # The midline is drawn where the line crosses the row of the face centre.
    x = round(float(m.point[0] + (260 - m.point[1]) / m.direction[1] * m.direction[0]) * 0.5)
    assert np.any(np.abs(out[130, x - 2 : x + 3].astype(int) - 60).sum(axis=1) > 100)
    assert (out[:, :, 1] > 150).sum() > 100  # green landmark dots


@pytest.mark.parametrize("status", [NONE, HELD, TURNED])
def test_problem_statuses_get_a_coloured_banner(status: str) -> None:
    out = draw_debug(_frame(), None, None, None, 3, None, status, scale=1.0)
    ok = draw_debug(_frame(), None, None, None, 3, None, TRACKED, scale=1.0)
    banner, clear = out[2:6, 300:340].reshape(-1, 3), ok[2:6, 300:340].reshape(-1, 3)
    assert np.all(clear == 60)
    assert np.all(np.ptp(banner, axis=1) > 50)  # saturated colour across the top


def test_banner_colours_differ_per_status() -> None:
    colours = {s: tuple(draw_debug(_frame(), None, None, None, 0, None, s, 1.0)[3, 320]) for s in (NONE, HELD, TURNED)}
    assert len(set(colours.values())) == 3
