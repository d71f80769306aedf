"""The rest segment of a recording, which the summaries measure every movement from."""

from __future__ import annotations

import numpy as np

from facemirror.settings import Measures


def rest_rule(settings: Measures) -> str:
    """The rule, in words, for summaries and sidecars."""
    if settings.rest is not None:
        return f"frames from {settings.rest[0]:g} s to {settings.rest[1]:g} s (given)"
    return f"the first {settings.rest_seconds:g} s of frames with a face"


def rest_mask(times: np.ndarray, seen: np.ndarray, settings: Measures) -> np.ndarray:
    """Which frames are at rest: those seen (``seen``) in the given (start, end) seconds, else the first
    ``rest_seconds`` seconds from the first seen frame (clinical recordings start at rest)."""
    times, seen = np.asarray(times, dtype=np.float64), np.asarray(seen, dtype=bool)
    if settings.rest is not None:
        start, end = settings.rest
        return seen & (times >= start) & (times <= end)
    if not seen.any():
        return seen
    return seen & (times <= times[seen][0] + settings.rest_seconds)
