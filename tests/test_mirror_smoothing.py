"""Temporal smoothing of midlines: jitter, lag, gaps, VFR, and streaming == offline."""

from __future__ import annotations

import numpy as np
import pytest

from facemirror.mirror.midline import Midline, estimate_midline
from facemirror.mirror.smoothing import HELD, NONE, TRACKED, SmoothingParams, StreamingSmoother, smooth_midlines
from mirror_synthetic import face_landmarks


def _x_at_rows(midlines: list[Midline], rows: tuple[float, ...] = (40.0, 440.0)) -> np.ndarray:
    """x of each midline at fixed image rows (the top and bottom of a 400-px face)."""
    out = []
    for m in midlines:
        (px, py), (dx, dy) = m.point, m.direction
        out.append([px + (y - py) / dy * dx for y in rows])
    return np.array(out)


def _stream(times: np.ndarray, midlines: list[Midline | None], params: SmoothingParams | None = None) -> list:
    smoother = StreamingSmoother(params)
    out = []
    for t, m in zip(times, midlines):
        out += smoother.push(float(t), m)
        assert len(smoother._raw) + len(smoother._med) < 60  # bounded memory
    return out + smoother.flush()


def test_still_face_jitter_is_well_below_a_third_of_a_pixel() -> None:
    rng = np.random.default_rng(10)
    times = np.arange(120) / 30.0
    raw = [estimate_midline(face_landmarks(centre=(320.0, 240.0), noise=1.0, rng=rng)) for _ in times]
    smooth = smooth_midlines(times, raw)
    assert all(s.status == TRACKED for s in smooth)
    jitter = _x_at_rows([s.midline for s in smooth]).std(axis=0)
    assert jitter.max() < 0.15
    assert jitter.max() < 0.75 * _x_at_rows(raw).std(axis=0).max()


def test_a_fast_head_rotation_is_followed_without_lag() -> None:
    rng = np.random.default_rng(11)
    times = np.arange(90) / 30.0
    roll = np.clip((times - 1.0) / 0.5, 0.0, 1.0) * 20.0  # 20 degrees in 0.5 s
    raw = [estimate_midline(face_landmarks(roll=r, noise=1.0, rng=rng)) for r in roll]
    smooth = smooth_midlines(times, raw)
    error = np.array([s.midline.angle_deg for s in smooth]) - roll
    assert np.abs(error).max() < 1.0


def test_isolated_outlier_frames_are_removed() -> None:
    times = np.arange(60) / 30.0
    raw = [Midline.from_angle((320.0, 240.0), 0.0) for _ in times]
    raw[20] = Midline.from_angle((360.0, 240.0), 25.0)
    smooth = smooth_midlines(times, raw)
    assert smooth[20].midline.angle_deg == pytest.approx(0.0, abs=1e-9)
    assert smooth[20].midline.point[0] == pytest.approx(320.0, abs=1e-9)


def test_gaps_hold_then_release_the_midline() -> None:
    times = np.arange(60) / 30.0
    raw: list[Midline | None] = [Midline.from_angle((320.0, 240.0), 3.0)] * 60
    raw[:2] = [None, None]
    raw[10:20] = [None] * 10  # 0.33 s: held throughout
    raw[30:50] = [None] * 20  # 0.67 s: held for 0.5 s, then none
    status = [s.status for s in smooth_midlines(times, raw)]
    assert status[:2] == [NONE, NONE]
    assert status[10:20] == [HELD] * 10
    assert status[30:45] == [HELD] * 15 and status[45:50] == [NONE] * 5
    assert status[50:] == [TRACKED] * 10
    held = smooth_midlines(times, raw)[15]
    assert held.midline is not None and held.midline.angle_deg == pytest.approx(3.0)


def test_streaming_equals_offline_on_variable_frame_rate_with_gaps() -> None:
    rng = np.random.default_rng(12)
    times = np.cumsum(rng.uniform(0.015, 0.06, 150))
    raw = [
        None
        if (25 <= i < 35 or 70 <= i < 100)
        else estimate_midline(face_landmarks(roll=8 * np.sin(3 * t), noise=1.0, rng=rng))
        for i, t in enumerate(times)
    ]
    offline = smooth_midlines(times, raw)
    streamed = _stream(times, raw)
    assert [s.timestamp for s in streamed] == list(times)
    assert streamed == offline  # bit-identical midlines and statuses


def test_streaming_delay_is_bounded_by_the_lookahead() -> None:
    params = SmoothingParams()
    smoother = StreamingSmoother(params)
    times = np.arange(90) / 30.0
    delays = []
    for t in times:
        for out in smoother.push(float(t), Midline.from_angle((0.0, 0.0), 0.0)):
            delays.append(t - out.timestamp)
    assert max(delays) <= params.lookahead + 1.0 / 30.0 + 1e-9


def test_angles_are_unwrapped_across_the_half_turn() -> None:
    times = np.arange(40) / 30.0
    raw = [Midline.from_angle((0.0, 0.0), 178.0 + 0.2 * i, yaw_deg=0.0) for i in range(40)]  # crosses 180 -> -180
    smooth = smooth_midlines(times, raw)
    got = np.array([s.midline.direction for s in smooth])
    want = np.array([m.direction for m in raw])
    assert np.abs(got - want).max() < 1e-6
    assert _stream(times, raw) == smooth


def test_streaming_rejects_non_increasing_timestamps() -> None:
    smoother = StreamingSmoother()
    smoother.push(1.0, None)
    with pytest.raises(ValueError, match="increase"):
        smoother.push(1.0, None)
