"""The face's own frame: an upright crop whose centre column is the midline, so the reflection is a plain flip.

Sampling the face once into a crop whose axes are the midline's normal (x) and
direction (y, down the face), with the midline on the boundary between the two
middle columns, makes the mirror image of the crop exactly ``crop[:, ::-1]``:
no second interpolation, and a displacement in crop pixels splits directly into
an across-the-face and a down-the-face part.

Coordinates are continuous (pixel (i, j) covers [i, i+1) x [j, j+1)), in the
image as in the crop, the convention of :class:`~facemirror.mirror.midline.Midline`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from facemirror.mirror.midline import Midline


@dataclass(frozen=True)
class FaceFrame:
    """An affine map from image pixels to a crop of ``size`` (width, height) in the face's frame.

    ``matrix`` is 2x3, continuous coordinates: ``crop = matrix[:, :2] @ image + matrix[:, 2]``.
    ``face_px`` is the face height in image pixels (the extent of the region along the midline).
    A crop smaller than the face in the image is sampled at ``native`` size first, then area-averaged
    down to ``size`` (bilinear sampling alone would alias).
    """

    matrix: np.ndarray
    size: tuple[int, int]
    face_px: float
    native: tuple[int, int] | None = None

    @classmethod
    def around(
        cls, midline: Midline, region: np.ndarray, margin: float = 0.12, face_range: tuple[float, float] = (0.0, 1e9)
    ) -> FaceFrame:
        """The frame holding ``region`` (face points (N, 2), or a box x1, y1, x2, y2) plus ``margin`` face heights.

        The crop is symmetric about the midline. It is sampled at the image's own scale unless the face
        height falls outside ``face_range`` (pixels), in which case it is scaled to the nearer end.
        """
        pts = _region_points(region)
        n = np.asarray(midline.normal, dtype=np.float64)
        d = np.asarray(midline.direction, dtype=np.float64)
        p0 = np.asarray(midline.point, dtype=np.float64)
        across = (pts - p0) @ n
        along = (pts - p0) @ d
        face_px = float(np.ptp(along))
        if not face_px > 0:
            raise ValueError("the face region has no height along the midline")
        pad = margin * face_px
        half_width = float(np.abs(across).max()) + pad
        top, bottom = float(along.min()) - pad, float(along.max()) + pad
        scale = min(max(1.0, face_range[0] / face_px), face_range[1] / face_px)
        sampled = 1.0 if scale < 1.0 else scale
        width = 2 * max(8, math.ceil(half_width * sampled))  # even: the midline falls between two columns
        height = max(16, math.ceil((bottom - top) * sampled))
        linear = sampled * np.vstack([n, d])
        offset = np.array([width / 2.0, -sampled * top]) - linear @ p0
        frame = cls(np.hstack([linear, offset[:, None]]), (width, height), face_px)
        if scale >= 1.0:
            return frame
        size = (2 * max(8, round(width * scale / 2)), max(16, round(height * scale)))
        shrink = np.diag([size[0] / width, size[1] / height])
        return cls(shrink @ frame.matrix, size, face_px, native=(width, height))

    @property
    def scale(self) -> float:
        """Crop pixels per image pixel (the geometric mean of the two axes)."""
        return float(math.sqrt(abs(np.linalg.det(self.matrix[:, :2]))))

    def take(self, image: np.ndarray) -> np.ndarray:
        """The crop of ``image`` (bilinear, then area-averaged when sampled at ``native`` size)."""
        matrix, size = self.matrix, self.size
        if self.native is not None:
            matrix = np.diag([self.native[0] / size[0], self.native[1] / size[1]]) @ matrix
            size = self.native
        # cv2 indexes pixel centres at integers: crop_idx = L (image_idx + .5) + t - .5
        linear = matrix[:, :2]
        shift = matrix[:, 2] + linear @ np.array([0.5, 0.5]) - 0.5
        crop = cv2.warpAffine(
            image, np.hstack([linear, shift[:, None]]), size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        return crop if self.native is None else cv2.resize(crop, self.size, interpolation=cv2.INTER_AREA)

    def inside(self, image_shape: tuple[int, ...]) -> np.ndarray:
        """(h, w) bool: the crop pixels whose centres come from inside an image of ``image_shape``."""
        inverse = np.linalg.inv(self.matrix[:, :2])
        xs = np.arange(self.size[0]) + 0.5
        ys = np.arange(self.size[1])[:, None] + 0.5
        out = np.ones((self.size[1], self.size[0]), dtype=bool)
        for axis, limit in ((0, image_shape[1]), (1, image_shape[0])):
            row = inverse[axis]  # image coordinate = row . (crop - offset)
            coord = row[0] * (xs - self.matrix[0, 2]) + row[1] * (ys - self.matrix[1, 2])
            out &= (coord >= 0) & (coord <= limit)
        return out

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """Image points (N, 2) in crop coordinates."""
        return np.asarray(points, dtype=np.float64)[:, :2] @ self.matrix[:, :2].T + self.matrix[:, 2]

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """Crop points (N, 2) in image coordinates."""
        return (np.asarray(points, dtype=np.float64) - self.matrix[:, 2]) @ np.linalg.inv(self.matrix[:, :2]).T

    def vectors_to_image(self, vectors: np.ndarray) -> np.ndarray:
        """Displacements (N, 2) in crop pixels as image pixels."""
        return np.asarray(vectors, dtype=np.float64) @ np.linalg.inv(self.matrix[:, :2]).T


def _region_points(region: np.ndarray) -> np.ndarray:
    pts = np.asarray(region, dtype=np.float64)
    if pts.shape == (4,):
        x1, y1, x2, y2 = pts
        return np.array([[x1, y1], [x2, y1], [x1, y2], [x2, y2]])
    if pts.ndim != 2 or pts.shape[1] < 2 or len(pts) < 2 or not np.isfinite(pts[:, :2]).all():
        raise ValueError(f"the face region must be finite points (N, 2) or a box (4,), got shape {pts.shape}")
    return pts[:, :2]
