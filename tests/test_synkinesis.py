"""Ocular synkinesis index: an eye that narrows whenever its side's mouth corner moves, against one that does not."""

from __future__ import annotations

import json

import numpy as np
import pytest

from blink_series import TrueBlink, ear_series
from facemirror.blinks import (
    blink_mask,
    commissure_excursion,
    commissure_positions,
    find_blinks,
    ocular_synkinesis,
)
from facemirror.blinks.synkinesis import ACTIVE_EXCURSION
from facemirror.layouts import mediapipe_topology as topo

FPS = 30.0
SMILES = [(5.0, 9.0), (15.0, 18.0), (26.0, 31.0), (40.0, 44.0), (50.0, 53.0)]  # s, mouth away from rest
NARROWING = 0.3  # the synkinetic eye is 30 % narrower at a full smile


def _smile(t: np.ndarray) -> np.ndarray:
    """0 at rest, 1 during each smile, with 0.4 s cosine ramps in and out."""
    out = np.zeros_like(t)
    for a, b in SMILES:
        up = np.clip((t - a) / 0.4, 0, 1)
        down = np.clip((b - t) / 0.4, 0, 1)
        out = np.maximum(out, 0.5 - 0.5 * np.cos(np.pi * np.minimum(up, down)))
    return out


def _corner_track(t: np.ndarray, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """(frames, 2) corner positions in face units: rest (0.65, 2.05), smiling outwards and up, jitter 0.01."""
    direction = np.array([0.8, -0.6])
    return np.array([0.65, 2.05]) + amplitude * _smile(t)[:, None] * direction + rng.normal(0, 0.01, (len(t), 2))


def test_narrowing_eye_has_the_higher_index() -> None:
    rng = np.random.default_rng(0)
    # both eyes blink, also during smiles (blink frames must not count as narrowing)
    blinks = [TrueBlink(s, 1.0) for s in (2.0, 6.5, 12.0, 16.0, 22.0, 28.0, 35.0, 42.0, 47.0, 51.5, 57.0)]
    # open EAR drifting by 0.03 over the minute and +-0.01 with a 30 s period (head pose)
    frames = np.arange(int(60 * FPS)) / FPS
    level = 0.28 + 0.03 * frames / 60 + 0.01 * np.sin(2 * np.pi * frames / 30)
    t, right_ear = ear_series(FPS, 60.0, blinks, seed=1, level=level)
    _, left_ear = ear_series(FPS, 60.0, blinks, seed=2, level=level)
    left_ear = left_ear * (1 - NARROWING * _smile(t))  # only the left eye follows its mouth corner
    sides = {"left": (left_ear, 0.45), "right": (right_ear, 0.3)}  # the right corner moves less
    index = {}
    for side, (ear, amplitude) in sides.items():
        excursion = commissure_excursion(_corner_track(t, amplitude, rng), FPS)
        mask = blink_mask(find_blinks(ear, FPS, timestamps=t), len(t))
        index[side] = ocular_synkinesis(side, ear, excursion, FPS, mask)
        if side == "right":  # blinks in smiles would read as narrowing if they were kept
            unmasked = ocular_synkinesis(side, ear, excursion, FPS)
    left, right = index["left"], index["right"]
    assert left.narrowing is not None and right.narrowing is not None
    assert left.narrowing == pytest.approx(NARROWING * 0.97, abs=0.03)  # ramps average a little less than full
    assert abs(right.narrowing) < 0.02
    assert unmasked.narrowing is not None and unmasked.narrowing > right.narrowing + 0.01
    assert left.slope == pytest.approx(NARROWING / 0.45, rel=0.1) and abs(right.slope or 0.0) < 0.05
    assert (left.correlation or 0.0) > 0.9 and abs(right.correlation or 1.0) < 0.2
    assert left.active_frames > 400 and left.rest_frames > 800
    json.dumps(left.to_dict())


def test_no_mouth_movement_gives_no_index() -> None:
    rng = np.random.default_rng(3)
    t, ear = ear_series(FPS, 20.0, [], seed=4)
    still = commissure_excursion(np.array([0.65, 2.05]) + rng.normal(0, 0.01, (len(t), 2)), FPS)
    assert np.nanmax(still) < ACTIVE_EXCURSION
    index = ocular_synkinesis("left", ear, still, FPS)
    assert index.active_frames == 0 and index.narrowing is None and index.slope is None


def _face(corner_shift: float = 0.0) -> np.ndarray:
    lm = np.zeros((topo.NUM_LANDMARKS, 3))
    lm[topo.RIGHT_EYE_INNER, :2] = (-15.0, 0.0)  # image left: the subject's right
    lm[topo.LEFT_EYE_INNER, :2] = (15.0, 0.0)
    lm[topo.RIGHT_MOUTH_CORNER, :2] = (-20.0 - corner_shift, 60.0)
    lm[topo.LEFT_MOUTH_CORNER, :2] = (20.0, 60.0)
    return lm


def test_commissure_positions_in_the_face_frame() -> None:
    pos = commissure_positions(_face())
    assert pos.ravel().tolist() == pytest.approx([20 / 30, 2.0, -20 / 30, 2.0])  # subject's left first, +x to its side
    # the frame follows the head: rotation, scale and translation of the image change nothing
    angle = np.deg2rad(25)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = _face()
    moved[:, :2] = 2.5 * moved[:, :2] @ rot.T + (300.0, 120.0)
    assert commissure_positions(moved).ravel().tolist() == pytest.approx(pos.ravel().tolist())
    # only the subject's right corner moves (outwards, to the image left)
    shifted = commissure_positions(_face(corner_shift=6.0))
    assert shifted[0].tolist() == pytest.approx(pos[0].tolist()) and shifted[1, 0] == pytest.approx(pos[1, 0] - 0.2)


def test_commissure_excursion_rest() -> None:
    xy = np.array([[0.0, 0.0]] * 20 + [[0.3, 0.4]] * 60 + [[np.nan, np.nan]])
    by_start = commissure_excursion(xy, 30.0)  # the first 0.5 s (15 frames) are the rest
    assert by_start[:20] == pytest.approx(0.0) and by_start[20:80] == pytest.approx(0.5) and np.isnan(by_start[80])
    rest = np.zeros(len(xy), dtype=bool)
    rest[30:] = True  # the caller says the smile is the rest
    assert commissure_excursion(xy, 30.0, rest=rest)[:20] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="frames, 2"):
        commissure_excursion(np.zeros(5), 30.0)
