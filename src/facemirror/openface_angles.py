"""Gaze and head-pose angles converted into OpenFace 2.0's conventions, so its columns mean what they always meant.

OpenFace 2.0 works in camera axes: x to the image right, y down, z into the
scene; a gaze or face looking straight at the camera points along -z.

- ``gaze_angle_x = atan2(g.x, -g.z)``, ``gaze_angle_y = atan2(g.y, -g.z)`` of
  the mean gaze vector ``g`` (radians): x > 0 looking towards the image right
  (the subject's left), y > 0 looking down.
- ``pose_Rx, pose_Ry, pose_Rz``: Euler angles (radians) with ``R = Rx Ry Rz``
  (right-handed rotations in those axes, R = identity for a frontal face):
  Rx > 0 tilts the nose down, Ry > 0 turns it towards the image left,
  Rz > 0 rolls the face clockwise in the image.
"""

from __future__ import annotations

import math

import numpy as np


def mtl_gaze_vector(yaw: float, pitch: float) -> np.ndarray:
    """OpenFace 3.0's (MTL) gaze angles as a unit 3-D vector, by its own demo's formula.

    ``(-cos(pitch) sin(yaw), -sin(pitch), -cos(pitch) cos(yaw))``: the
    MPIIGaze/ETH-XGaze convention, read here in OpenCV camera axes (x right,
    y down, z forward), the same axes as OpenFace 2.0's gaze vectors.
    """
    return np.array(
        [-math.cos(pitch) * math.sin(yaw), -math.sin(pitch), -math.cos(pitch) * math.cos(yaw)], dtype=np.float64
    )


def openface_gaze_angles(yaw: float, pitch: float) -> tuple[float, float]:
    """OpenFace 2.0's ``(gaze_angle_x, gaze_angle_y)`` for MTL's ``(yaw, pitch)`` in radians.

    OpenFace's own formula applied to MTL's gaze vector: ``gaze_angle_x = -yaw``
    exactly, ``gaze_angle_y ~= -pitch`` (exact when yaw is 0).
    """
    g = mtl_gaze_vector(yaw, pitch)
    return math.atan2(g[0], -g[2]), math.atan2(g[1], -g[2])


def _rx(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _ry(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rz(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def openface_rotation(rx: float, ry: float, rz: float) -> np.ndarray:
    """The 3x3 rotation OpenFace 2.0 means by ``(pose_Rx, pose_Ry, pose_Rz)``: ``Rx @ Ry @ Rz``."""
    return _rx(rx) @ _ry(ry) @ _rz(rz)


def openface_pose(yaw_deg: float, pitch_deg: float, roll_deg: float) -> tuple[float, float, float]:
    """OpenFace 2.0's ``(pose_Rx, pose_Ry, pose_Rz)`` in radians for facemirror's head pose in degrees.

    The input is :func:`facemirror.mirror.midline.head_pose`'s ``HeadPose``
    (yaw > 0 nose to the image right, pitch > 0 nose up, roll > 0 clockwise),
    whose rotation is ``Ry(-yaw) Rx(-pitch) Rz(roll)``; that matrix is
    decomposed into OpenFace's ``Rx Ry Rz`` order, so the signs flip for yaw
    and pitch and the composition order is exact, not approximated.
    """
    r = _ry(-math.radians(yaw_deg)) @ _rx(-math.radians(pitch_deg)) @ _rz(math.radians(roll_deg))
    ry = math.asin(max(-1.0, min(1.0, float(r[0, 2]))))
    rx = math.atan2(-float(r[1, 2]), float(r[2, 2]))
    rz = math.atan2(-float(r[0, 1]), float(r[0, 0]))
    return rx, ry, rz
