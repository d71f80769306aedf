"""How long each frame of a video lasts, from its timestamps (for durations and time plots)."""

from __future__ import annotations

import numpy as np


def frame_durations(times: np.ndarray, lone_s: float = 0.0) -> np.ndarray:
    """Seconds each frame lasts: until the next timestamp, the last one the median step; a lone frame ``lone_s``."""
    times = np.asarray(times, dtype=np.float64)
    steps = np.diff(times)
    last = float(np.median(steps)) if len(steps) else lone_s
    return np.append(steps, last)[: len(times)]
