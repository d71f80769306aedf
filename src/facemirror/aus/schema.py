"""The AU CSV's columns (OpenFace 2.0's layout plus facemirror's own) and one row per frame.

OpenFace 2.0's identification, gaze and AU columns are always present, in its
order, so scripts that index by name find them; a value no model produces is
an empty cell, never invented. Columns OpenFace writes only when asked (pose)
are added when facemirror produces them; its 68-point landmark, eye-landmark
and shape-parameter columns are never written (no exact mapping from
MediaPipe's 478 or WFLW's 98 points exists). facemirror's extra columns follow
the AU block. docs/outputs.md describes every column.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from facemirror.aus.angles import openface_gaze_angles
from facemirror.models.base import AUPrediction
from facemirror.models.blendshapes import BLENDSHAPE_NAMES
from facemirror.models.mtl import AU_NAMES, EMOTION_NAMES

IDENTITY_COLUMNS = ("frame", "face_id", "timestamp", "confidence", "success")
GAZE_COLUMNS = (
    *(f"gaze_{eye}_{axis}" for eye in (0, 1) for axis in "xyz"),
    "gaze_angle_x",
    "gaze_angle_y",
)
POSE_COLUMNS = ("pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz")
#: OpenFace 2.0's AUs with an intensity (``_r``) and with a presence (``_c``) column, sorted as it writes them.
INTENSITY_AUS = (
    "AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU12",
    "AU14", "AU15", "AU17", "AU20", "AU23", "AU25", "AU26", "AU45",
)  # fmt: skip
PRESENCE_AUS = tuple(sorted((*INTENSITY_AUS, "AU28")))
AU_COLUMNS = (*(f"{au}_r" for au in INTENSITY_AUS), *(f"{au}_c" for au in PRESENCE_AUS))

#: MTL's AU scores are occurrence scores; ``AUxx_c`` is this threshold on them (the one MTL was trained with).
PRESENCE_THRESHOLD = 0.5
MTL_COLUMNS = (
    *(f"{au}_p" for au in AU_NAMES),
    *(f"emotion_{name.lower()}_logit" for name in EMOTION_NAMES),
    *(f"emotion_{name.lower()}_p" for name in EMOTION_NAMES),
    "gaze_yaw",
    "gaze_pitch",
)
BLENDSHAPE_COLUMNS = tuple(f"bs_{name.lstrip('_')}" for name in BLENDSHAPE_NAMES)
#: Blink extras; ``AU45_r``/``AU45_c`` themselves live in the OpenFace block.
BLINK_COLUMNS = ("AU45_left_r", "AU45_right_r", "ear_left", "ear_right")

AU_MODELS = ("openface3", "blendshapes")


def columns_for(au_model: str | Sequence[str] = "openface3", *, blink: bool = True, pose: bool = True) -> list[str]:
    """The CSV columns, in order, for what this configuration produces.

    ``au_model`` is ``"openface3"`` (MTL: AU probabilities, emotion, gaze),
    ``"blendshapes"`` (MediaPipe's 52 scores) or both; ``blink`` adds the
    per-eye AU45 and eye-aspect-ratio columns; ``pose`` adds OpenFace's pose block.
    """
    models = (au_model,) if isinstance(au_model, str) else tuple(au_model)
    unknown = [m for m in models if m not in AU_MODELS]
    if unknown:
        raise ValueError(f"unknown AU model {unknown[0]!r}; choose from {', '.join(AU_MODELS)}")
    columns = [*IDENTITY_COLUMNS, *GAZE_COLUMNS]
    if pose:
        columns += POSE_COLUMNS
    columns += AU_COLUMNS
    if "openface3" in models:
        columns += MTL_COLUMNS
    if "blendshapes" in models:
        columns += BLENDSHAPE_COLUMNS
    if blink:
        columns += BLINK_COLUMNS
    return columns


@dataclass
class FrameOutputs:
    """What the models gave for one face in one frame; None where a model did not run.

    Sides are the subject's. ``head_pose`` is OpenFace's ``(Rx, Ry, Rz)`` in
    radians (see :func:`facemirror.aus.angles.openface_pose`); ``gaze`` is
    MTL's ``(yaw, pitch)`` in radians; ``ear`` is ``(left, right)`` eye
    aspect ratios (:mod:`facemirror.aus.blink`).
    """

    confidence: float
    au_probabilities: Mapping[str, float] | None = None
    emotion_logits: Mapping[str, float] | None = None
    emotion_probabilities: Mapping[str, float] | None = None
    gaze: tuple[float, float] | None = None
    head_pose: tuple[float, float, float] | None = None
    blendshapes: Mapping[str, float] | None = None
    ear: tuple[float, float] | None = None

    @classmethod
    def from_prediction(cls, prediction: AUPrediction, index: int, confidence: float, **fields: Any) -> FrameOutputs:
        """Row ``index`` of an MTL :class:`AUPrediction` (keys ``au``, ``emotion``, ``emotion_prob``, ``gaze``)."""

        def named(key: str) -> dict[str, float] | None:
            if key not in prediction.values:
                return None
            return dict(zip(prediction.labels[key], map(float, prediction.values[key][index])))

        gaze = named("gaze")
        return cls(
            confidence=confidence,
            au_probabilities=named("au"),
            emotion_logits=named("emotion"),
            emotion_probabilities=named("emotion_prob"),
            gaze=(gaze["yaw"], gaze["pitch"]) if gaze else None,
            **fields,
        )


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
    row.update(confidence=float(outputs.confidence), success=1)
    if outputs.au_probabilities is not None:
        for au, p in outputs.au_probabilities.items():
            row[f"{au}_p"] = float(p)
            row[f"{au}_c"] = None if math.isnan(p) else int(p >= PRESENCE_THRESHOLD)
    for label, values in (("logit", outputs.emotion_logits), ("p", outputs.emotion_probabilities)):
        for name, value in (values or {}).items():
            row[f"emotion_{name.lower()}_{label}"] = float(value)
    if outputs.gaze is not None:
        yaw, pitch = map(float, outputs.gaze)
        row["gaze_yaw"], row["gaze_pitch"] = yaw, pitch
        row["gaze_angle_x"], row["gaze_angle_y"] = openface_gaze_angles(yaw, pitch)
    if outputs.head_pose is not None:
        row["pose_Rx"], row["pose_Ry"], row["pose_Rz"] = map(float, outputs.head_pose)
    for name, value in (outputs.blendshapes or {}).items():
        row[f"bs_{name.lstrip('_')}"] = float(value)
    if outputs.ear is not None:
        row["ear_left"], row["ear_right"] = map(float, outputs.ear)
    return row


def blendshape_dict(scores: np.ndarray) -> dict[str, float]:
    """MediaPipe's 52 blendshape scores (in its published order) as name -> score."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(scores) != len(BLENDSHAPE_NAMES):
        raise ValueError(f"expected {len(BLENDSHAPE_NAMES)} blendshape scores, got {len(scores)}")
    return dict(zip(BLENDSHAPE_NAMES, scores.tolist()))
