"""A known one-sided displacement of a face: the ground truth for measuring how much asymmetry a method recovers.

:class:`Droop` moves one point of a face (a mouth corner, a brow, an upper lid)
by ``amount`` pixels along ``direction`` (down the face) and its surroundings
smoothly less: the displacement is ``amount * w(p) * direction`` with the C2
bump ``w = (1 - r^2)^3`` (0 for r >= 1) on an ellipse around the point, where
``r^2 = (across / radius_across)^2 + (along / radius_along)^2`` and
``radius_along`` is ``radius_up`` above the point and ``radius_down`` below it.
The skin above stretches over ``radius_up``; below, it is pushed together over
``radius_down``, which is why ``amount`` must stay under ``radius_down / 1.72``
(the steepest slope of the bump) for the warp to be one-to-one (``radius_up``
when it moves up).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: The steepest slope of the bump (1 - r^2)^3 over r: 6 r (1 - r^2)^2 at r = 1 / sqrt(5).
_MAX_SLOPE = 6.0 / 5.0**0.5 * (4.0 / 5.0) ** 2
_INVERSE_ROUNDS = 40


@dataclass(frozen=True)
class Droop:
    """Move ``centre`` (image pixels, continuous) by ``amount`` px along the unit ``direction``, smoothly."""

    centre: tuple[float, float]
    amount: float
    direction: tuple[float, float]
    radius_across: float
    radius_up: float
    radius_down: float

    def __post_init__(self) -> None:
        ahead = self.radius_down if self.amount > 0 else self.radius_up  # the side the skin is pushed into
        if abs(self.amount) * _MAX_SLOPE >= 0.9 * ahead:
            raise ValueError(
                f"a droop of {self.amount} px folds the image: keep it under "
                f"{0.9 * ahead / _MAX_SLOPE:.1f} px or widen the bump"
            )

    def displacement(self, points: np.ndarray) -> np.ndarray:
        """The forward displacement (N, 2) of input points (N, 2)."""
        p = np.asarray(points, dtype=np.float64)
        d = np.asarray(self.direction, dtype=np.float64)
        rel = p - np.asarray(self.centre, dtype=np.float64)
        along = rel @ d
        across = rel @ np.array([d[1], -d[0]])
        radius = np.where(along > 0, self.radius_down, self.radius_up)
        r2 = np.minimum((across / self.radius_across) ** 2 + (along / radius) ** 2, 1.0)
        return (self.amount * (1.0 - r2) ** 3)[:, None] * d

    def apply(self, image: np.ndarray) -> np.ndarray:
        """``image`` with the droop applied: output(y) = image(x) where y = x + displacement(x) (bicubic)."""
        h, w = image.shape[:2]
        reach = max(self.radius_across, self.radius_up, self.radius_down) + abs(self.amount) + 2
        cx, cy = self.centre
        x0, x1 = int(max(0, np.floor(cx - reach))), int(min(w, np.ceil(cx + reach)))
        y0, y1 = int(max(0, np.floor(cy - reach))), int(min(h, np.ceil(cy + reach)))
        out = image.copy()
        if x1 <= x0 or y1 <= y0:
            return out
        ys, xs = np.mgrid[y0:y1, x0:x1]
        target = np.stack([xs.ravel() + 0.5, ys.ravel() + 0.5], axis=1)
        source = target.copy()
        for _ in range(_INVERSE_ROUNDS):  # x = y - v(x): a contraction while the warp is one-to-one
            source = target - self.displacement(source)
        maps = (source - 0.5).astype(np.float32).reshape(y1 - y0, x1 - x0, 2)
        out[y0:y1, x0:x1] = cv2.remap(image, maps[..., 0], maps[..., 1], cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
        return out
