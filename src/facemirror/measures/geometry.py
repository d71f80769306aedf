"""The clinical distances of one face in one frame, per side, from its landmarks and its midline (in pixels).

The face's own frame: the (smoothed) midline is the vertical axis, positive
down the face, its perpendicular the horizontal one (``u``, towards the
subject's left in a normal recording). Per side, the subject's anatomical one:

- ``brow_height``: from the pupil centre up to the brow's upper edge, along
  the vertical axis, at the pupil;
- ``mrd1`` / ``mrd2``: pupil centre to the upper / lower lid margin, at the pupil;
- ``palpebral_fissure``: upper to lower lid margin at the pupil;
- ``commissure_height``: how far the mouth corner lies below the line through
  the midpoint of the two pupils, perpendicular to the midline;
- ``commissure_excursion``: from the point where the lower lip's outer edge
  crosses the midline to the mouth corner;
- ``smile_angle``: the angle of that segment above the horizontal (degrees);
- ``lip_opening_area``: the area of the oral opening (inner lip contour) on
  that side of the midline (square pixels).

Lids and brows are polylines through the layout's points, read at the
pupil's horizontal position by linear interpolation (:func:`side_points`). A
value whose points the layout does not have is NaN, never invented.
docs/measures.md has a figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from facemirror.layouts import SIDES, EyeRing, LandmarkLayout
from facemirror.mirror.midline import Midline

#: the measures, in the order of the CSV's columns, and their units (in the CSV)
MEASURES = (
    ("brow_height_mm", "mm"),
    ("mrd1_mm", "mm"),
    ("mrd2_mm", "mm"),
    ("palpebral_fissure_mm", "mm"),
    ("commissure_height_mm", "mm"),
    ("commissure_excursion_mm", "mm"),
    ("smile_angle_deg", "deg"),
    ("lip_opening_area_mm2", "mm2"),
)
NAMES = tuple(name for name, _ in MEASURES)
#: how each measure scales with the image: lengths by mm_per_px, areas by its square, angles not at all
POWER = {"mm": 1, "mm2": 2, "deg": 0}


def face_coordinates(points: np.ndarray, midline: Midline) -> np.ndarray:
    """``(N, 2)`` (u, v): across the face towards ``midline.normal``, and down the face, from the midline's point."""
    p = np.asarray(points, dtype=np.float64)[..., :2] - np.asarray(midline.point)
    return np.stack([p @ np.asarray(midline.normal), p @ np.asarray(midline.direction)], axis=-1)


def layout_side(side: str, selfie: bool) -> str:
    """The layout's name for the subject's ``side``: a mirrored (selfie) recording shows each side as the other."""
    return side if not selfie else SIDES[1 - SIDES.index(side)]


@dataclass
class SidePoints:
    """The points the measures are read at, per side (index 0: the subject's left), in image pixels.

    ``brow``, ``upper_lid`` and ``lower_lid`` are taken at the pupil's horizontal position (on the
    polylines through the layout's points), so correcting them by the asymmetry field reads the field
    exactly where each measure is taken.
    """

    pupil: np.ndarray
    brow: np.ndarray
    upper_lid: np.ndarray
    lower_lid: np.ndarray
    corner: np.ndarray

    def stacked(self) -> np.ndarray:
        """``(5, 2, 2)``: [point kind, side, xy]."""
        return np.stack([self.pupil, self.brow, self.upper_lid, self.lower_lid, self.corner])

    @classmethod
    def from_stacked(cls, points: np.ndarray) -> SidePoints:
        return cls(*points)


def side_points(landmarks: np.ndarray, layout: LandmarkLayout, midline: Midline, selfie: bool = False) -> SidePoints:
    """Each side's pupil, brow, lid margins (at the pupil) and mouth corner; NaN for what the layout lacks."""
    lm = layout.check(landmarks)[:, :2]
    uv = face_coordinates(lm, midline)
    out = np.full((5, 2, 2), np.nan)
    for column, side in enumerate(SIDES):
        named = layout_side(side, selfie)
        eye, brow = layout.eyes.get(named), layout.brows.get(named)
        pupil = _pupil(lm, eye)
        out[0, column] = pupil
        if _finite(pupil):
            u = float(face_coordinates(pupil, midline)[0])
            if brow:
                out[1, column] = _image(_at(uv[list(brow)], u), u, midline)
            if eye is not None:
                out[2, column] = _image(_at(uv[[eye.outer, *eye.upper_lid, eye.inner]], u), u, midline)
                out[3, column] = _image(_at(uv[[eye.outer, *eye.lower_lid, eye.inner]], u), u, midline)
        corner = layout.mouth_corners.get(named)
        if corner is not None:
            out[4, column] = lm[corner]
    return SidePoints.from_stacked(out)


def frame_measures(
    landmarks: np.ndarray,
    layout: LandmarkLayout,
    midline: Midline,
    selfie: bool = False,
    points: SidePoints | None = None,
) -> np.ndarray:
    """``(len(MEASURES), 2)``: every measure for the subject's (left, right) side, in pixels, square pixels, degrees.

    ``points`` (default: :func:`side_points` of the landmarks) are where the distances are read; the lips
    (the commissure's reference on the midline, the oral opening) come from the landmarks.
    """
    lm = layout.check(landmarks)
    points = points or side_points(lm, layout, midline, selfie)
    uv = face_coordinates(lm, midline)
    p = face_coordinates(points.stacked(), midline)  # (5, 2 sides, 2)
    pupil, brow, upper, lower, corner = p[:, :, 1]  # v of each point, per side
    out = np.full((len(MEASURES), 2), np.nan)
    out[0] = pupil - brow
    out[1] = pupil - upper
    out[2] = lower - pupil
    out[3] = lower - upper
    out[4] = corner - np.mean(pupil)
    crossing = _lower_lip_on_midline(uv, layout)
    for column, side in enumerate(SIDES):
        c = p[4, column]
        out[5, column] = float(np.hypot(*(c - crossing)))
        out[6, column] = math.degrees(math.atan2(crossing[1] - c[1], abs(c[0] - crossing[0])))
        if layout.lips_inner:
            sign = 1.0 if (side == "left") != selfie else -1.0
            out[7, column] = _half_area(uv[list(layout.lips_inner)], sign)
    return out


def iris_diameter(landmarks: np.ndarray, layout: LandmarkLayout) -> float:
    """The mean horizontal diameter of both irises (pixels), from the layout's iris rings; NaN without them.

    A ring's first and third points are the iris's image-right and image-left edges (MediaPipe's order).
    """
    lm = np.asarray(landmarks, dtype=np.float64)[:, :2]
    widths = [
        float(np.hypot(*(lm[eye.iris[0]] - lm[eye.iris[2]]))) for eye in layout.eyes.values() if len(eye.iris) >= 3
    ]
    return float(np.mean(widths)) if len(widths) == 2 else math.nan


def pupil_distance(landmarks: np.ndarray, layout: LandmarkLayout) -> float:
    """The distance between the two pupil centres (pixels); NaN when the layout has no pupils."""
    lm = np.asarray(landmarks, dtype=np.float64)[:, :2]
    centres = [_pupil(lm, layout.eyes.get(side)) for side in SIDES]
    return float(np.hypot(*(centres[0] - centres[1]))) if all(map(_finite, centres)) else math.nan


def _pupil(points: np.ndarray, eye: EyeRing | None) -> np.ndarray:
    """The pupil centre: the layout's pupil point, else the middle of the eye's corners."""
    if eye is None:
        return np.full(2, np.nan)
    if eye.pupil is not None:
        return np.asarray(points[eye.pupil], dtype=np.float64)
    return (points[eye.outer] + points[eye.inner]) / 2


def _finite(point: np.ndarray) -> bool:
    return bool(np.isfinite(point).all())


def _image(v: float, u: float, midline: Midline) -> np.ndarray:
    """The image point at face coordinates (u, v)."""
    return np.asarray(midline.point) + u * np.asarray(midline.normal) + v * np.asarray(midline.direction)


def _at(polyline: np.ndarray, u: float) -> float:
    """The polyline's v at horizontal position ``u`` (linear between its points); NaN outside its extent."""
    order = np.argsort(polyline[:, 0])
    us, vs = polyline[order, 0], polyline[order, 1]
    if not us[0] <= u <= us[-1]:
        return math.nan
    return float(np.interp(u, us, vs))


def _lower_lip_on_midline(uv: np.ndarray, layout: LandmarkLayout) -> np.ndarray:
    """Where the lower lip's outer edge crosses the midline (u = 0): the lowest crossing of the outer lip contour."""
    if layout.lips_outer:
        ring = uv[list(layout.lips_outer)]
        crossings = []
        for a, b in zip(ring, np.roll(ring, -1, axis=0)):
            if (a[0] <= 0.0 <= b[0] or b[0] <= 0.0 <= a[0]) and a[0] != b[0]:
                t = a[0] / (a[0] - b[0])
                crossings.append(a[1] + t * (b[1] - a[1]))
        if crossings:
            return np.array([0.0, max(crossings)])
    if layout.lower_lip_bottom is not None:
        return np.array([0.0, uv[layout.lower_lip_bottom, 1]])
    return np.full(2, np.nan)


def _half_area(polygon: np.ndarray, sign: float) -> float:
    """Area of ``polygon`` (u, v) on the side ``sign * u >= 0`` of the midline (Sutherland-Hodgman clip)."""
    kept: list[np.ndarray] = []
    for a, b in zip(polygon, np.roll(polygon, -1, axis=0)):
        inside_a, inside_b = sign * a[0] >= 0, sign * b[0] >= 0
        if inside_a:
            kept.append(a)
        if inside_a != inside_b:
            t = a[0] / (a[0] - b[0])
            kept.append(a + t * (b - a))
    if len(kept) < 3:
        return 0.0
    p = np.array(kept)
    return 0.5 * abs(float(p[:, 0] @ np.roll(p[:, 1], -1) - p[:, 1] @ np.roll(p[:, 0], -1)))
