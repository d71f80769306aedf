"""Blink events on synthetic EAR series with known blinks: found, none invented, complete vs partial, any frame rate."""

from __future__ import annotations

import numpy as np
import pytest

from blink_series import SHUT, TrueBlink, detector_closure, ear_series, open_level, random_blinks
from facemirror.aus.blink import DEFAULT_OPEN_EAR
from facemirror.blinks import BlinkEvent, blink_mask, find_blinks, open_eye_level
from facemirror.blinks.events import COMPLETE_CLOSURE, bridge_gaps

# 16 blinks over 60 s: complete ones (lids meet: depth 1.0, or 0.95) and partial ones (0.35-0.7 of the fissure)
DEPTHS = [1.0, 0.5, 1.0, 0.7, 0.35, 0.95, 1.0, 0.6, 1.0, 0.45, 1.0, 0.7, 0.95, 0.4, 1.0, 0.55]
TIMES = [1.3, 4.1, 7.7, 10.2, 13.9, 16.6, 19.0, 23.4, 26.8, 30.15, 34.0, 37.3, 41.9, 45.5, 49.2, 53.7]
# one long face loss in an open stretch, and short ones (bridged) on the closing flank of two blinks
LONG_GAP = (20.5, 22.0)
SHORT_GAPS = [(TIMES[2] + 0.03, TIMES[2] + 0.07), (TIMES[9] + 0.01, TIMES[9] + 0.05)]


def _match(events: list[BlinkEvent], truth: list[TrueBlink]) -> list[tuple[TrueBlink, BlinkEvent]]:
    """Pair each true blink with the one event whose deepest frame falls inside it; fail on misses and extras."""
    pairs = []
    for b in truth:
        hits = [e for e in events if b.time <= e.peak_time <= b.end]
        assert len(hits) == 1, f"blink at {b.time} s (depth {b.depth}) found {len(hits)} times"
        pairs.append((b, hits[0]))
    assert len(events) == len(truth), f"{len(events) - len(truth)} false blinks"
    return pairs


@pytest.mark.parametrize("fps", [30.0, 240.0])
def test_known_blinks_found_and_classified(fps: float) -> None:
    truth = [TrueBlink(t, d) for t, d in zip(TIMES, DEPTHS)]
    t, ear = ear_series(fps, 60.0, truth, noise=0.005, gaps=[LONG_GAP, *SHORT_GAPS], seed=int(fps))
    assert np.isnan(ear).sum() > LONG_GAP[1] - LONG_GAP[0]  # the gaps are there
    events = find_blinks(ear, fps, timestamps=t)
    for b, e in _match(events, truth):
        assert e.complete == (b.depth >= 0.9)
        assert e.closure == pytest.approx(detector_closure(b.depth), abs=0.06)
        # full width at half depth of the synthetic profile: 40 ms closing + 40 ms held + 80 ms reopening
        assert e.duration_s == pytest.approx(0.16, abs=0.04 if fps == 30 else 0.01)
        assert e.start <= e.peak <= e.end and e.start_time <= e.peak_time <= e.end_time
        assert e.min_ear == pytest.approx(ear[e.peak]) if fps == 30 else e.min_ear > np.nanmin(ear[e.start : e.end + 1])
        assert e.open_ear == pytest.approx(open_level(t[e.peak : e.peak + 1])[0], rel=0.05)


@pytest.mark.parametrize("fps", [30.0, 60.0, 120.0, 240.0])
def test_random_series_every_blink_found_and_classified(fps: float) -> None:
    # 10 one-minute series per frame rate, noise 0.01 (3 % of the open EAR), 5 % of frames lost one by one
    found = 0
    for seed in range(10):
        truth = random_blinks(seed)
        t, ear = ear_series(fps, 60.0, truth, noise=0.01, seed=seed)
        ear[np.random.default_rng(seed).random(len(ear)) < 0.05] = np.nan
        for b, e in _match(find_blinks(ear, fps, timestamps=t), truth):
            assert e.complete == (b.depth >= 0.9)
            # within 4 sigma of the noise (0.01 EAR is 0.04 of the range of an eye open at 0.28)
            assert e.closure == pytest.approx(detector_closure(b.depth), abs=4 * 0.01 / (0.28 * 0.85))
            found += 1
    assert found > 150


def test_eye_that_never_shuts_has_only_partial_blinks() -> None:
    # a palsied eye: every blink covers 60 % of the fissure; its deepest blinks are still partial
    truth = [TrueBlink(t, 0.6) for t in TIMES]
    t, ear = ear_series(30.0, 60.0, truth, seed=3)
    events = find_blinks(ear, 30.0, timestamps=t)
    _match(events, truth)
    assert not any(e.complete for e in events)
    assert max(e.closure for e in events) < COMPLETE_CLOSURE


@pytest.mark.parametrize("fps", [30.0, 240.0])
def test_no_blinks_invented(fps: float) -> None:
    t, ear = ear_series(fps, 60.0, [], noise=0.008, seed=5)
    level = open_level(t)
    down = (t > 10) & (t < 12)  # gaze down for 2 s: the lid lowers by 30 %
    ear[down] = level[down] * 0.7
    shut = (t > 30) & (t < 32)  # eyes closed on purpose for 2 s
    ear[shut] = level[shut] * SHUT
    ear[int(45 * fps)] = level[int(45 * fps)] * SHUT  # one frame of bad landmarks
    assert find_blinks(ear, fps, timestamps=t) == []


def test_blinks_next_to_a_long_closure_keep_their_depth() -> None:
    # the open level is learnt without the dips, so a 2 s closure does not make the next blink look shallow
    truth = [TrueBlink(33.0, 1.0), TrueBlink(36.0, 0.5)]
    t, ear = ear_series(30.0, 60.0, truth, seed=7)
    level = open_level(t)
    shut = (t > 30) & (t < 32)
    ear[shut] = level[shut] * SHUT
    events = find_blinks(ear, 30.0, timestamps=t)
    for b, e in _match(events, truth):
        assert e.closure == pytest.approx(detector_closure(b.depth), abs=0.06)
    estimate = open_eye_level(ear, 30.0)
    # within 10 % of the drifting level (the steep drift of the series around it), where a plain running median
    # of the same window falls to the shut eye's EAR
    assert np.abs(estimate[shut] / level[shut] - 1).max() < 0.1


def test_two_blinks_in_a_row_are_two() -> None:
    truth = [TrueBlink(5.0, 1.0), TrueBlink(5.35, 1.0)]  # the eye reopens fully for a few frames between them
    t, ear = ear_series(30.0, 10.0, truth, seed=11)
    assert len(_match(find_blinks(ear, 30.0, timestamps=t), truth)) == 2


def test_blinks_cut_by_the_series_or_a_gap_are_not_reported() -> None:
    truth = [TrueBlink(-0.1, 1.0), TrueBlink(5.0, 1.0), TrueBlink(9.0, 1.0)]
    t, ear = ear_series(30.0, 12.0, truth, gaps=[(5.15, 6.0)], seed=13)  # no face while the eye reopens
    events = find_blinks(ear, 30.0, timestamps=t)
    assert [e.peak_time for e in events] == pytest.approx([t[np.nanargmin(np.where(t > 8.5, ear, np.nan))]])


def test_times_default_to_frame_over_fps() -> None:
    truth = [TrueBlink(2.0, 1.0)]
    t, ear = ear_series(60.0, 5.0, truth, seed=17)
    with_times = find_blinks(ear, 60.0, timestamps=t)
    without = find_blinks(ear, 60.0)
    assert [e.peak for e in with_times] == [e.peak for e in without]
    assert without[0].peak_time == pytest.approx(without[0].peak / 60.0)
    assert without[0].duration_s == pytest.approx(with_times[0].duration_s)


@pytest.mark.parametrize(("frames", "open_ear"), [(25, 0.3), (12, DEFAULT_OPEN_EAR)])
def test_short_series_falls_back_to_the_video_baseline(frames: int, open_ear: float) -> None:
    # too short for a running window: the whole-series median, or with too few frames the project's default
    ear = np.full(frames, 0.3)
    ear[5:7] = 0.05
    events = find_blinks(ear, 30.0)
    assert [(e.start, e.peak, e.end, e.complete) for e in events] == [(5, 5, 6, True)]
    assert events[0].open_ear == pytest.approx(open_ear)


def test_blink_mask_covers_each_blink_with_its_flanks() -> None:
    truth = [TrueBlink(2.0, 1.0)]
    t, ear = ear_series(30.0, 5.0, truth, noise=0.0, seed=19)
    (e,) = find_blinks(ear, 30.0, timestamps=t)
    mask = blink_mask([e], len(ear))
    moving = np.flatnonzero(ear < open_level(t) * 0.97)  # every frame where the lid is visibly down
    assert mask[moving].all()
    assert mask.sum() == 3 * (e.end - e.start + 1)


def test_bridge_gaps_fills_only_short_gaps() -> None:
    x = np.array([1.0, np.nan, 3.0, np.nan, np.nan, np.nan, 7.0, np.nan])
    out = bridge_gaps(x, 2)
    assert out[:3].tolist() == [1.0, 2.0, 3.0]
    assert np.isnan(out[3:6]).all() and np.isnan(out[7])


def test_empty_or_faceless_series() -> None:
    assert find_blinks([], 30.0) == []
    assert find_blinks([np.nan] * 50, 30.0) == []


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="fps"):
        find_blinks([0.3] * 10, 0.0)
    with pytest.raises(ValueError, match="1-D"):
        find_blinks(np.zeros((3, 3)), 30.0)
    with pytest.raises(ValueError, match="timestamps"):
        find_blinks([0.3] * 10, 30.0, timestamps=[0.0, 1.0])
