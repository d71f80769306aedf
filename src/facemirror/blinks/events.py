"""Blink events in one eye's EAR series: when the eye closes, for how long, and how completely.

The open-eye level is the eye's own EAR, followed over time (:func:`open_eye_level`:
a running median over ``open_window_s``, recomputed without the frames that dipped, so
slow drift of the aperture (head pose, gaze, fatigue) moves it but blinks do not).
Closure is :func:`facemirror.aus.blink.closure_fraction` against that level: 0 at the
open level, 1 at ``CLOSED_FRACTION`` of it, the EAR the face mesh gives with the lids
shut (measured 0.16-0.18 of the open EAR; ``AU45_r`` is 5 x closure against the
whole-video level). The closed end is a fraction of the eye's own open level, not the
eye's own minima: an eye that never shuts still has its deepest blinks measured
against a shut lid, never promoted to "complete" (JeFaPaTo's Otsu split of the
prominences, by contrast, always finds two classes).

A blink is a dip whose deepest real frame reaches ``min_closure``; it spans the frames
at or past half its own depth (its start and end times are those half-depth crossings,
interpolated between frames, so durations compare across frame rates), and it counts
when that width lies in ``[min_duration_s, max_duration_s]`` (shorter: a landmark
glitch; longer: a voluntary closure or a downward gaze). Two dips are two blinks when
the eye reopens past half the deeper one's depth between them. A blink is ``complete``
when its closure reaches ``complete_closure``. Dips cut by the series' ends or by a gap
(NaN, no face) longer than ``max_gap_s`` are not reported; shorter gaps are bridged
linearly. Above 30 fps the series is first averaged over ``smooth_s`` (one 30 fps
frame), so jitter does not deepen the deepest frame. Frame indices are 0-based
positions in the series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from facemirror.aus.blink import CLOSED_FRACTION, MIN_BASELINE_FRAMES, closure_fraction, video_baseline

#: A dip counts as a blink when its deepest frame covers this much of the open-to-closed range.
MIN_CLOSURE = 0.25
#: A blink is complete when it covers at least this much of the range: a residual fissure of at most 15 % of the
#: open one, below which 30 fps sampling cannot tell touching lids from a near miss (the real blinks measured here
#: reach 0.97; their frames before and after the deepest one 0.89 and 0.69).
COMPLETE_CLOSURE = 0.85
#: Running-median window (s) for the open-eye level: several blinks long, short enough to follow drift.
OPEN_WINDOW_S = 4.0
#: Half-depth width limits (s) of a blink (JeFaPaTo's defaults at 240 fps are 10-250 frames: 0.04-1.04 s).
MIN_DURATION_S = 0.05
MAX_DURATION_S = 1.0
#: Gaps (NaN frames) up to this long (s) are bridged by linear interpolation; longer ones split the series.
MAX_GAP_S = 0.1
#: Moving-average window (s) applied before detection: one frame at 30 fps, 9 at 240 fps, so landmark jitter at high
#: frame rates does not bias the deepest frame (and with it the half-depth width) towards the noise.
SMOOTH_S = 1 / 30


@dataclass(frozen=True)
class BlinkEvent:
    """One blink of one eye: frames (0-based), times (s), depth."""

    #: first and last frame at or past half the blink's depth, and the deepest frame
    start: int
    peak: int
    end: int
    #: half-depth crossings closing and reopening (interpolated), and the deepest frame's time
    start_time: float
    peak_time: float
    end_time: float
    #: end_time - start_time: the full width at half depth
    duration_s: float
    #: EAR at the deepest frame (after the moving average, so as recorded at 30 fps), and the open-eye level there
    min_ear: float
    open_ear: float
    #: fraction of the open-to-closed range reached (0-1)
    closure: float
    #: closure >= the complete_closure it was found with
    complete: bool


def find_blinks(
    ear: Sequence[float] | np.ndarray,
    fps: float,
    *,
    timestamps: Sequence[float] | np.ndarray | None = None,
    min_closure: float = MIN_CLOSURE,
    complete_closure: float = COMPLETE_CLOSURE,
    closed_fraction: float = CLOSED_FRACTION,
    open_window_s: float = OPEN_WINDOW_S,
    min_duration_s: float = MIN_DURATION_S,
    max_duration_s: float = MAX_DURATION_S,
    max_gap_s: float = MAX_GAP_S,
    smooth_s: float = SMOOTH_S,
) -> list[BlinkEvent]:
    """The blinks in one eye's EAR series (NaN where there is no face), in time order.

    ``fps`` sets the windows; ``timestamps`` (s, one per frame, e.g. a variable-frame-rate video's) give the times,
    else frame ``i`` is at ``i / fps``.
    """
    values = _series(ear)
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps}")
    times = np.arange(len(values)) / fps if timestamps is None else _series(timestamps)
    if len(times) != len(values):
        raise ValueError(f"{len(times)} timestamps for {len(values)} EAR values")
    smoothed = moving_average(bridge_gaps(values, round(max_gap_s * fps)), round(smooth_s * fps))
    level = open_eye_level(
        smoothed, fps, window_s=open_window_s, min_closure=min_closure, closed_fraction=closed_fraction
    )
    closure = closure_fraction(smoothed, level, closed_fraction)
    owner = np.full(len(values), -1)  # the dip (candidate index) each frame was given to
    events: list[BlinkEvent] = []
    candidates = np.flatnonzero(np.isfinite(values) & (closure >= min_closure))
    for peak in candidates[np.argsort(-closure[candidates], kind="stable")]:
        if owner[peak] >= 0:
            continue
        start, start_free = _grow(closure, owner, peak, -1)
        end, end_free = _grow(closure, owner, peak, +1)
        owner[start : end + 1] = peak
        if not (start_free and end_free):
            continue  # cut by a gap or an end of the series, or a shoulder of a deeper dip
        half = closure[peak] / 2
        t0 = _crossing(times, closure, start - 1, start, half)
        t1 = _crossing(times, closure, end + 1, end, half)
        if not min_duration_s <= t1 - t0 <= max_duration_s:
            continue
        c = float(closure[peak])
        events.append(
            BlinkEvent(
                start=int(start),
                peak=int(peak),
                end=int(end),
                start_time=t0,
                peak_time=float(times[peak]),
                end_time=t1,
                duration_s=t1 - t0,
                min_ear=float(smoothed[peak]),
                open_ear=float(level[peak]),
                closure=c,
                complete=c >= complete_closure,
            )
        )
    return sorted(events, key=lambda e: e.peak)


def open_eye_level(
    ear: Sequence[float] | np.ndarray,
    fps: float,
    *,
    window_s: float = OPEN_WINDOW_S,
    min_closure: float = MIN_CLOSURE,
    closed_fraction: float = CLOSED_FRACTION,
) -> np.ndarray:
    """The eye's open EAR at every frame: a running median, then again without the frames that dipped.

    The second pass leaves out frames at or past half of ``min_closure`` against the first, so closures longer
    than half the window do not drag the level down once seen. Windows with too few face frames take their
    neighbours' level; a series with too few face frames in any window gets the whole-series median
    (:func:`facemirror.aus.blink.video_baseline`).
    """
    values = _series(ear)
    first = running_median(values, fps, window_s)
    dipped = closure_fraction(values, first, closed_fraction) >= min_closure / 2
    return running_median(np.where(dipped, np.nan, values), fps, window_s, fallback=first)


def blink_mask(events: Sequence[BlinkEvent], frames: int) -> np.ndarray:
    """Boolean mask of the frames a blink touches: each event's half-depth span widened by its own width each side.

    The half-depth span misses the start of the closing and the slow end of the reopening; three widths cover a
    blink from the lid's first move to its rest.
    """
    mask = np.zeros(frames, dtype=bool)
    for e in events:
        width = e.end - e.start + 1
        mask[max(0, e.start - width) : e.end + width + 1] = True
    return mask


def bridge_gaps(values: np.ndarray, max_frames: int) -> np.ndarray:
    """``values`` with NaN runs of at most ``max_frames`` between finite frames filled linearly."""
    out = values.copy()
    finite = np.flatnonzero(np.isfinite(values))
    if len(finite) < 2 or max_frames < 1:
        return out
    gaps = np.flatnonzero(np.diff(finite) > 1)
    for a, b in zip(finite[gaps], finite[gaps + 1]):
        if b - a - 1 <= max_frames:
            out[a + 1 : b] = np.interp(np.arange(a + 1, b), [a, b], [values[a], values[b]])
    return out


def moving_average(values: np.ndarray, frames: int) -> np.ndarray:
    """Centred mean over ``frames`` (rounded up to odd) of the finite values; NaN frames stay NaN."""
    if frames <= 1:
        return values.copy()
    kernel = np.ones(frames // 2 * 2 + 1)
    finite = np.isfinite(values)
    total = np.convolve(np.where(finite, values, 0.0), kernel, mode="same")
    count = np.convolve(finite.astype(np.float64), kernel, mode="same")
    return np.where(finite, total / np.maximum(count, 1), np.nan)


def running_median(values: np.ndarray, fps: float, window_s: float, fallback: np.ndarray | None = None) -> np.ndarray:
    """Median of the finite values over a centred window, at every frame (NaN frames get their neighbours' level).

    Evaluated every eighth of a window and interpolated between; windows with fewer than a quarter of their frames
    (or ``MIN_BASELINE_FRAMES``) finite are skipped; with none left, ``fallback`` or the whole-series
    :func:`facemirror.aus.blink.video_baseline`.
    """
    n = len(values)
    if n == 0:
        return np.zeros(0)
    window = max(3, round(window_s * fps)) // 2 * 2 + 1
    hop = max(1, window // 8)
    anchors = np.unique(np.append(np.arange(0, n, hop), n - 1))
    padded = np.pad(values, window // 2, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, window)[anchors]
    counts = np.isfinite(windows).sum(axis=1)
    usable = counts >= max(MIN_BASELINE_FRAMES, window // 4)
    if not usable.any():
        return fallback if fallback is not None else np.full(n, video_baseline(values))
    medians = np.nanmedian(windows[usable], axis=1)
    return np.interp(np.arange(n), anchors[usable], medians)


def _series(values: Sequence[float] | np.ndarray) -> np.ndarray:
    out = np.asarray(values, dtype=np.float64)
    if out.ndim != 1:
        raise ValueError(f"expected a 1-D series, got shape {out.shape}")
    return out


def _grow(closure: np.ndarray, owner: np.ndarray, peak: int, step: int) -> tuple[int, bool]:
    """The last frame from ``peak`` in direction ``step`` at or past half its depth, and whether the dip ends there.

    The dip ends (True) when the next frame is below half depth; it does not (False) at a NaN, an end of the
    series or a frame already given to another dip.
    """
    half = closure[peak] / 2
    i = peak
    while True:
        j = i + step
        if j < 0 or j >= len(closure) or not np.isfinite(closure[j]) or owner[j] >= 0:
            return i, False
        if closure[j] < half:
            return i, True
        i = j


def _crossing(times: np.ndarray, closure: np.ndarray, outside: int, inside: int, level: float) -> float:
    """Time at which closure crosses ``level`` between an outside frame (below it) and an inside one (at or past)."""
    a, b = closure[outside], closure[inside]
    frac = (b - level) / (b - a) if b > a else 0.0
    return float(times[inside] + frac * (times[outside] - times[inside]))
