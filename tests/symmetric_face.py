"""Ground truth for the midline: a real face made exactly mirror-symmetric, then animated into a 1080p video.

A real frontal photo is rotated so its (estimated) midline is vertical; the
subject's right half is replaced by the reflection of the left half about a
pixel column, which gives a face whose true midline is known exactly. Each
video frame places that face with a known similarity transform (rotation,
scale, translation), so the true midline of every frame is known too.

Coordinates follow the landmarks' convention (MediaPipe's): pixel (i, j)
covers [i, i+1) x [j, j+1), so the centre of column c is at x = c + 0.5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from facemirror.mirror.midline import estimate_midline
from facemirror.models.face_landmarker import FaceLandmarker
from facemirror.video import VideoWriter

DATA = Path(__file__).resolve().parent / "data"
WIDTH, HEIGHT = 1920, 1080


@dataclass(frozen=True)
class SymmetricFace:
    """A symmetric face image, its axis (column centre ``axis_x``), and the face centre on the axis."""

    image: np.ndarray
    axis_x: float
    centre_y: float
    face_height: float


def make_symmetric_face(landmarker: FaceLandmarker, photo: np.ndarray | None = None) -> SymmetricFace:
    """The face of ``photo`` (default ``tests/data/single_face.jpg``) made exactly symmetric about a vertical line."""
    if photo is None:
        photo = cv2.imread(str(DATA / "single_face.jpg"))
    face = landmarker.process_image(photo)
    assert face is not None, "the test photo must contain a face"
    mid = estimate_midline(face.landmarks)
    # rotate about the midline point so the midline becomes vertical (cv2 uses pixel-index coordinates)
    px, py = mid.point[0] - 0.5, mid.point[1] - 0.5
    rot = cv2.getRotationMatrix2D((px, py), -mid.angle_deg, 1.0)
    upright = cv2.warpAffine(photo, rot, (photo.shape[1], photo.shape[0]), flags=cv2.INTER_LINEAR)
    c = round(px)  # reflect about the centre of column c: column c + k <- column c - k
    half = min(c, upright.shape[1] - 1 - c)
    sym = upright[:, c - half : c + half + 1].copy()
    sym[:, half + 1 :] = sym[:, :half][:, ::-1]
    lm = face.landmarks[:, :2]
    height = float(lm[:, 1].max() - lm[:, 1].min())
    return SymmetricFace(sym, axis_x=half + 0.5, centre_y=py + 0.5, face_height=height)


@dataclass(frozen=True)
class Pose:
    """Where a frame puts the face: rotation (degrees, clockwise in the image), scale, and its centre."""

    angle: float
    scale: float
    cx: float
    cy: float


def render(face: SymmetricFace, pose: Pose) -> tuple[np.ndarray, tuple[float, float], float]:
    """One 1080p frame, plus the true midline through the face centre (point, angle from vertical, degrees)."""
    a = math.radians(pose.angle)
    lin = pose.scale * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    src_centre = np.array([face.axis_x, face.centre_y])  # continuous coordinates
    dst_centre = np.array([pose.cx, pose.cy])
    t = dst_centre - lin @ src_centre
    # the same map in pixel-index coordinates for cv2: q' = lin (q + .5) + t - .5
    t_idx = lin @ np.array([0.5, 0.5]) + t - 0.5
    matrix = np.hstack([lin, t_idx[:, None]])
    frame = cv2.warpAffine(
        face.image,
        matrix,
        (WIDTH, HEIGHT),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(90, 90, 90),
    )
    return frame, (float(dst_centre[0]), float(dst_centre[1])), pose.angle


def moving_poses(face: SymmetricFace, n: int, fps: int = 30) -> list[Pose]:
    """Rotation up to +-20 degrees, translation and scale changes, at a head's pace (one cycle per 2 s)."""
    base = 0.45 * HEIGHT / face.face_height
    poses = []
    for i in range(n):
        ph = 2 * math.pi * i / (2 * fps)
        poses.append(
            Pose(
                angle=20.0 * math.sin(ph),
                scale=base * (1.0 + 0.15 * math.sin(0.5 * ph)),
                cx=960 + 220 * math.sin(0.7 * ph),
                cy=540 + 60 * math.cos(ph),
            )
        )
    return poses


def write_video(path: Path, frames: list[np.ndarray], fps: int = 30) -> Path:
    with VideoWriter(path, WIDTH, HEIGHT, Fraction(fps), quality=16, preset="ultrafast") as writer:
        for image in frames:
            writer.write(image)
    return path


def line_errors(
    truth_point: tuple[float, float], truth_angle: float, point: tuple[float, float], angle: float
) -> tuple[float, float]:
    """(|angle difference| in degrees, distance in px of the true face centre from the estimated line)."""
    d_angle = abs((angle - truth_angle + 90.0) % 180.0 - 90.0)
    a = math.radians(angle)
    direction = np.array([-math.sin(a), math.cos(a)])
    normal = np.array([direction[1], -direction[0]])
    d_px = abs(float(normal @ (np.asarray(truth_point) - np.asarray(point))))
    return d_angle, d_px
