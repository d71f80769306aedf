"""The per-frame midline table (``{stem}_midline.csv``): one row per input frame, nothing dropped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from facemirror.mirror.midline import HeadPose
from facemirror.mirror.smoothing import SmoothedMidline

#: column order of the midline CSV; documented in docs/mirroring.md
COLUMNS = (
    "frame",  # 1-based, as in OpenFace
    "timestamp",  # seconds since the first frame
    "success",  # 1 when the frame was mirrored (tracked or held midline)
    "confidence",  # face-mesh presence score of this frame (empty without a face)
    "status",  # tracked | held | none | turned
    "landmarks_source",  # detected | tracked | none: where this frame's landmarks came from
    "midline_x",  # a point on the smoothed midline (pixels)
    "midline_y",
    "midline_angle_deg",  # from the image vertical, positive = face rolled clockwise
    "midline_x1",  # where the midline meets the frame border (top end)
    "midline_y1",
    "midline_x2",  # (bottom end)
    "midline_y2",
    "raw_midline_x",  # this frame's unsmoothed fit (empty without a face)
    "raw_midline_y",
    "raw_midline_angle_deg",
    "fit_residual_px",
    "pose_yaw_deg",
    "pose_pitch_deg",
    "pose_roll_deg",
    "face_x1",  # the followed face's box (pixels; the AU crop box), empty without a face
    "face_y1",
    "face_x2",
    "face_y2",
)


def midline_row(
    frame_number: int,
    timestamp: float,
    smoothed: SmoothedMidline,
    status: str,
    presence: float | None,
    source: str,
    pose: HeadPose | None,
    height: int,
    width: int,
    box: Sequence[float] | np.ndarray | None = None,
) -> dict[str, Any]:
    """The CSV row of one frame."""
    row: dict[str, Any] = {
        "frame": frame_number,
        "timestamp": timestamp,
        "success": smoothed.midline is not None,
        "confidence": presence,
        "status": status,
        "landmarks_source": source,
    }
    m = smoothed.midline
    if m is not None:
        row.update(midline_x=m.point[0], midline_y=m.point[1], midline_angle_deg=m.angle_deg)
        ends = m.endpoints(height, width)
        if ends is not None:
            (x1, y1), (x2, y2) = ends
            row.update(midline_x1=x1, midline_y1=y1, midline_x2=x2, midline_y2=y2)
    raw = smoothed.raw
    if raw is not None:
        row.update(
            raw_midline_x=raw.point[0],
            raw_midline_y=raw.point[1],
            raw_midline_angle_deg=raw.angle_deg,
            fit_residual_px=raw.residual_px,
        )
    if pose is not None:
        row.update(pose_yaw_deg=pose.yaw, pose_pitch_deg=pose.pitch, pose_roll_deg=pose.roll)
    if box is not None:
        row.update(face_x1=box[0], face_y1=box[1], face_x2=box[2], face_y2=box[3])
    return row
