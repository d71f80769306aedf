"""Millimetres per pixel for a video: given, from a known pupil distance, from the iris, or an assumed pupil distance.

The iris's visible horizontal diameter is 11.77 mm on average in adults
(Emotrics' scale). Per-frame iris widths from landmarks are noisy (a few
tenths of a pixel on a 20-px iris is a few percent), so the scale is one
number per video: the median over the frames whose face is measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from facemirror.settings import ASSUMED_IPD_MM, Measures

#: how a scale was obtained (``Scale.method``)
METHODS = ("given", "pupil distance", "iris", "assumed", "none")


@dataclass(frozen=True)
class Scale:
    """Millimetres per pixel, how it was obtained (``method``, one of :data:`METHODS`) and that in words."""

    mm_per_px: float
    method: str
    source: str

    def __post_init__(self) -> None:
        if self.method not in METHODS:  # summaries and the report's notes key on it
            raise ValueError(f"unknown scale method {self.method!r}; one of {', '.join(METHODS)}")

    def as_dict(self) -> dict[str, object]:
        return {"mm_per_px": self.mm_per_px, "method": self.method, "source": self.source}


def video_scale(settings: Measures, iris_px: np.ndarray, pupils_px: np.ndarray) -> Scale:
    """The video's scale from per-frame iris diameters and pupil distances (pixels; NaN where not measured)."""
    if settings.mm_per_px is not None:
        return Scale(settings.mm_per_px, "given", "given")
    pupils = _median(pupils_px)
    if not (math.isfinite(pupils) and pupils > 0):
        return Scale(math.nan, "none", "none: no pupils were measured (give mm_per_px)")
    if settings.ipd_mm is not None:
        return Scale(settings.ipd_mm / pupils, "pupil distance", f"pupil distance given ({settings.ipd_mm:g} mm)")
    iris = _median(iris_px)
    if math.isfinite(iris) and iris > 0:
        text = f"iris diameter {settings.iris_mm:g} mm over its median {iris:.2f} px"
        return Scale(settings.iris_mm / iris, "iris", text)
    return Scale(ASSUMED_IPD_MM / pupils, "assumed", f"assumed pupil distance {ASSUMED_IPD_MM:g} mm (no iris points)")


def _median(values: np.ndarray) -> float:
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    return float(np.median(finite)) if len(finite) else math.nan
