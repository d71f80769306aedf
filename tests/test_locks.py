"""Locks on a job's outputs: a second holder fails at once and is told who holds them; a dead holder's lock is free."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from facemirror.atomic import AtomicFile, partial_path
from facemirror.errors import OutputBusyError, OutputError
from facemirror.locks import job_lock, locked_outputs
from facemirror.pipeline import JOB_OUTPUTS, output_paths

HOLD = """
import sys, time
from facemirror.locks import job_lock
lock = job_lock(sys.argv[2:], sys.argv[1]).acquire()
print("held", flush=True)
time.sleep(60)
"""


def hold_in_subprocess(outputs: list[Path], stem: str = "v") -> subprocess.Popen[str]:
    """Another process holding the lock on the video ``stem``'s ``outputs`` (it says "held" once it does)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, stem, *map(str, outputs)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_holder_fails_at_once_naming_the_outputs_and_the_holder(tmp_path: Path) -> None:
    outputs = [tmp_path / "v_left_mirrored.mp4", tmp_path / "v_midline.csv"]
    proc = hold_in_subprocess(outputs)
    try:
        start = time.monotonic()
        with pytest.raises(OutputBusyError) as info:
            job_lock(outputs, "v").acquire()
        assert time.monotonic() - start < 1  # it does not wait
    finally:
        proc.kill()
        proc.wait()
    message = str(info.value)
    assert message.startswith(f"{tmp_path}: v_left_mirrored.mp4, v_midline.csv are being written by another process")
    assert f"(pid {proc.pid} on " in message and "\n" not in message
    assert isinstance(info.value, OutputError) and info.value.holder["pid"] == proc.pid


def test_lock_of_a_killed_job_is_taken_over(tmp_path: Path) -> None:
    outputs = [tmp_path / "v.csv"]
    proc = hold_in_subprocess(outputs)
    os.killpg(proc.pid, signal.SIGKILL)  # as the out-of-memory killer or `kill -9` ends a job
    proc.wait()
    lock_file = tmp_path / ".v.facemirror.lock"
    assert lock_file.exists()  # left behind: nobody removed it
    with job_lock(outputs, "v") as lock:
        assert json.loads(lock_file.read_text())["pid"] == os.getpid()
        assert lock.held
    assert not lock_file.exists()


def test_one_process_holding_twice_is_refused_too(tmp_path: Path) -> None:
    # two threads, or two Pipelines in one process, writing the same outputs are kept apart as well
    with job_lock([tmp_path / "v.csv"], "v"), pytest.raises(OutputBusyError):
        job_lock([tmp_path / "v.csv"], "v").acquire()


def test_locked_outputs_clears_what_an_interrupted_job_left_and_commits_or_aborts(tmp_path: Path) -> None:
    out = tmp_path / "v_midline.csv"
    stale = [partial_path(out), partial_path(tmp_path / "v_midline.csv.json")]
    other = partial_path(tmp_path / "w_midline.csv")  # another job's: not touched
    for path in [*stale, other]:
        path.write_text("left by a killed job")
    with locked_outputs([out], "v") as group:
        assert not any(p.exists() for p in stale) and other.exists()
        group.add(AtomicFile(out, "frame\n"))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([other.name, out.name])

    with pytest.raises(RuntimeError), locked_outputs([out], "v") as group:
        group.add(AtomicFile(tmp_path / "v_debug.mp4", "x"))
        raise RuntimeError("the job failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([other.name, out.name])


def test_jobs_on_one_video_exclude_each_other_whatever_outputs_they_write(tmp_path: Path) -> None:
    # `run` and `measure` on one video into one folder both write v_measures.csv, v_blinks.csv, v_summary.*:
    # a lock named after each job's first output let both start, and the second one's stale-partial cleanup
    # could delete the first one's live temporary files
    def job_outputs(job: str, stem: str) -> list[Path]:
        paths = output_paths(tmp_path, stem)
        return [paths[k] for k in JOB_OUTPUTS[job]]

    proc = hold_in_subprocess(job_outputs("mirror", "v"), "v")
    try:
        with pytest.raises(OutputBusyError, match=r"v_measures\.csv.* being written by another process"):
            job_lock(job_outputs("measure", "v"), "v").acquire()
        with pytest.raises(OutputBusyError):  # the AU job's default CSV, v.csv, with its own blinks and summary
            job_lock([tmp_path / "v.csv", tmp_path / "v_blinks.csv"], "v").acquire()
        with job_lock(job_outputs("measure", "w"), "w") as other:  # another video in the same folder is free
            assert other.held
    finally:
        proc.kill()
        proc.wait()
