"""OpenFace 3.0's own pipeline through facemirror: RetinaFace (real weights) + STAR (random weights in the official
layout) following the face, MTL (random, official layout) on the crops, via ``Pipeline(face="openface3")``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the torch extra is part of the test install")

from batch_fixtures import face_clip
from facemirror import Outputs, Pipeline, Runtime, Tracking
from facemirror.layouts import WFLW_98
from fixtures_mtl import mtl_state, write_mtl_checkpoint
from fixtures_retinaface import retinaface_weights
from fixtures_star import write_star_checkpoint

#: a re-detection every 0.2 s: in the 12-frame (0.4 s) clip, RetinaFace runs on frames 1 and 7 only
REDETECT_S = 0.2


@pytest.fixture(scope="module")
def openface3(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    folder = tmp_path_factory.mktemp("openface3")
    weights = {
        "retinaface": str(retinaface_weights()),
        "star": str(write_star_checkpoint(folder / "Landmark_98.pkl")),
        "mtl": str(write_mtl_checkpoint(folder / "MTL_backbone.pth", mtl_state())),
    }
    return Pipeline(
        "openface3",
        "openface3",
        runtime=Runtime(backend="torch", weights=weights),
        tracking=Tracking(redetect_seconds=REDETECT_S),
        outputs=Outputs(quality="fast"),
        progress=False,
    )


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return face_clip(tmp_path_factory.mktemp("clip") / "face.mp4")


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_openface3_runs_every_job_end_to_end(openface3: Pipeline, clip: Path, tmp_path: Path) -> None:
    tracker = openface3.face_tracker
    assert tracker.name == "openface3" and tracker.layout is WFLW_98
    mirror = openface3.mirror(clip, tmp_path / "mirror")
    aus = openface3.extract_aus(clip, tmp_path / "aus" / "face.csv")
    run = openface3.run(clip, tmp_path / "run")
    for result in (mirror, aus, run):
        assert result.frames == 12 and result.face == "openface3"
        # RetinaFace ran on the first frame and at the scheduled re-detection only; STAR followed in between
        assert result.face_report["detections"] == 2
        assert result.landmark_sources == {"detected": 2, "tracked": 10}
        assert {"retinaface", "star"} <= set(result.engines)
    assert set(run.outputs) == {"left", "right", "debug", "midline_csv", "left_csv", "right_csv"} | {
        "measures_csv",
        "blinks_csv",
        "summary_json",
        "summary_csv",
    }
    # WFLW has pupils but no iris ring: millimetres come from an assumed pupil distance, and the summary says so;
    # random STAR points may turn every frame's head too far to measure, and then there is no scale at all
    measured = any(r["success"] == "1" for r in rows(run.outputs["measures_csv"]))
    assert run.video_summary["scale"]["method"] == ("assumed" if measured else "none")
    # every frame has its midline (random STAR points give a random head pose, so some frames read "turned")
    assert {r["status"] for r in rows(run.outputs["midline_csv"])} <= {"tracked", "turned"}
    assert all(r["success"] == "1" for r in rows(run.outputs["midline_csv"]))
    for csv_path in (aus.outputs["csv"], run.outputs["left_csv"], run.outputs["right_csv"]):
        table = rows(csv_path)
        assert [int(r["frame"]) for r in table] == list(range(1, 13))
        assert all(r["success"] == "1" and r["AU12_p"] != "" and r["ear_left"] != "" for r in table)
        assert all(r["pose_Rx"] != "" for r in table)  # WFLW's points with canonical counterparts give a pose
    assert aus.au_model == run.au_model == "openface3"
    sidecar = json.loads(Path(f"{run.outputs['left']}.json").read_text())
    assert sidecar["parameters"]["face"] == "openface3"
    assert {m["name"] for m in sidecar["models"]} == {"retinaface", "star", "mtl"}


def test_openface3_is_named_in_the_cli_and_backends(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from facemirror.cli import cli

    out = CliRunner().invoke(cli, ["backends"]).output
    assert "openface3" in out and "mediapipe" in out and "blendshapes" in out
    for command in ("run", "mirror", "aus", "batch"):
        assert "--face [mediapipe|openface3]" in CliRunner().invoke(cli, [command, "--help"]).output
