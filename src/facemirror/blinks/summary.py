"""Per-eye blink summary of one video: rate, duration, share of complete blinks, smallest opening; left vs right.

Time observed is the time the eye was seen (frames with a finite EAR, each lasting
until the next frame's timestamp), so a face that leaves the picture does not lower
the rate. The smallest opening reached is over every frame, blink or not (a
voluntary closure counts), as the EAR (``min_ear``) and as the deepest closure
against the eye's open level (``max_closure``, :func:`facemirror.blinks.open_eye_level`:
0 = open as usual, 1 = shut); the sides are compared on the closure, since a ratio of
two near-zero openings would swing with a pixel. Each left/right comparison is the
smaller value over the larger and which side has the smaller one; it says nothing
about which side is affected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from facemirror.aus.blink import closure_fraction
from facemirror.blinks.events import BlinkEvent, open_eye_level
from facemirror.frame_times import frame_durations

#: EyeBlinkSummary fields compared between the eyes.
COMPARED = ("rate_per_min", "mean_duration_s", "complete_share", "max_closure")


@dataclass(frozen=True)
class EyeBlinkSummary:
    """One eye over one video; None where there is nothing to measure (no blinks, eye never seen)."""

    eye: str
    blinks: int
    complete_blinks: int
    observed_s: float
    rate_per_min: float | None
    mean_duration_s: float | None
    complete_share: float | None
    mean_closure: float | None
    min_ear: float | None
    max_closure: float | None


@dataclass(frozen=True)
class SideComparison:
    """Smaller over larger of one measure, and the side with the smaller value ("equal" when they are the same)."""

    ratio: float | None
    smaller: str | None


@dataclass(frozen=True)
class BlinkSummary:
    """Both eyes and their comparison per measure in :data:`COMPARED`."""

    left: EyeBlinkSummary
    right: EyeBlinkSummary
    comparison: dict[str, SideComparison]

    def to_dict(self) -> dict[str, Any]:
        """Plain values (None for missing), ready for a JSON summary."""
        return asdict(self)


def summarize_blinks(
    ear_left: Sequence[float] | np.ndarray,
    ear_right: Sequence[float] | np.ndarray,
    left: Sequence[BlinkEvent],
    right: Sequence[BlinkEvent],
    timestamps: Sequence[float] | np.ndarray,
) -> BlinkSummary:
    """Summarize both eyes from their EAR series, their events (:func:`facemirror.blinks.find_blinks`) and times (s)."""
    times = np.asarray(timestamps, dtype=np.float64)
    steps = np.diff(times)
    frame_s = frame_durations(times)
    fps = 1.0 / float(np.median(steps)) if len(steps) and np.median(steps) > 0 else 1.0
    eyes = [
        _eye_summary(name, np.asarray(ear, dtype=np.float64), events, frame_s, fps)
        for name, ear, events in (("left", ear_left, left), ("right", ear_right, right))
    ]
    comparison = {key: _compare(getattr(eyes[0], key), getattr(eyes[1], key)) for key in COMPARED}
    return BlinkSummary(left=eyes[0], right=eyes[1], comparison=comparison)


def _eye_summary(
    eye: str, ear: np.ndarray, events: Sequence[BlinkEvent], frame_s: np.ndarray, fps: float
) -> EyeBlinkSummary:
    if len(ear) != len(frame_s):
        raise ValueError(f"{len(frame_s)} timestamps for {len(ear)} {eye} EAR values")
    seen = np.isfinite(ear)
    observed = float(frame_s[seen].sum())
    complete = sum(e.complete for e in events)
    n = len(events)
    deepest = float(np.nanmax(closure_fraction(ear, open_eye_level(ear, fps)))) if seen.any() else None
    return EyeBlinkSummary(
        eye=eye,
        blinks=n,
        complete_blinks=complete,
        observed_s=observed,
        rate_per_min=n / observed * 60.0 if observed > 0 else None,
        mean_duration_s=float(np.mean([e.duration_s for e in events])) if n else None,
        complete_share=complete / n if n else None,
        mean_closure=float(np.mean([e.closure for e in events])) if n else None,
        min_ear=float(np.nanmin(ear)) if seen.any() else None,
        max_closure=deepest,
    )


def _compare(left: float | None, right: float | None) -> SideComparison:
    if left is None or right is None:
        return SideComparison(None, None)
    if left == right:
        return SideComparison(1.0 if left else None, "equal")
    small, large, side = (left, right, "left") if left < right else (right, left, "right")
    return SideComparison(small / large if large > 0 else None, side)
