"""The AU CSV schema: OpenFace 2.0's column order, facemirror's extras, one row per frame, angle conventions."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from facemirror.aus import FrameOutputs, au_columns, blendshape_dict, openface_gaze_angles, openface_pose, row_for_frame
from facemirror.aus.schema import AU_COLUMNS, BLINK_COLUMNS, column_sources
from facemirror.models.base import AUPrediction
from facemirror.models.blendshapes import BLENDSHAPE_COLUMNS, BLENDSHAPE_NAMES, BlendshapeAUs
from facemirror.models.mtl import AU_NAMES, CSV_COLUMNS, EMOTION_NAMES, GAZE_NAMES, MTL
from facemirror.openface_angles import mtl_gaze_vector, openface_rotation

#: columns and cells need no network: models without an engine provide them
MTL_TABLE = MTL(None)  # type: ignore[arg-type]
BLENDSHAPES = BlendshapeAUs.__new__(BlendshapeAUs)

OPENFACE_CSV = Path(__file__).resolve().parents[2] / "shared" / "media" / "OpenFace_Test.csv"


def _openface_header() -> list[str]:
    if not OPENFACE_CSV.is_file():
        pytest.skip(f"real OpenFace 2.0 CSV not found at {OPENFACE_CSV}")
    with open(OPENFACE_CSV, encoding="utf-8") as fh:
        return [c.strip() for c in fh.readline().split(",")]


def test_openface_columns_follow_the_real_files_order() -> None:
    header = _openface_header()
    ours = au_columns(MTL_TABLE, pose=True)
    # every OpenFace column we write appears in the real file, in the same relative order
    shared = [c for c in ours if c in header]
    assert shared == [c for c in header if c in shared]
    # the AU block is exactly OpenFace's: 17 intensities then 18 presences, sorted
    au_block = [c for c in header if c.startswith("AU")]
    assert list(AU_COLUMNS) == au_block
    assert len(au_block) == 35 and au_block[16] == "AU45_r" and "AU28_c" in au_block
    # the real file (an early 2.0 build) lacks face_id and gaze_angle_*; later 2.x builds write them
    assert {c for c in ours[:15] if c not in header} == {"face_id", "gaze_angle_x", "gaze_angle_y"}


def test_columns_depend_on_configuration() -> None:
    base = au_columns(MTL_TABLE, blink=False, pose=False)
    assert base[:5] == ["frame", "face_id", "timestamp", "confidence", "success"]
    assert "pose_Rx" not in base and "ear_left" not in base
    assert base[-len(CSV_COLUMNS) :] == list(CSV_COLUMNS)
    assert [c for c in base if c.endswith("_p") and c.startswith("AU")] == [f"{au}_p" for au in AU_NAMES]

    bs = au_columns(BLENDSHAPES)
    assert "AU01_p" not in bs and "emotion_happy_p" not in bs
    assert bs[-len(BLINK_COLUMNS) - len(BLENDSHAPE_COLUMNS) : -len(BLINK_COLUMNS)] == list(BLENDSHAPE_COLUMNS)
    assert "bs_neutral" in bs and "bs_eyeBlinkLeft" in bs and len(BLENDSHAPE_COLUMNS) == 52
    # OpenFace's AU columns are present whatever the model, so scripts indexing by name find them
    assert set(AU_COLUMNS) <= set(bs)
    assert "pose_Tx" in bs and bs.index("pose_Rz") < bs.index("AU01_r")

    # no model: OpenFace's block, blink and pose only
    assert au_columns(None) == [c for c in bs if not c.startswith("bs_")]


def test_only_the_filled_columns_on_request() -> None:
    produced = au_columns(BLENDSHAPES, openface=False)
    assert produced[:5] == ["frame", "face_id", "timestamp", "confidence", "success"]
    assert "AU01_r" not in produced and "gaze_0_x" not in produced and "pose_Tx" not in produced
    assert {"pose_Rx", "AU45_r", "AU45_c", "ear_left", "bs_neutral"} <= set(produced)
    # MTL fills OpenFace's presence columns of its 8 AUs and the gaze angles: they stay, in OpenFace's order
    mtl = au_columns(MTL_TABLE, openface=False)
    assert [c for c in mtl if c.endswith("_c")] == sorted([f"{au}_c" for au in AU_NAMES] + ["AU45_c"])
    assert mtl.index("gaze_angle_x") < mtl.index("AU01_c") and mtl[-len(BLINK_COLUMNS) :] == list(BLINK_COLUMNS)
    # every column the summary says is filled is in the produced-only file
    for columns in column_sources(MTL_TABLE).values():
        assert set(columns) <= set(mtl)


def test_no_face_row_is_empty_but_identified() -> None:
    row = row_for_frame(7, 0.2, None)
    assert row == {"frame": 7, "face_id": 0, "timestamp": 0.2, "confidence": 0.0, "success": 0}


def test_row_from_an_mtl_prediction() -> None:
    au = np.array([[0.1, 0.5, 0.49, 0.9, 0.0, 1.0, 0.3, 0.7]], np.float32)
    logits = np.arange(8, dtype=np.float32)[None]
    probs = np.exp(logits) / np.exp(logits).sum()
    gaze = np.array([[0.2, -0.1]], np.float32)
    pred = AUPrediction(
        values={"au": au, "emotion": logits, "emotion_prob": probs, "gaze": gaze},
        labels={"au": AU_NAMES, "emotion": EMOTION_NAMES, "emotion_prob": EMOTION_NAMES, "gaze": GAZE_NAMES},
    )
    outputs = FrameOutputs(0.97, head_pose=(0.1, -0.2, 0.05), ear=(0.3, 0.25), cells=MTL_TABLE.cells(pred, 0))
    row = row_for_frame(3, 0.1, outputs)
    assert row["success"] == 1 and row["confidence"] == pytest.approx(0.97)
    assert [row[f"{a}_p"] for a in AU_NAMES] == pytest.approx(au[0].tolist())
    assert [row[f"{a}_c"] for a in AU_NAMES] == [0, 1, 0, 1, 0, 1, 0, 1]
    assert all(row.get(f"{a}_r") is None for a in AU_NAMES)  # occurrence scores are never written as intensities
    assert row["emotion_contempt_logit"] == pytest.approx(7.0)
    assert row["emotion_contempt_p"] == pytest.approx(float(probs[0, 7]))
    assert (row["gaze_yaw"], row["gaze_pitch"]) == pytest.approx((0.2, -0.1))
    assert row["gaze_angle_x"] == pytest.approx(-0.2, abs=1e-6)
    assert "gaze_0_x" not in row and "pose_Tx" not in row  # per-eye gaze and translation are not produced
    assert (row["pose_Rx"], row["pose_Ry"], row["pose_Rz"]) == pytest.approx((0.1, -0.2, 0.05))
    assert (row["ear_left"], row["ear_right"]) == pytest.approx((0.3, 0.25))
    assert set(row) <= set(au_columns(MTL_TABLE))


def test_blendshape_row() -> None:
    scores = np.linspace(0, 1, 52)
    prediction = AUPrediction({"blendshapes": scores[None]}, {"blendshapes": BLENDSHAPE_COLUMNS})
    row = row_for_frame(1, 0.0, FrameOutputs(confidence=0.9, cells=BLENDSHAPES.cells(prediction, 0)))
    assert row["bs_neutral"] == 0.0 and row["bs_noseSneerRight"] == pytest.approx(1.0)
    assert row[f"bs_{BLENDSHAPE_NAMES[9]}"] == pytest.approx(scores[9])
    assert blendshape_dict(scores)[BLENDSHAPE_NAMES[9]] == pytest.approx(scores[9])
    with pytest.raises(ValueError):
        blendshape_dict(scores[:10])


def test_gaze_angles_follow_openfaces_formula() -> None:
    for yaw, pitch in [(0.0, 0.0), (0.3, 0.0), (-0.2, 0.25), (0.4, -0.3)]:
        g = mtl_gaze_vector(yaw, pitch)
        assert np.linalg.norm(g) == pytest.approx(1.0)
        x, y = openface_gaze_angles(yaw, pitch)
        assert x == pytest.approx(math.atan2(g[0], -g[2]))
        assert y == pytest.approx(math.atan2(g[1], -g[2]))
        assert x == pytest.approx(-yaw)
    # looking up (MTL pitch > 0) is a negative gaze_angle_y in OpenFace (y points down)
    assert openface_gaze_angles(0.0, 0.2)[1] == pytest.approx(-0.2)


def test_head_pose_converts_to_openface_euler_angles() -> None:
    nose = np.array([0.0, 0.0, -1.0])  # points at the camera in a frontal face
    rx, ry, rz = openface_pose(20.0, 0.0, 0.0)  # facemirror yaw > 0: nose towards the image right
    assert (rx, rz) == pytest.approx((0.0, 0.0)) and ry == pytest.approx(-math.radians(20))
    assert (openface_rotation(rx, ry, rz) @ nose)[0] > 0
    rx, ry, rz = openface_pose(0.0, 15.0, 0.0)  # pitch > 0: nose up (negative image y)
    assert rx == pytest.approx(-math.radians(15)) and (openface_rotation(rx, ry, rz) @ nose)[1] < 0
    assert openface_pose(0.0, 0.0, 10.0)[2] == pytest.approx(math.radians(10))
    # combined angles: the Rx Ry Rz decomposition reproduces facemirror's Ry Rx Rz rotation exactly
    yaw, pitch, roll = 25.0, -12.0, 8.0
    expected = openface_rotation(0, -math.radians(yaw), 0) @ openface_rotation(-math.radians(pitch), 0, 0)
    expected = expected @ openface_rotation(0, 0, math.radians(roll))
    assert np.allclose(openface_rotation(*openface_pose(yaw, pitch, roll)), expected, atol=1e-12)
