"""Issue 14's faults, reproduced on the command line: a damaged input, a full disk, two jobs on the same outputs.

Each test runs the installed ``facemirror`` as a user does and checks what is
left on disk. Only the command line, PyAV and the real media of ../shared/media
are used, so each test also runs (and fails) against a facemirror without the fixes.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import pytest

from batch_fixtures import face_clip, make_input_tree
from video_fixtures import damage_packets, shared_media, video_packets

SCRIPT = Path(sys.executable).with_name("facemirror")


def facemirror(*args: str | Path, preexec_fn: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed entry point and wait for it."""
    cmd = [str(SCRIPT), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, preexec_fn=preexec_fn)


def start(*args: str | Path) -> subprocess.Popen[str]:
    """Start the installed entry point without waiting."""
    cmd = [str(SCRIPT), *map(str, args)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def files(folder: Path) -> set[str]:
    """Every file under ``folder``, hidden ones included, relative to it."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("facemirror: error: "), stderr
    return lines[0]


def frame_times(video: Path) -> list[float]:
    """Seconds of every decodable frame of ``video``, from its first."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        pts = sorted(f.pts for f in container.decode(stream))
        tb = Fraction(stream.time_base)
    return [float((p - pts[0]) * tb) for p in pts]


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f, skipinitialspace=True))


# --- 1. a damaged input ---------------------------------------------------------


def test_damaged_input_keeps_every_decodable_frame_and_says_what_was_lost(tmp_path: Path) -> None:
    source = shared_media("single_face.mp4")  # 72 frames, one keyframe
    whole = frame_times(source)
    middle = len(video_packets(source)) // 2  # byte offset: the start of the middle packet (its NAL length)
    ((_, _, lost_pts),) = damage_packets(source, tmp_path / "damaged.mp4", [middle])
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        lost_time = float((lost_pts - stream.start_time) * Fraction(stream.time_base))
    kept = [t for t in whole if abs(t - lost_time) > 1e-9]

    result = facemirror("run", tmp_path / "damaged.mp4", "-o", tmp_path / "out", "--quality", "fast")

    assert result.returncode == 0, result.stderr
    assert len(kept) == 71
    told = f"1 frame could not be decoded (damaged data) at {lost_time:.2f} s; kept 71 frames"
    assert f"damaged input: {told}" in result.stdout
    assert told in result.stderr  # the warning
    out = tmp_path / "out"
    for table in ("damaged_midline.csv", "damaged_left_mirrored.csv", "damaged_right_mirrored.csv"):
        rows = csv_rows(out / table)
        assert [int(r["frame"]) for r in rows] == list(range(1, 72))  # row k is frame k of every output video
        assert [float(r["timestamp"]) for r in rows] == pytest.approx(kept, abs=1e-4)  # the true times: a gap
    for video in ("damaged_left_mirrored.mp4", "damaged_right_mirrored.mp4", "damaged_debug.mp4"):
        assert frame_times(out / video) == pytest.approx(kept, abs=1e-3)
    decoding = json.loads((out / "damaged_midline.csv.json").read_text())["input"]["decoding"]
    assert decoding == {
        "frames_decoded": 71,
        "frames_lost": 1,
        "lost_times_s": [round(lost_time, 6)],
        "truncated_at_s": None,
    }


# --- 2. a full disk -------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 300 KiB tmpfs: room for one mirrored video of single_face.mp4, not for the job's outputs."""
    if sys.platform != "linux" or shutil.which("mount") is None:
        pytest.skip("a size-limited tmpfs needs Linux and mount(8)")
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the injected-write-error test covers this case without it)")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(disk)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_full_disk_fails_in_one_line_and_leaves_nothing_behind(small_disk: Path) -> None:
    (small_disk / "notes.txt").write_text("there before the job\n")
    result = facemirror("-q", "mirror", shared_media("single_face.mp4"), "-o", small_disk / "out")
    assert result.returncode == 1
    assert "No space left on device" in one_error_line(result.stderr)
    assert files(small_disk) == {"notes.txt"}  # no output, no hidden temporary file, no lock file


@pytest.mark.parametrize(("command", "limit"), [("mirror", 200_000), ("run", 200_000), ("aus", 20_000)])
def test_write_error_fails_in_one_line_and_leaves_nothing_behind(tmp_path: Path, command: str, limit: int) -> None:
    resource = pytest.importorskip("resource", reason="the write error is injected with a POSIX file-size limit")

    def limit_file_size() -> None:  # writes past `limit` bytes fail with EFBIG (Python ignores SIGXFSZ)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("there before the job\n")
    result = facemirror("-q", command, shared_media("single_face.mp4"), "-o", out, preexec_fn=limit_file_size)
    assert result.returncode == 1
    assert "File too large" in one_error_line(result.stderr)
    assert files(out) == {"notes.txt"}


# --- 3. two jobs on the same outputs ----------------------------------------------


def test_two_runs_on_the_same_outputs_one_finishes_the_other_is_told_at_once(tmp_path: Path) -> None:
    video = shared_media("face_noface.mov")  # 169 frames: long enough for both to meet
    out = tmp_path / "out"
    jobs = [start("-q", "run", video, "-o", out, "--quality", "fast") for _ in range(2)]
    results = [(job, *job.communicate(timeout=600)) for job in jobs]

    assert sorted(job.returncode for job in jobs) == [0, 1], [r[2] for r in results]
    winner = next(job for job in jobs if job.returncode == 0)
    loser_err = next(err for job, _, err in results if job.returncode == 1)
    line = one_error_line(loser_err)
    assert "face_noface_left_mirrored.mp4" in line and "face_noface_right_mirrored.csv" in line
    assert f"being written by another process (pid {winner.pid} on " in line
    # what is there is complete and from one job
    for name in ("left_mirrored", "right_mirrored", "debug"):
        assert len(frame_times(out / f"face_noface_{name}.mp4")) == 169
    for name in ("midline", "left_mirrored", "right_mirrored"):
        assert len(csv_rows(out / f"face_noface_{name}.csv")) == 169
    assert not [f for f in files(out) if f.startswith(".")]


def test_a_killed_run_leaves_nothing_that_a_later_job_of_another_kind_keeps(tmp_path: Path) -> None:
    """kill -9 cannot clean up; the next job on the same video and folder, whatever it writes, removes what the
    killed one left (it holds the video's lock, so nobody else can be writing those files)."""
    video, out = shared_media("face_noface.mov"), tmp_path / "out"
    job = start("-q", "run", video, "-o", out, "--quality", "fast")
    deadline = time.monotonic() + 120
    while not any(".partial." in f for f in (files(out) if out.exists() else set())):
        assert time.monotonic() < deadline and job.poll() is None, "the run never started writing"
        time.sleep(0.05)
    job.kill()
    job.communicate(timeout=60)
    assert any(".partial." in f for f in files(out))  # what a killed job leaves
    done = facemirror("-q", "measure", video, "-o", out, "--no-flow")
    assert done.returncode == 0, done.stderr
    assert not [f for f in files(out) if f.startswith(".")], files(out)
    assert {f for f in files(out) if not f.endswith(".json")} == {
        f"face_noface_{name}" for name in ("measures.csv", "blinks.csv", "summary.csv")
    }


def test_a_second_batch_on_the_same_folder_fails_at_once(tmp_path: Path) -> None:
    clip = face_clip(tmp_path / "clip.mp4")
    names = [f"v{i}.mp4" for i in range(8)]
    in_dir = make_input_tree(tmp_path / "in", clip, names)
    out = tmp_path / "out"
    args = ("-q", "batch", in_dir, out, "--job", "mirror", "--quality", "fast", "--no-debug", "--workers", "1")
    first = start(*args)
    deadline = time.monotonic() + 300
    while not (out / "batch_summary.csv").exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the first batch has started (it writes the summary before its first video)

    second = facemirror(*args)
    _, first_err = first.communicate(timeout=600)

    assert first.returncode == 0, first_err
    assert second.returncode == 1, second.stderr
    line = one_error_line(second.stderr)
    assert f"{out}: another facemirror batch is writing into this folder (pid {first.pid} on " in line
    with (out / "batch_summary.csv").open(newline="") as f:
        assert {r["file"]: r["status"] for r in csv.DictReader(f)} == dict.fromkeys(names, "done")
    for name in names:
        stem = name.removesuffix(".mp4")
        assert len(frame_times(out / stem / f"{stem}_left_mirrored.mp4")) == 12
    assert not [f for f in files(out) if Path(f).name.startswith(".") and not f.startswith(".facemirror/done/")]
