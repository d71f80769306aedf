"""The debug frame: size, overlay and status banners."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facemirror.mirror.debug import draw_debug, label_style
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


def _glyphs(shape: tuple[int, int], text: str, size: float, thickness: int) -> np.ndarray:
    """A clean rendering of ``text``: its anti-aliased glyph mask (0..1) alone, at the top left of a canvas."""
    canvas = np.zeros(shape, np.uint8)
    (_, height), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, size, thickness)
    cv2.putText(canvas, text, (0, height + 1), cv2.FONT_HERSHEY_SIMPLEX, size, 255, thickness, cv2.LINE_AA)
    ys, xs = np.nonzero(canvas)
    return canvas[: ys.max() + 1, : xs.max() + 1].astype(np.float32) / 255.0


@pytest.mark.parametrize("scale", [0.25, 0.5, 1.0])
@pytest.mark.parametrize(
    ("status", "label"), [(HELD, "FACE LOST - midline held"), (NONE, "NO FACE - frame not mirrored")]
)
def test_labels_are_clean_glyphs_with_a_tight_outline(scale: float, status: str, label: str) -> None:
    """The banner label is the clean glyph set in white, its dark outline hugs the glyphs (no offset ghost text)."""
    frame = np.full((720, 1280, 3), 225, np.uint8)  # a bright wall behind the face, as in many recordings
    out = draw_debug(frame, None, None, None, 3, None, status, scale=scale)
    h, w = out.shape[:2]
    size, thickness = label_style(h, w)
    clean = _glyphs((h, w), label, size, thickness)
    white = out.min(axis=2).astype(np.float32) / 255.0  # 1 on the white text, low on the banner and the outline
    banner_rows = int(np.argmax(np.all(np.median(out, axis=1) == 225, axis=1)))  # the first row of plain frame
    assert banner_rows > 0
    match = cv2.matchTemplate(white[:banner_rows], clean, cv2.TM_SQDIFF)
    _, _, (x, y), _ = cv2.minMaxLoc(match)
    th, tw = clean.shape
    assert x + tw <= w, "the label must fit the frame"
    # the text is the clean glyph set: the same pixels, the same anti-aliasing (over a dark outline)
    footprint = clean > 0
    assert float(np.abs(white[y : y + th, x : x + tw] - clean)[footprint].mean()) < 0.05
    # every dark pixel on the banner lies within the outline's reach of a glyph: no ghost text beside the label
    near = np.zeros((h, w), np.uint8)
    near[y : y + th, x : x + tw] = clean > 0
    reach = 2 * thickness + 2
    near = cv2.dilate(near, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8))
    dark = out[:banner_rows].max(axis=2) < 100
    assert not np.any(dark & (near[:banner_rows] == 0))


@pytest.mark.parametrize("scale", [0.25, 0.5, 1.0])
def test_labels_read_on_a_white_background(scale: float) -> None:
    """White text on a white wall: a dark outline runs all round the glyphs, so the label stays readable."""
    dark = draw_debug(np.zeros((720, 1280, 3), np.uint8), None, None, None, 7, None, TRACKED, scale=scale)
    out = draw_debug(np.full((720, 1280, 3), 250, np.uint8), None, None, None, 7, None, TRACKED, scale=scale)
    h, w = out.shape[:2]
    clean = _glyphs((h, w), "frame 7", *label_style(h, w))
    # where the label is: on a black frame the white text alone is the clean glyph set
    _, _, (x, y), _ = cv2.minMaxLoc(cv2.matchTemplate(dark.min(axis=2) / np.float32(255), clean, cv2.TM_SQDIFF))
    th, tw = clean.shape
    glyph = np.zeros((h, w), np.uint8)
    glyph[y : y + th, x : x + tw] = clean > 0
    ring = cv2.dilate(glyph, np.ones((3, 3), np.uint8)) - glyph  # the pixels touching the glyphs from outside
    assert ring.sum() > 20
    assert float(out.max(axis=2)[ring > 0].mean()) < 60


@pytest.mark.parametrize("scale", [0.25, 0.5, 1.0])
def test_the_longest_label_fits_a_portrait_frame(scale: float) -> None:
    """Phones record upright: the labels are sized by the short side, so the longest banner stays inside the frame."""
    out = draw_debug(np.zeros((1920, 1080, 3), np.uint8), None, None, None, 1, None, TURNED, scale=scale)
    white = out.min(axis=2) > 128
    assert white[: out.shape[0] // 4].any()
    assert not white[:, -4:].any()
