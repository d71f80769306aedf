"""The profiler: shares and busy time per thread from timings, and the profile of real short runs."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from facemirror.cli import cli
from facemirror.pipeline import Pipeline
from facemirror.profiling import format_profile, profile_from_timings, profile_report
from facemirror.settings import Outputs, Runtime
from facemirror.timing import StageTimes
from facemirror.video import VideoWriter
from facemirror.video.stream import BackgroundIterator, BackgroundWorker

PHOTO = Path(__file__).resolve().parent / "data" / "single_face.jpg"
FRAMES = 16


@pytest.fixture(scope="module")
def face_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short clip of a real face photo drifting sideways (small, so a run takes a few seconds)."""
    photo = cv2.imread(str(PHOTO))
    scale = 480 / photo.shape[1]
    photo = cv2.resize(photo, (480, round(photo.shape[0] * scale) // 2 * 2))
    h, w = photo.shape[:2]
    path = tmp_path_factory.mktemp("clip") / "face.mp4"
    with VideoWriter(path, w, h, 30, encoder="libx264", preset="ultrafast") as writer:
        for i in range(FRAMES):
            shift = np.float32([[1, 0, 2 * i - FRAMES], [0, 1, 0]])
            writer.write(cv2.warpAffine(photo, shift, (w, h), borderMode=cv2.BORDER_REPLICATE))
    return path


def synthetic() -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Timings of a 10 s, 100-frame job: the face stage is busiest, the encoder mostly waits, two AU threads."""
    timings = {
        "landmarks": {"seconds": 6.0, "calls": 100},
        "midline": {"seconds": 1.0, "calls": 100},
        "decode": {"seconds": 2.0, "calls": 100},
        "encode-left": {"seconds": 3.0, "calls": 100},
        "wait:get:encode-left": {"seconds": 6.5, "calls": 101},
        "au_model": {"seconds": 4.0, "calls": 4},
        "total": {"seconds": 10.0, "calls": 1},
        "cpu": {"seconds": 15.0, "calls": 1},
    }
    threads = {
        "MainThread": {"landmarks": 6.0, "midline": 1.0},
        "facemirror-decode": {"decode": 2.0},
        "facemirror-encode-left": {"encode-left": 3.0, "wait:get:encode-left": 6.5},
        "facemirror-aus-left": {"au_model": 2.5},
        "facemirror-aus-right": {"au_model": 1.5},
    }
    return timings, threads


def test_shares_busy_time_and_bound_from_synthetic_timings() -> None:
    timings, threads = synthetic()
    data = profile_from_timings(timings, threads, frames=100, cores=2)
    assert data["fps"] == pytest.approx(10.0)
    stages = data["stages"]
    assert stages["landmarks"]["share"] == pytest.approx(0.6)
    assert stages["landmarks"]["ms_per_call"] == pytest.approx(60.0)
    assert stages["au_model"]["ms_per_call"] == pytest.approx(1000.0)
    assert stages["au_model"]["ms_per_frame"] == pytest.approx(40.0)
    assert stages["wait:get:encode-left"]["wait"] and not stages["encode-left"]["wait"]
    # work stages only: 6 + 1 + 2 + 3 + 4 = 16 s of 10 s wall
    assert data["stage_share_sum"] == pytest.approx(1.6)
    main = data["threads"]["MainThread"]
    assert main["busy_seconds"] == pytest.approx(7.0)
    assert main["stages"] == ["landmarks", "midline"]
    encode = data["threads"]["encode-left"]
    assert (encode["busy_seconds"], encode["wait_seconds"]) == pytest.approx((3.0, 6.5))
    assert list(data["threads"]) == ["MainThread", "encode-left", "aus-left", "decode", "aus-right"]
    assert stages["au_model"]["thread"] == "aus-left+aus-right"
    assert data["threads"]["aus-right"]["busy_seconds"] == pytest.approx(1.5)
    assert data["bounding_thread"] == "MainThread"
    assert data["bounding_busy_share"] == pytest.approx(0.7)
    assert data["cpu_share_of_all_cores"] == pytest.approx(0.75)
    assert not data["cpu_bound"]
    assert data["models"]["landmarks"]["calls"] == 100 and "decode" not in data["models"]
    text = format_profile(data)
    assert "Bounding stage: landmarks, midline on thread MainThread, busy 70%" in text
    assert "160%" in text  # the overlap note


def test_cpu_bound_when_the_process_fills_every_core() -> None:
    timings, threads = synthetic()
    timings["cpu"]["seconds"] = 19.5
    data = profile_from_timings(timings, threads, frames=100, cores=2)
    assert data["cpu_bound"]
    assert "CPU-bound" in format_profile(data)


def test_queue_waits_are_recorded_on_the_waiting_thread() -> None:
    times = StageTimes()
    worker: BackgroundWorker[int] = BackgroundWorker(lambda _: time.sleep(0.02), maxsize=1, name="fm-slow", times=times)
    for i in range(5):
        worker.put(i)  # the queue holds one item: later puts wait for the slow consumer
    worker.finish()

    def produce():  # type: ignore[no-untyped-def]
        yield from times.timed_iter(iter(range(3)), "make")

    assert list(BackgroundIterator(produce, maxsize=1, name="fm-producer", times=times)) == [0, 1, 2]
    t, threads = times.as_dict(), times.threads()
    assert t["wait:put:fm-slow"]["calls"] == 5 and t["wait:put:fm-slow"]["seconds"] > 0.03
    assert "wait:put:fm-slow" in threads[threading.current_thread().name]
    assert set(threads["fm-slow"]) == {"wait:get:fm-slow"}
    assert t["make"]["calls"] == 3 and "make" in threads["fm-producer"]
    assert t["wait:get:fm-producer"]["calls"] == 4  # three items and the end marker
    assert t["cpu"]["seconds"] >= 0


def test_profile_of_a_real_mirror_run(face_clip: Path, tmp_path: Path) -> None:
    pipeline = Pipeline(runtime=Runtime(backend="onnx"), outputs=Outputs(quality="fast"), progress=False, profile=True)
    result = pipeline.mirror(face_clip, tmp_path)
    assert result.outputs["profile"] == tmp_path / "face.profile.txt"
    data = json.loads(result.outputs["profile_json"].read_text())
    stages = data["stages"]
    for stage in ("decode", "landmarks", "midline", "reflection", "debug", "encode-left", "encode-right"):
        assert stages[stage]["calls"] == FRAMES, stage
    assert "encode-debug" in stages and "wait:get:decode" in stages and "wait:put:mirror" in stages
    assert stages["decode"]["thread"] == "decode"
    assert stages["encode-right"]["thread"] == "encode-right"
    assert stages["reflection"]["thread"] == "mirror"
    assert data["frames"] == FRAMES and data["job"] == "mirror"
    assert data["bounding_thread"] in data["threads"]
    busiest = max(t["busy_seconds"] for t in data["threads"].values())
    assert data["threads"][data["bounding_thread"]]["busy_seconds"] == busiest
    text = result.outputs["profile"].read_text()
    assert text == profile_report(result)
    assert "Bounding stage:" in text and "Busy time per thread" in text
    for stage in stages:
        assert stage in text


def test_cli_aus_profile_prints_the_report(face_clip: Path, tmp_path: Path) -> None:
    args = ["aus", str(face_clip), "-o", str(tmp_path), "--au-model", "blendshapes", "--backend", "onnx", "--profile"]
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 0, run.output
    assert "Bounding stage:" in run.output and "blendshapes" in run.output
    data = json.loads((tmp_path / "face.profile.json").read_text())
    assert data["job"] == "extract_aus"
    assert data["stages"]["blendshapes"]["calls"] == FRAMES
    assert data["stages"]["blendshapes"]["thread"] == "MainThread"


def test_cli_batch_profile_writes_a_profile_per_video(face_clip: Path, tmp_path: Path) -> None:
    in_dir = tmp_path / "in"
    in_dir.mkdir()
    shutil.copy(face_clip, in_dir / "p1.mp4")
    args = ["batch", str(in_dir), str(tmp_path / "out"), "--job", "aus", "--workers", "1", "--profile"]
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 0, run.output
    data = json.loads((tmp_path / "out" / "p1" / "p1.profile.json").read_text())
    assert data["job"] == "extract_aus" and data["frames"] == FRAMES
    assert (tmp_path / "out" / "p1" / "p1.profile.txt").read_text().startswith("Profile of p1.mp4")
