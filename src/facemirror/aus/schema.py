"""The AU CSV's columns (OpenFace 2.0's layout, then the AU model's own) and one row per frame.

OpenFace 2.0's identification, gaze and AU columns are present by default, in
its order, so scripts that index by name find them; a value no model produces
is an empty cell, never invented (``openface=False`` writes only the columns
something fills). Columns OpenFace writes only when asked (pose) are added
when facemirror produces them; its 68-point landmark, eye-landmark and
shape-parameter columns are never written (no exact mapping from MediaPipe's
478 or WFLW's 98 points exists). The AU model's own columns follow the
OpenFace block, named as the model names them (``AUModel.columns``), then
the blink extras. docs/outputs.md describes every column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from facemirror.models.base import AUModel
from facemirror.models.blendshapes import BLENDSHAPE_NAMES

IDENTITY_COLUMNS = ("frame", "face_id", "timestamp", "confidence", "success")
GAZE_COLUMNS = (
    *(f"gaze_{eye}_{axis}" for eye in (0, 1) for axis in "xyz"),
    "gaze_angle_x",
    "gaze_angle_y",
)
POSE_COLUMNS = ("pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz")
#: the pose columns facemirror fills (rotation from the landmarks; no translation without camera intrinsics)
POSE_FILLED = ("pose_Rx", "pose_Ry", "pose_Rz")
#: OpenFace 2.0's AUs with an intensity (``_r``) and with a presence (``_c``) column, sorted as it writes them.
INTENSITY_AUS = (
    "AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU12",
    "AU14", "AU15", "AU17", "AU20", "AU23", "AU25", "AU26", "AU45",
)  # fmt: skip
PRESENCE_AUS = tuple(sorted((*INTENSITY_AUS, "AU28")))
AU_COLUMNS = (*(f"{au}_r" for au in INTENSITY_AUS), *(f"{au}_c" for au in PRESENCE_AUS))
#: Blink extras; ``AU45_r``/``AU45_c`` themselves live in the OpenFace block.
BLINK_COLUMNS = ("AU45_left_r", "AU45_right_r", "ear_left", "ear_right")
#: the columns blink fills (eye aspect ratios of the landmarks)
BLINK_FILLED = ("AU45_r", "AU45_c", *BLINK_COLUMNS)


def au_columns(
    model: AUModel | None = None, *, blink: bool = True, pose: bool = True, openface: bool = True
) -> list[str]:
    """The CSV columns, in order: OpenFace 2.0's block, the model's own columns, the blink extras.

    ``blink`` adds the per-eye AU45 and eye-aspect-ratio columns; ``pose``
    OpenFace's pose block; ``openface=False`` keeps of OpenFace's block only
    what something fills (identification, the model's, blink's and pose's columns).
    """
    model_columns = model.columns() if model is not None else []
    block = [*IDENTITY_COLUMNS, *GAZE_COLUMNS, *(POSE_COLUMNS if pose else ()), *AU_COLUMNS]
    if not openface:
        filled = {*IDENTITY_COLUMNS, *model_columns, *(BLINK_FILLED if blink else ()), *(POSE_FILLED if pose else ())}
        block = [c for c in block if c in filled]
    columns = block + [c for c in model_columns if c not in block]
    if blink:
        columns += BLINK_COLUMNS
    return columns


def column_sources(model: AUModel | None, *, blink: bool = True, pose: bool = True) -> dict[str, list[str]]:
    """Which part fills which columns: ``{what: [columns]}`` (for the run summary and sidecars)."""
    out: dict[str, list[str]] = {}
    if model is not None:
        out[f"AU model {model.name}"] = model.columns()
    if blink:
        out["blink (eye landmarks)"] = list(BLINK_FILLED)
    if pose:
        out["head pose (landmarks)"] = list(POSE_FILLED)
    return out


@dataclass
class FrameOutputs:
    """What was measured for one face in one frame; None where nothing ran.

    Sides are the subject's. ``head_pose`` is OpenFace's ``(Rx, Ry, Rz)`` in
    radians (see :func:`facemirror.openface_angles.openface_pose`); ``ear`` is
    ``(left, right)`` eye aspect ratios (:mod:`facemirror.aus.blink`);
    ``cells`` the AU model's columns (``AUModel.cells``).
    """

    confidence: float
    head_pose: tuple[float, float, float] | None = None
    ear: tuple[float, float] | None = None
    cells: dict[str, Any] = field(default_factory=dict)


def row_for_frame(frame: int, timestamp: float, outputs: FrameOutputs | None, face_id: int = 0) -> dict[str, Any]:
    """One CSV row (column -> value) for frame number ``frame`` (from 1) at ``timestamp`` seconds.

    ``outputs`` None means no face: success 0, confidence 0, everything else
    empty. AU45 cells are filled by the writer from ``ear_left``/``ear_right``
    (its baseline may need the whole video).
    """
    row: dict[str, Any] = {"frame": int(frame), "face_id": int(face_id), "timestamp": float(timestamp)}
    if outputs is None:
        row.update(confidence=0.0, success=0)
        return row
    row.update(outputs.cells)
    row.update(confidence=float(outputs.confidence), success=1)
    if outputs.head_pose is not None:
        row["pose_Rx"], row["pose_Ry"], row["pose_Rz"] = map(float, outputs.head_pose)
    if outputs.ear is not None:
        row["ear_left"], row["ear_right"] = map(float, outputs.ear)
    return row


def blendshape_dict(scores: np.ndarray) -> Mapping[str, float]:
    """MediaPipe's 52 blendshape scores (in its published order) as name -> score."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(scores) != len(BLENDSHAPE_NAMES):
        raise ValueError(f"expected {len(BLENDSHAPE_NAMES)} blendshape scores, got {len(scores)}")
    return dict(zip(BLENDSHAPE_NAMES, scores.tolist()))
