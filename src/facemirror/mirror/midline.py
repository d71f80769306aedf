"""The facial midline of one frame: a least-squares mirror-symmetry axis of the face mesh, and head pose.

A face is (nearly) mirror-symmetric in the image about its midline, so the midline is
fitted as the line whose reflection carries each subject's-left landmark onto its
right partner, and each sagittal landmark onto itself. With the line written as
``n . p = c`` (unit normal ``n``) the summed squared reflection error of weighted
pairs ``(L_k, R_k)`` (a sagittal point is the pair ``(s, s)``) is

    E(n, c) = sum_k w_k |L_k - 2 (n . L_k - c) n - R_k|^2
            = const - n^T V n + 4 n^T C n,

with ``V = sum w v v^T`` over the pair vectors ``v = L - R`` and ``C`` the weighted
scatter of the pair midpoints. So the optimal normal is the eigenvector of
``4C - V`` with the smallest eigenvalue and ``c`` the weighted mean of ``n . midpoint``:
a closed form, refined by iteratively reweighted least squares with Huber weights so
that a few badly placed points (a blinking eye, a drooping mouth corner) do not
bend the line. If the landmarks are exactly symmetric about some line (for instance
a mesh made reflection-equivariant by flip averaging), every residual is zero at
that line and the fit returns it exactly.

Only x, y are used. Under yaw (head turned) the projected face is no longer
mirror-symmetric: pair midpoints shift sideways in proportion to their depth, so the
fitted line is a compromise and a split along it is not anatomically exact.
:func:`head_pose` gives the yaw so callers can flag frames turned too far.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from facemirror.layouts import MEDIAPIPE_478, LandmarkLayout

#: Above this |yaw| (degrees) a split along the midline is not a valid half-face comparison.
MAX_VALID_YAW_DEG = 25.0
_HUBER_K = 1.345
_IRLS_ITERATIONS = 10


class HeadPose(NamedTuple):
    """Head rotation in degrees (see :func:`head_pose` for the signs); NaN when the layout has no pose points."""

    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True)
class Midline:
    """A midline in image pixels: a point on it and a unit direction pointing down the face."""

    point: tuple[float, float]
    direction: tuple[float, float]
    residual_px: float = 0.0
    inlier_fraction: float = 1.0
    yaw_deg: float = math.nan

    @classmethod
    def from_angle(cls, point: tuple[float, float], angle_deg: float, **fields: float) -> Midline:
        """Build a midline from a point and its :attr:`angle_deg` (0 = vertical, forehead up)."""
        a = math.radians(angle_deg)
        return cls(point=(float(point[0]), float(point[1])), direction=(-math.sin(a), math.cos(a)), **fields)

    @property
    def angle_deg(self) -> float:
        """Angle of the line from the image vertical, positive when the face is rolled clockwise."""
        dx, dy = self.direction
        return math.degrees(math.atan2(-dx, dy))

    @property
    def normal(self) -> tuple[float, float]:
        """Unit normal pointing to the side of the subject's left (the image right for an upright face)."""
        dx, dy = self.direction
        return (dy, -dx)

    def signed_distance(self, x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray | float:
        """Distance of points from the line in pixels, positive on the subject's-left side."""
        nx, ny = self.normal
        return nx * (x - self.point[0]) + ny * (y - self.point[1])

    def endpoints(self, height: int, width: int) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """Where the line enters and leaves the frame (top of the face first), or None if it misses it."""
        (px, py), (dx, dy) = self.point, self.direction
        lo, hi = -math.inf, math.inf
        for p, d, limit in ((px, dx, width - 1.0), (py, dy, height - 1.0)):
            if abs(d) < 1e-12:
                if not 0.0 <= p <= limit:
                    return None
                continue
            t0, t1 = sorted(((0.0 - p) / d, (limit - p) / d))
            lo, hi = max(lo, t0), min(hi, t1)
        if lo > hi:
            return None
        return (px + lo * dx, py + lo * dy), (px + hi * dx, py + hi * dy)


#: the pose of a layout without pose points: unknown, never invented
UNKNOWN_POSE = HeadPose(math.nan, math.nan, math.nan)


def fit_symmetry_axis(
    left: np.ndarray, right: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, float, np.ndarray]:
    """Weighted least-squares mirror axis of point pairs: returns (unit normal n, offset c, residuals).

    ``left[k]`` should reflect onto ``right[k]``; a point paired with itself must lie on
    the axis. The normal points from the right points towards the left points, and
    ``residuals[k]`` is the reflection error ``|reflect(left[k]) - right[k]|``.
    """
    w = np.ones(len(left)) if weights is None else np.asarray(weights, dtype=np.float64)
    v = left - right
    mid = 0.5 * (left + right)
    wsum = w.sum()
    mean = (w[:, None] * mid).sum(axis=0) / wsum
    dm = mid - mean
    scatter = (w[:, None, None] * (4.0 * dm[:, :, None] * dm[:, None, :] - v[:, :, None] * v[:, None, :])).sum(axis=0)
    _, vectors = np.linalg.eigh(scatter)
    n = vectors[:, 0]
    if n @ (w[:, None] * v).sum(axis=0) < 0:
        n = -n
    c = float(n @ mean)
    t = np.array([-n[1], n[0]])
    residuals = np.hypot(v @ t, 2.0 * (mid @ n - c))
    return n, c, residuals


def estimate_midline(
    landmarks: np.ndarray,
    layout: LandmarkLayout = MEDIAPIPE_478,
    *,
    pairs: np.ndarray | None = None,
    sagittal: np.ndarray | None = None,
    pose: HeadPose | None = None,
) -> Midline:
    """Robust symmetry axis of one face's landmarks (x, y in pixels; a z column is ignored).

    The points are the ``layout``'s rigid midline pairs (subject's left first)
    and sagittal points (for the mesh: the rigid upper face and nose), unless
    ``pairs``/``sagittal`` are given. The point of the result is the foot of the
    perpendicular from the centroid of the points used. ``pose`` (the same
    landmarks' :func:`head_pose`, if already computed) gives the yaw.
    """
    xy = layout.check(landmarks)[:, :2]
    pairs = layout.midline_pairs if pairs is None else pairs
    sagittal = layout.midline_sagittal if sagittal is None else sagittal
    idx = np.concatenate([np.asarray(pairs, dtype=np.int64), np.repeat(np.asarray(sagittal, np.int64)[:, None], 2, 1)])
    left, right = xy[idx[:, 0]], xy[idx[:, 1]]
    size = float(np.ptp(xy[idx.ravel()], axis=0).max()) or 1.0
    weights = np.ones(len(idx))
    for _ in range(_IRLS_ITERATIONS):
        n, c, res = fit_symmetry_axis(left, right, weights)
        scale = max(1.4826 * float(np.median(res)), 1e-9 * size)
        new = np.minimum(1.0, _HUBER_K * scale / np.maximum(res, 1e-300))
        if np.allclose(new, weights, atol=1e-6):
            break
        weights = new
    centre = 0.5 * (left + right).mean(axis=0)
    foot = centre - (n @ centre - c) * n
    rms = math.sqrt(float((weights * res**2).sum() / weights.sum()))
    return Midline(
        point=(float(foot[0]), float(foot[1])),
        direction=(float(-n[1]), float(n[0])),
        residual_px=rms,
        inlier_fraction=float(np.mean(weights >= 1.0)),
        yaw_deg=(pose or head_pose(landmarks, layout)).yaw,
    )


def head_pose(landmarks: np.ndarray, layout: LandmarkLayout = MEDIAPIPE_478) -> HeadPose:
    """Head yaw, pitch, roll in degrees from the 2-D landmarks (scaled-orthographic fit).

    The layout's pose points are fitted by a 2x4 affine camera to their 3-D model
    (for the mesh: all 468 vertices of MediaPipe's canonical face model); the
    nearest scaled rotation gives R = Ry(-yaw) Rx(-pitch) Rz(roll) in camera
    axes (x right, y down, z into the scene; identity = looking straight at the camera).
    Signs: yaw > 0 when the nose turns towards the image right, pitch > 0 when it turns
    up, roll > 0 when the face is rotated clockwise in the image. Perspective is
    ignored (no camera intrinsics needed): good to a few degrees, which is what a
    debug overlay and a "turned too far" flag need. A layout without pose points
    gives :data:`UNKNOWN_POSE` (NaN).
    """
    xy = layout.check(landmarks)[:, :2]
    if layout.pose_points is None or layout.pose_model is None:
        return UNKNOWN_POSE
    model = np.hstack([layout.pose_model, np.ones((len(layout.pose_model), 1))])
    affine, *_ = np.linalg.lstsq(model, xy[layout.pose_points], rcond=None)
    u, _, vt = np.linalg.svd(affine[:3].T, full_matrices=False)
    rows = u @ vt
    rotation = np.vstack([rows, np.cross(rows[0], rows[1])]) @ np.diag([1.0, -1.0, -1.0])
    a = math.atan2(rotation[0, 2], rotation[2, 2])
    b = math.asin(max(-1.0, min(1.0, -rotation[1, 2])))
    g = math.atan2(rotation[1, 0], rotation[1, 1])
    return HeadPose(yaw=-math.degrees(a), pitch=-math.degrees(b), roll=math.degrees(g))
