"""Zero-phase temporal smoothing of per-frame midlines, offline or streaming with a fixed look-ahead.

Each frame's midline is reduced to four signals: its angle (unwrapped), the point
(x, y) where the perpendicular from the face centre meets it, and the head yaw.
Two centred stages run on the frames that have a face, over their timestamps (so
variable frame rates are handled exactly):

1. a running median over +-``median_half_window`` seconds, which removes isolated
   outliers (a mis-fitted frame) without moving monotone motion. Near the ends of a
   run of face frames (the video's start and end, a face lost or found) the window
   shrinks symmetrically to the data on both sides: a one-sided median of a moving
   head would lag by half a window (3 degrees at a brisk 60 degrees/s);
2. a Gaussian-weighted local quadratic fit (a Savitzky-Golay filter on timestamps)
   with std ``sigma`` seconds, truncated at +-``fit_half_window``, evaluated at the
   frame: it removes landmark jitter but follows ramps and turns without lag.

Frames without a face keep the last smoothed midline for up to ``hold_seconds``
(status ``"held"``), then get none (``"none"``: the frame passes through
unmirrored). Frames before the first face get none. Neither stage ever
reaches across a gap in the face longer than ``hold_seconds`` (a new segment
starts after it), so a face that comes back is never averaged with where it
was before. The yaw is smoothed where it is known (a landmark layout without
pose points gives NaN, which stays NaN).

:func:`smooth_midlines` does this for a whole video; :class:`StreamingSmoother` gives
the identical result frame by frame with a delay of ``median_half_window +
fit_half_window`` seconds of video (0.25 s by default), holding only that many frames.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from facemirror.mirror.midline import Midline

#: Per-frame midline statuses. TURNED is not produced here: callers set it for tracked frames
#: whose |yaw| exceeds ``midline.MAX_VALID_YAW_DEG``.
TRACKED, HELD, NONE, TURNED = "tracked", "held", "none", "turned"
_EPS = 1e-9  # window edges are inclusive up to this (seconds), against float timestamp round-off
_TRIM = 1e-6  # buffers keep this much more than a window needs


@dataclass(frozen=True)
class SmoothingParams:
    """Windows (seconds) of the two smoothing stages and of the hold through gaps."""

    median_half_window: float = 0.1
    sigma: float = 0.06
    fit_half_window: float = 0.15
    degree: int = 2
    hold_seconds: float = 0.5

    @property
    def lookahead(self) -> float:
        """Seconds of future frames needed before a frame's output is final."""
        return self.median_half_window + self.fit_half_window


@dataclass(frozen=True)
class SmoothedMidline:
    """The smoothed midline of one frame and how it was obtained: tracked, held, or none."""

    timestamp: float
    status: str
    midline: Midline | None
    raw: Midline | None = field(default=None, compare=False)


def _signals(midline: Midline, previous_angle: float | None) -> np.ndarray:
    """(angle unwrapped next to the previous angle, point x, point y, yaw) of one midline."""
    angle = midline.angle_deg
    if previous_angle is not None:
        angle = previous_angle + (angle - previous_angle + 180.0) % 360.0 - 180.0
    return np.array([angle, midline.point[0], midline.point[1], midline.yaw_deg])


def _centred_median(times: np.ndarray, values: np.ndarray, t: float, half: float) -> np.ndarray:
    inside = np.abs(times - t) <= half + _EPS
    return np.median(values[inside], axis=0)  # a NaN yaw (no pose points) stays NaN, the rest is unaffected


def _local_fit(times: np.ndarray, values: np.ndarray, t: float, params: SmoothingParams) -> np.ndarray:
    """Gaussian-weighted local polynomial fit of ``values`` (rows at ``times``), evaluated at ``t``."""
    dt = times - t
    inside = np.abs(dt) <= params.fit_half_window + _EPS
    dt, y = dt[inside], values[inside]
    degree = min(params.degree, len(dt) - 1)
    if degree <= 0:
        return y.mean(axis=0)
    sw = np.exp(-0.25 * (dt / params.sigma) ** 2)  # sqrt of the Gaussian weight
    design = np.vander(dt / params.sigma, degree + 1, increasing=True) * sw[:, None]
    coef, *_ = np.linalg.lstsq(design, y * sw[:, None], rcond=None)
    return coef[0]


def _to_midline(signals: np.ndarray, raw: Midline) -> Midline:
    return Midline.from_angle(
        (signals[1], signals[2]),
        float(signals[0]),
        residual_px=raw.residual_px,
        inlier_fraction=raw.inlier_fraction,
        yaw_deg=float(signals[3]),
    )


def smooth_midlines(
    timestamps: Sequence[float], midlines: Sequence[Midline | None], params: SmoothingParams | None = None
) -> list[SmoothedMidline]:
    """Smooth a whole video's midlines (``None`` = no face in that frame); one result per frame."""
    p = params or SmoothingParams()
    if len(timestamps) != len(midlines):
        raise ValueError("timestamps and midlines differ in length")
    t_all = np.asarray(timestamps, dtype=np.float64)
    face = [i for i, m in enumerate(midlines) if m is not None]
    rows: list[np.ndarray] = []
    for i in face:
        rows.append(_signals(midlines[i], float(rows[-1][0]) if rows else None))  # type: ignore[arg-type]
    times = t_all[face]
    raw = np.array(rows).reshape(len(face), 4)
    segment = np.cumsum(np.diff(times, prepend=-np.inf) > p.hold_seconds + _EPS)
    halves = [_median_half(t, start, end, p) for t, (start, end) in zip(times, _run_bounds(t_all, midlines))]
    med = np.array([_centred_median(times, raw, t, h) for t, h in zip(times, halves)]).reshape(len(face), 4)
    smooth = {
        i: _to_midline(_local_fit(times[segment == g], med[segment == g], t, p), midlines[i])  # type: ignore[arg-type]
        for i, t, g in zip(face, times, segment)
    }
    holder = _Holder(p.hold_seconds)
    return [holder.result(float(t), m, smooth.get(i)) for i, (t, m) in enumerate(zip(t_all, midlines))]


def _median_half(t: float, run_start: float, run_end: float, p: SmoothingParams) -> float:
    """The median's half window at ``t``: shrunk so that it never reaches past its run of face frames."""
    return min(p.median_half_window, t - run_start, run_end - t)


def _run_bounds(t_all: np.ndarray, midlines: Sequence[Midline | None]) -> list[tuple[float, float]]:
    """(first, last) timestamp of the run of consecutive face frames that each face frame belongs to."""
    bounds: list[tuple[float, float]] = []
    start = None
    for i, m in enumerate(midlines):
        if m is None:
            continue
        if i == 0 or midlines[i - 1] is None:
            start = float(t_all[i])
            end = next(
                (float(t_all[j - 1]) for j in range(i + 1, len(midlines)) if midlines[j] is None), float(t_all[-1])
            )
        bounds.append((start, end))  # type: ignore[arg-type]
    return bounds


class _Holder:
    """Turns smoothed face frames and face-less frames into results, holding the last midline through gaps."""

    def __init__(self, hold_seconds: float) -> None:
        self.hold = hold_seconds
        self.last: tuple[float, Midline] | None = None

    def result(self, t: float, raw: Midline | None, smoothed: Midline | None) -> SmoothedMidline:
        if smoothed is not None:
            self.last = (t, smoothed)
            return SmoothedMidline(t, TRACKED, smoothed, raw)
        if self.last is not None and t - self.last[0] <= self.hold + _EPS:
            return SmoothedMidline(t, HELD, self.last[1], None)
        return SmoothedMidline(t, NONE, None, None)


class StreamingSmoother:
    """Frame-by-frame version of :func:`smooth_midlines`: push frames in order, get results in order.

    ``push`` returns the frames whose output is now final (those at least
    ``params.lookahead`` seconds older than the newest frame); ``flush`` returns the
    rest at the end of the video. Memory is bounded by the look-ahead window.
    """

    def __init__(self, params: SmoothingParams | None = None) -> None:
        self.params = params or SmoothingParams()
        self._pending: deque[tuple[float, Midline | None, int]] = deque()  # frames (time, midline, segment) to emit
        self._raw: deque[tuple[float, np.ndarray]] = deque()  # face frames for the median stage
        self._med: deque[tuple[float, np.ndarray, int]] = deque()  # median outputs (time, values, segment)
        self._unmedianed: deque[tuple[float, int, int]] = deque()  # face frames (time, run, segment) not medianed
        self._segment = 0  # face frames further apart than the hold time are in different segments
        self._last_face = -math.inf
        self._runs: dict[int, list[float]] = {}  # run -> [first face time, last face time or inf while open]
        self._run: int | None = None  # the run the newest face frame belongs to, while no face-less frame followed
        self._next_run = 0
        self._last_angle: float | None = None
        self._holder = _Holder(self.params.hold_seconds)
        self._newest = -math.inf

    def push(self, timestamp: float, midline: Midline | None) -> list[SmoothedMidline]:
        """Add one frame (``midline`` None when no face); returns the outputs that became final."""
        t = float(timestamp)
        if t <= self._newest:
            raise ValueError(f"timestamps must increase: {t} after {self._newest}")
        self._newest = t
        if midline is not None and t - self._last_face > self.params.hold_seconds + _EPS:
            self._segment += 1
        self._pending.append((t, midline, self._segment))
        if midline is not None:
            self._last_face = t
            if self._run is None:
                self._run, self._next_run = self._next_run, self._next_run + 1
                self._runs[self._run] = [t, math.inf]
            sig = _signals(midline, self._last_angle)
            self._last_angle = float(sig[0])
            self._raw.append((t, sig))
            self._unmedianed.append((t, self._run, self._segment))
        else:
            self._close_run()
        return self._drain(final=False)

    def _close_run(self) -> None:
        """The open run of face frames ended with the newest face frame."""
        if self._run is not None:
            self._runs[self._run][1] = self._raw[-1][0]
            self._run = None

    def flush(self) -> list[SmoothedMidline]:
        """Outputs of all remaining frames (call once at the end of the video)."""
        self._close_run()
        return self._drain(final=True)

    def _drain(self, final: bool) -> list[SmoothedMidline]:
        # A stage's output at t is final once a frame beyond its window has arrived,
        # so exactly the frames the offline version uses are in the buffers.
        p = self.params
        while self._unmedianed and (final or self._newest - self._unmedianed[0][0] > p.median_half_window + _EPS):
            tm, run, segment = self._unmedianed.popleft()
            start, end = self._runs[run]
            times = np.array([r[0] for r in self._raw])
            values = np.array([r[1] for r in self._raw])
            self._med.append((tm, _centred_median(times, values, tm, _median_half(tm, start, end, p)), segment))
            if self._unmedianed and self._unmedianed[0][1] != run:
                del self._runs[run]
            while self._raw and self._raw[0][0] < tm - p.median_half_window - _TRIM:
                self._raw.popleft()
        out: list[SmoothedMidline] = []
        while self._pending and (final or self._newest - self._pending[0][0] > p.lookahead + 2 * _EPS):
            t, raw, segment = self._pending.popleft()
            smoothed = None
            if raw is not None:
                times = np.array([m[0] for m in self._med if m[2] == segment])
                values = np.array([m[1] for m in self._med if m[2] == segment])
                smoothed = _to_midline(_local_fit(times, values, t, p), raw)
            out.append(self._holder.result(t, raw, smoothed))
            while self._med and self._med[0][0] < t - p.fit_half_window - _TRIM:
                self._med.popleft()
        return out
