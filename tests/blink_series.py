"""Synthetic EAR series with known blinks: a drifting open level, noise, NaN gaps, blinks of chosen depth.

A blink's lid covers ``depth`` of the eye's fissure: EAR = open x (1 - depth x (1 - SHUT)), where SHUT = 0.17 is the
EAR of shut lids as a fraction of the open EAR measured with the face mesh (0.16-0.18 on the real clips). Its profile
is a cosine closing in 80 ms, 40 ms held, a cosine reopening in 160 ms (a spontaneous blink's phases).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SHUT = 0.17
CLOSING_S, HOLD_S, OPENING_S = 0.08, 0.04, 0.16


@dataclass(frozen=True)
class TrueBlink:
    time: float  # s, when the lid starts to close
    depth: float  # fraction of the fissure covered at the deepest point

    @property
    def end(self) -> float:
        return self.time + CLOSING_S + HOLD_S + OPENING_S


def lid_profile(t: np.ndarray, blink: TrueBlink) -> np.ndarray:
    """Fraction of the fissure covered at times ``t`` by one blink (0 outside it)."""
    x = t - blink.time
    out = np.zeros_like(t)
    closing = (x >= 0) & (x < CLOSING_S)
    out[closing] = 0.5 - 0.5 * np.cos(np.pi * x[closing] / CLOSING_S)
    out[(x >= CLOSING_S) & (x < CLOSING_S + HOLD_S)] = 1.0
    opening = (x >= CLOSING_S + HOLD_S) & (x < blink.end - blink.time)
    out[opening] = 0.5 + 0.5 * np.cos(np.pi * (x[opening] - CLOSING_S - HOLD_S) / OPENING_S)
    return out * blink.depth


def open_level(t: np.ndarray) -> np.ndarray:
    """A drifting open-eye EAR: 0.28 +- 0.05 over a 15 s period, plus a slow rise of 0.03 per minute."""
    return 0.28 + 0.05 * np.sin(2 * np.pi * t / 15.0) + 0.03 * t / 60.0


def ear_series(
    fps: float,
    seconds: float,
    blinks: list[TrueBlink],
    noise: float = 0.005,
    gaps: Sequence[tuple[float, float]] = (),
    seed: int = 0,
    level: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(times, EAR) sampled at ``fps`` with a random phase, NaN inside each ``gaps`` (start, end) interval."""
    rng = np.random.default_rng(seed)
    t = (np.arange(round(seconds * fps)) + rng.uniform(0, 1)) / fps
    covered = np.zeros_like(t)
    for b in blinks:
        covered = np.maximum(covered, lid_profile(t, b))
    base = open_level(t) if level is None else level
    ear = base * (1 - covered * (1 - SHUT)) + rng.normal(0, noise, len(t))
    for a, b in gaps:
        ear[(t >= a) & (t < b)] = np.nan
    return t, ear


def detector_closure(depth: float) -> float:
    """What the detector should report for a lid covering ``depth``: closure with CLOSED_FRACTION 0.15 as shut."""
    return min(1.0, depth * (1 - SHUT) / (1 - 0.15))


def random_blinks(seed: int, seconds: float = 60.0) -> list[TrueBlink]:
    """Blinks 1-6 s apart, half complete (0.95-1.0 of the fissure) and half partial (0.3-0.75)."""
    rng = np.random.default_rng(1000 + seed)
    times = np.cumsum(rng.uniform(1.0, 6.0, int(seconds)))
    times = times[times < seconds - 2.0]
    return [
        TrueBlink(float(t), rng.uniform(0.95, 1.0) if rng.random() < 0.5 else rng.uniform(0.3, 0.75)) for t in times
    ]
