"""Batches and issue 14's faults: a video whose outputs another process holds, a damaged video in the summary."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from batch_fixtures import CLIP_FRAMES, FAST, face_clip, make_input_tree
from facemirror.atomic import partial_path
from facemirror.batch import run_many
from facemirror.locks import job_lock
from facemirror.pipeline import output_paths
from facemirror.video import VideoReader
from video_fixtures import damage_packets, video_packets


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return face_clip(tmp_path_factory.mktemp("clip") / "face.mp4")


def summary_rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "batch_summary.csv").open(newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f)}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_worker_finding_a_videos_outputs_locked_fails_that_video_and_writes_nothing(
    tmp_path: Path, clip: Path, workers: int
) -> None:
    in_dir = make_input_tree(tmp_path / "in", clip, ["a.mp4", "b.mp4"])
    out = tmp_path / "out"
    paths = output_paths(out / "b", "b")
    (out / "b").mkdir(parents=True)
    paths["left"].write_bytes(b"another job's video, being written")
    with job_lock([paths[k] for k in ("left", "right", "midline_csv")], "b"):  # as a job in another process holds it
        result = run_many(FAST, in_dir, out, job="mirror", workers=workers, progress=False)
    assert [(o.file, o.status) for o in result.outcomes] == [("a.mp4", "done"), ("b.mp4", "failed")]
    assert "b_left_mirrored.mp4, b_right_mirrored.mp4, b_midline.csv are being written by another process" in (
        result.failed[0].error
    )
    assert paths["left"].read_bytes() == b"another job's video, being written"  # never written over
    assert [p.name for p in (out / "b").iterdir()] == [paths["left"].name]  # and no temporary file of the job


def test_summary_says_what_a_damaged_video_lost_and_keeps_it_when_skipped(tmp_path: Path, clip: Path) -> None:
    in_dir = make_input_tree(tmp_path / "in", clip, ["good.mp4"])
    damage_packets(clip, in_dir / "damaged.mp4", [len(video_packets(clip)) // 2])
    with VideoReader(in_dir / "damaged.mp4") as reader:
        frames = sum(1 for _ in reader)
    report = reader.decode_report
    assert report is not None and report.lost >= 1 and frames + report.lost == CLIP_FRAMES
    out = tmp_path / "out"
    result = run_many(FAST, in_dir, out, job="mirror", workers=1, progress=False)
    assert result.ok
    rows = summary_rows(out)
    assert (rows["good.mp4"]["frames_lost"], rows["good.mp4"]["lost_times"]) == ("0", "")
    lost = {k: rows["damaged.mp4"][k] for k in ("frames", "frames_lost", "lost_times", "truncated_at")}
    assert lost == {
        "frames": str(frames),
        "frames_lost": str(report.lost),
        "lost_times": ";".join(f"{t:.3f}" for t in report.lost_times),
        "truncated_at": "",
    }
    assert f"damaged input: damaged.mp4: {report.describe()}" in result.summary()

    again = run_many(FAST, in_dir, out, job="mirror", workers=1, progress=False)
    assert [o.status for o in again.outcomes] == ["skipped", "skipped"]
    skipped = summary_rows(out)["damaged.mp4"]
    assert {k: skipped[k] for k in lost} == lost  # the done-marker kept it


@pytest.mark.parametrize("target", ["gone.mp4", "/nonexistent/gone.mp4"])
def test_a_dangling_symlink_among_the_inputs_fails_only_that_video(tmp_path: Path, clip: Path, target: str) -> None:
    # os.walk lists a dangling symlink as a file: fingerprinting it raised FileNotFoundError (and one pointing outside
    # IN_DIR a ValueError in plan) before any video ran, so the whole batch stopped with a traceback and no summary
    in_dir = make_input_tree(tmp_path / "in", clip, ["a.mp4"])
    (in_dir / "b.mp4").symlink_to(target)
    out = tmp_path / "out"
    result = run_many(FAST, in_dir, out, job="mirror", workers=1, progress=False)
    assert [(o.file, o.status) for o in result.outcomes] == [("a.mp4", "done"), ("b.mp4", "failed")]
    rows = summary_rows(out)
    assert rows["b.mp4"]["error"] == f"{in_dir.resolve() / 'b.mp4'}: cannot read the input (No such file or directory)"
    assert (out / "a" / "a_left_mirrored.mp4").is_file() and not (out / "b").exists()


def test_a_symlink_to_a_video_outside_the_input_folder_runs_under_its_own_name(tmp_path: Path, clip: Path) -> None:
    in_dir = tmp_path / "in"
    in_dir.mkdir()
    (in_dir / "link.mp4").symlink_to(clip)  # the clip lives in another folder
    result = run_many(FAST, in_dir, tmp_path / "out", job="mirror", workers=1, progress=False)
    assert [(o.file, o.status) for o in result.outcomes] == [("link.mp4", "done")]
    assert (tmp_path / "out" / "link" / "link_left_mirrored.mp4").is_file()


def test_a_batch_removes_the_temporary_files_a_killed_batch_left(tmp_path: Path, clip: Path) -> None:
    # after kill -9 the summary's and the done-markers' temporary files stayed forever: only a job's own outputs
    # were cleaned (when the next job took their lock)
    in_dir = make_input_tree(tmp_path / "in", clip, ["a.mp4"])
    out = tmp_path / "out"
    markers = out / ".facemirror" / "done"
    stale = [
        partial_path(out / "batch_summary.csv"),
        partial_path(markers / "a.mp4.json"),
        partial_path(markers / "sub" / "c.mp4.json"),
    ]
    kept = [out / ".notes.txt", markers / "sub" / ".keep"]
    for path in stale + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("left by a killed batch")
    result = run_many(FAST, in_dir, out, job="mirror", workers=1, progress=False)
    assert [(o.file, o.status) for o in result.outcomes] == [("a.mp4", "done")]
    assert not [p for p in stale if p.exists()] and all(p.exists() for p in kept)
