"""Rotated square regions of interest and the crop warp MediaPipe's ImageToTensorCalculator performs.

MediaPipe maps the four corners of a rotated rectangle onto the corners of the
network input (corner ``(0, 0)`` and ``(size, size)``, not pixel centres) with a
perspective warp of the uint8 image, bilinear, then scales the values. Doing
exactly the same keeps the landmarks within a few hundredths of a pixel of
MediaPipe's own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Roi:
    """A rectangle in image pixels: centre, width, height, and rotation in radians (MediaPipe's sign)."""

    cx: float
    cy: float
    width: float
    height: float
    rotation: float = 0.0

    def corners(self) -> np.ndarray:
        """(4, 2) float32 corners in cv2.boxPoints order: bottom-left, top-left, top-right, bottom-right."""
        box = ((self.cx, self.cy), (self.width, self.height), math.degrees(self.rotation))
        return cv2.boxPoints(box).astype(np.float32)

    def matrix(self, size: int) -> np.ndarray:
        """3x3 perspective matrix taking image pixels to ``size`` x ``size`` crop coordinates."""
        dst = np.array([[0, size], [0, 0], [size, 0], [size, size]], dtype=np.float32)
        return cv2.getPerspectiveTransform(self.corners(), dst)

    def to_image(self, points: np.ndarray, size: int) -> np.ndarray:
        """Map ``(..., 2+)`` crop coordinates back to image pixels; a third column (z) scales with the width."""
        pts = np.asarray(points, dtype=np.float64)
        u = pts[..., 0] / size - 0.5
        v = pts[..., 1] / size - 0.5
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        out = np.empty(pts.shape, dtype=np.float64)
        out[..., 0] = (c * u - s * v) * self.width + self.cx
        out[..., 1] = (s * u + c * v) * self.height + self.cy
        if pts.shape[-1] > 2:
            out[..., 2] = pts[..., 2] / size * self.width
            out[..., 3:] = pts[..., 3:]
        return out


def square_roi(cx: float, cy: float, width: float, height: float, rotation: float, scale: float) -> Roi:
    """A square of ``scale`` times the longer side, about the centre (MediaPipe's FIT padding / square_long)."""
    side = max(width, height) * scale
    return Roi(cx, cy, side, side, rotation)


def rotation_between(p0: np.ndarray, p1: np.ndarray) -> float:
    """MediaPipe's ROI angle that makes ``p0 -> p1`` horizontal, wrapped to [-pi, pi)."""
    angle = -math.atan2(-(float(p1[1]) - float(p0[1])), float(p1[0]) - float(p0[0]))
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def warp(rgb: np.ndarray, roi: Roi, size: int, border: int, pixel_centres: bool = False) -> np.ndarray:
    """The ``size`` x ``size`` uint8 crop of ``roi`` (bilinear, as MediaPipe's OpenCV converter).

    MediaPipe hands its corner mapping (continuous coordinates, pixel centres
    at +0.5) straight to OpenCV (pixel centres at integers), so its crops sit
    half a crop pixel minus half an image pixel away from the ROI; the default
    reproduces that for parity. ``pixel_centres=True`` samples at the true
    pixel centres, so the crop is centred exactly on the ROI (what the
    symmetric mesh mode needs: a symmetric face's crop is then symmetric).
    """
    matrix = roi.matrix(size)
    if pixel_centres:
        shift = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
        matrix = np.linalg.inv(shift) @ matrix @ shift
    return cv2.warpPerspective(rgb, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=border)
