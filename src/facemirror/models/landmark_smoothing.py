"""MediaPipe's landmark smoothing for VIDEO mode: a one-euro filter per coordinate, scaled by face size.

MediaPipe's Face Landmarker smooths its single-face VIDEO-mode output with
``LandmarksSmoothingCalculator`` (one-euro: min cutoff 0.05, beta 80,
derivative cutoff 1, 30 fps until timestamps say otherwise), velocities
divided by the face's size (mean of the landmarks' bounding-box width and
height). This class reproduces it, so tracked landmarks can be compared with
MediaPipe's VIDEO mode; it keeps its own state, one instance per video. The
first frame always starts the filter, whatever its timestamp (mediapipe 1.2.2
behaves so: its frame at 0 ms already seeds the filter for the next one).
"""

from __future__ import annotations

import math

import numpy as np


class OneEuroSmoother:
    """Smooths successive ``(K, 3)`` landmark arrays in pixels given their timestamps in seconds."""

    def __init__(
        self,
        min_cutoff: float = 0.05,
        beta: float = 80.0,
        derivate_cutoff: float = 1.0,
        frequency: float = 30.0,
        min_object_scale: float = 1e-6,
    ) -> None:
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.derivate_cutoff = derivate_cutoff
        self.initial_frequency = frequency
        self.min_object_scale = min_object_scale
        self.reset()

    def reset(self) -> None:
        """Forget the history (MediaPipe does this on every frame without a face)."""
        self._frequency = self.initial_frequency
        self._last_ns: int | None = None
        self._value: np.ndarray | None = None  # last raw value
        self._smoothed: np.ndarray | None = None
        self._deriv: np.ndarray | None = None

    def __call__(self, landmarks: np.ndarray, timestamp: float) -> np.ndarray:
        """The smoothed landmarks for this frame (float64, same shape)."""
        value = np.asarray(landmarks, dtype=np.float64)
        size = value[:, :2].max(axis=0) - value[:, :2].min(axis=0)
        scale = float(size.sum()) / 2
        ns = round(timestamp * 1e9)
        if scale < self.min_object_scale or (self._last_ns is not None and self._last_ns >= ns):
            return value.copy()  # MediaPipe returns the input untouched and keeps its state
        if self._last_ns is not None:
            self._frequency = 1.0 / ((ns - self._last_ns) * 1e-9)
        self._last_ns = ns
        # per-second change, relative to the face size (zero on the first frame)
        speed = np.zeros_like(value) if self._value is None else (value - self._value) / scale * self._frequency
        self._deriv = speed if self._deriv is None else self._blend(speed, self._deriv, self.derivate_cutoff)
        cutoff = self.min_cutoff + self.beta * np.abs(self._deriv)
        self._smoothed = value if self._smoothed is None else self._blend(value, self._smoothed, cutoff)
        self._value = value
        return self._smoothed.copy()

    def _blend(self, new: np.ndarray, old: np.ndarray, cutoff: float | np.ndarray) -> np.ndarray:
        tau = 1.0 / (2 * math.pi * np.asarray(cutoff))
        alpha = 1.0 / (1.0 + tau * self._frequency)
        return alpha * new + (1.0 - alpha) * old
