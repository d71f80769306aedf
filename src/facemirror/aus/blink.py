"""Blink (AU45) from eye landmarks: eye aspect ratio per eye, mapped to OpenFace's 0-5 intensity.

Eye aspect ratio (Soukupová & Čech 2016): the mean lid-to-lid distance over
the corner-to-corner distance, ``EAR = (|p2-p6| + |p3-p5|) / (2 |p1-p4|)``;
about 0.25-0.35 for an open eye, near 0 for a closed one, in image pixels so
it needs no calibration. Sides are the SUBJECT's.

The points come from the landmark layout (:class:`~facemirror.layouts.EyeRing`):
the two corners and the facing lid points. MediaPipe mesh: the outer and inner
corners and the 3rd and 5th of the 7 points on each lid (subject's right eye
33, 160, 158, 133, 153, 144; left eye 263, 387, 385, 362, 380, 373). WFLW (98
points, STAR): ring 60-67 is the eye on the image left, i.e. the subject's
RIGHT eye, corners 60/64, lid pairs 61-67, 62-66, 63-65; ring 68-75 is the
subject's LEFT eye, corners 68/72, pairs 69-75, 70-74, 71-73. The EAR is the
mean of the facing lid distances over the corner distance.

Intensity: linear in ``EAR / open_EAR`` from 0 at the open-eye EAR to 5 at
``CLOSED_FRACTION`` of it, clipped to [0, 5]. ``open_EAR`` is per eye and per
video (:func:`video_baseline`: the median of that eye's EAR over the video,
which adapts to the person and to a palsied eye's resting aperture, and holds
while the eye is open in more than half the frames), or
:data:`DEFAULT_OPEN_EAR` when there are too few frames. ``AU45_r`` is the
mean of the two eyes; ``AU45_c`` is ``AU45_r >= 1`` (OpenFace's "trace" level).
Constants measured with the MediaPipe mesh on single_face.mp4 and
face_noface.mov (one blink each): open-eye EAR median 0.28 (10th-90th
percentile 0.26-0.33), lids shut 0.046-0.052 = 0.16-0.18 of the median.
A 90th-percentile baseline marked 22-26 frames per video as blinking, the
median 4-5 (the blink's frames).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from facemirror.layouts import MEDIAPIPE_478, WFLW_98, EyeRing, LandmarkLayout

#: Open-eye EAR used when a video has too few face frames for its own baseline (MediaPipe mesh, frontal face).
DEFAULT_OPEN_EAR = 0.28
#: EAR, as a fraction of the open-eye EAR, that maps to intensity 5 (eye shut).
CLOSED_FRACTION = 0.15
#: Percentile of a video's EAR series taken as that eye's open-eye EAR (the median).
BASELINE_PERCENTILE = 50.0
#: Fewer face frames than this and the baseline falls back to DEFAULT_OPEN_EAR.
MIN_BASELINE_FRAMES = 15
#: AU45_c is AU45_r at or above this.
PRESENCE_INTENSITY = 1.0


def eye_aspect_ratio(
    landmarks: np.ndarray, corners: tuple[int, int], upper: Sequence[int], lower: Sequence[int]
) -> float:
    """Mean distance between facing lid points over the corner distance, in the image plane (x, y).

    NaN when the corners coincide or a point is missing (NaN).
    """
    pts = np.asarray(landmarks, dtype=np.float64)[:, :2]
    width = float(np.linalg.norm(pts[corners[0]] - pts[corners[1]]))
    height = float(np.mean(np.linalg.norm(pts[list(upper)] - pts[list(lower)], axis=1)))
    return height / width if width > 0 else float("nan")


def layout_ear(landmarks: np.ndarray, layout: LandmarkLayout) -> tuple[float, float]:
    """``(left, right)`` EAR of the subject's eyes, from the layout's eye rings (NaN for an eye it does not have)."""
    return _ring_ear(landmarks, layout.eyes.get("left")), _ring_ear(landmarks, layout.eyes.get("right"))


def mesh_ear(landmarks: np.ndarray) -> tuple[float, float]:
    """``(left, right)`` EAR of the subject's eyes from MediaPipe's 478-point mesh."""
    return layout_ear(landmarks, MEDIAPIPE_478)


def wflw_ear(landmarks: np.ndarray) -> tuple[float, float]:
    """``(left, right)`` EAR of the subject's eyes from WFLW's 98 points (STAR)."""
    if len(landmarks) != 98:
        raise ValueError(f"WFLW landmarks must have 98 points, got {len(landmarks)}")
    return layout_ear(landmarks, WFLW_98)


def _ring_ear(landmarks: np.ndarray, eye: EyeRing | None) -> float:
    if eye is None:
        return float("nan")
    return eye_aspect_ratio(landmarks, (eye.outer, eye.inner), eye.ear_upper, eye.ear_lower)


def video_baseline(ears: Sequence[float] | np.ndarray, default: float = DEFAULT_OPEN_EAR) -> float:
    """One eye's open-eye EAR over a video: the BASELINE_PERCENTILE of its finite values, else ``default``."""
    values = np.asarray(ears, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) < MIN_BASELINE_FRAMES:
        return float(default)
    return float(np.percentile(values, BASELINE_PERCENTILE))


def closure_fraction(
    ears: Sequence[float] | np.ndarray | float,
    open_ear: float | np.ndarray,
    closed_fraction: float = CLOSED_FRACTION,
) -> np.ndarray:
    """How far each EAR is from open (0) to shut (1): linear in ``EAR / open_ear``, 1 at ``closed_fraction``.

    ``open_ear`` may be one value or one per frame (a drifting open-eye level); clipped to [0, 1], NaN stays NaN.
    """
    ratio = np.asarray(ears, dtype=np.float64) / np.asarray(open_ear, dtype=np.float64)
    return np.clip((1.0 - ratio) / (1.0 - closed_fraction), 0.0, 1.0)


def au45_intensity(
    ears: Sequence[float] | np.ndarray | float, open_ear: float, closed_fraction: float = CLOSED_FRACTION
) -> np.ndarray:
    """0-5 intensity for EAR values: 0 at ``open_ear``, 5 at ``closed_fraction * open_ear``; NaN stays NaN."""
    return 5.0 * closure_fraction(ears, open_ear, closed_fraction)


@dataclass
class Blink:
    """AU45 per frame: per-eye and combined intensity (0-5), presence (1.0/0.0, NaN without a face), baselines."""

    left_r: np.ndarray
    right_r: np.ndarray
    r: np.ndarray
    c: np.ndarray
    open_ear: tuple[float, float]


def au45(
    ear_left: Sequence[float] | np.ndarray,
    ear_right: Sequence[float] | np.ndarray,
    open_ear: tuple[float, float] | float | None = None,
) -> Blink:
    """AU45 for EAR series of the subject's left and right eye (NaN where there is no face).

    ``open_ear`` None: each eye's baseline from this series (offline, whole
    video); a number or a (left, right) pair: fixed baselines, so a frame's
    value does not depend on later frames (streaming, single images).
    """
    left = np.asarray(ear_left, dtype=np.float64)
    right = np.asarray(ear_right, dtype=np.float64)
    if open_ear is None:
        baselines = (video_baseline(left), video_baseline(right))
    elif isinstance(open_ear, tuple):
        baselines = (float(open_ear[0]), float(open_ear[1]))
    else:
        baselines = (float(open_ear), float(open_ear))
    left_r = au45_intensity(left, baselines[0])
    right_r = au45_intensity(right, baselines[1])
    both = np.stack([left_r, right_r])
    count = np.isfinite(both).sum(axis=0)
    r = np.where(count > 0, np.nansum(both, axis=0) / np.maximum(count, 1), np.nan)
    c = np.where(np.isfinite(r), (r >= PRESENCE_INTENSITY).astype(np.float64), np.nan)
    return Blink(left_r=left_r, right_r=right_r, r=r, c=c, open_ear=baselines)
