"""facemirror batch / run_many: discovery, summary, resume, failure isolation, crash safety, process pool."""

from __future__ import annotations

import csv
import dataclasses
import errno
import multiprocessing
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from batch_fixtures import CLIP_FRAMES, FAST, face_clip, make_input_tree
from custom_parts import Brightness, ScaledBrightness
from facemirror import Pipeline
from facemirror.batch import discover, run_many, runner
from facemirror.batch.discover import plan
from facemirror.batch.runner import size_workers
from facemirror.batch.state import MARKER_DIR, find_done, fingerprint, write_done
from facemirror.batch.summary import COLUMNS, DONE, VideoOutcome
from facemirror.cli import main
from facemirror.errors import BatchError, OutputError
from facemirror.face import FaceTracker, TrackedFace
from facemirror.layouts import MEDIAPIPE_478
from facemirror.settings import Outputs, PipelineConfig, Runtime

MIRROR_FILES = ("{}_left_mirrored.mp4", "{}_right_mirrored.mp4", "{}_midline.csv")


def read_summary(out: Path) -> dict[str, dict[str, str]]:
    with (out / "batch_summary.csv").open(newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        return {row["file"]: row for row in reader}


def all_files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def cli(*args: str | Path) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    return int(exit_info.value.code or 0)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return face_clip(tmp_path_factory.mktemp("clip") / "face.mp4")


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory, clip: Path) -> tuple[Path, Path, int]:
    """One CLI batch over a tree of 2 real videos and 2 corrupt ones: (in_dir, out_dir, exit code)."""
    base = tmp_path_factory.mktemp("batch")
    in_dir = make_input_tree(base / "in", clip, ["a.mp4", "sub/b.MOV"], ["bad.mp4", "sub/trunc.mp4"])
    out_dir = base / "out"
    code = cli("-q", "batch", in_dir, out_dir, "-r", "--job", "mirror", "--quality", "fast", "--no-debug")
    return in_dir, out_dir, code


# --- discovery and planning (no video work) -----------------------------------


def test_discover_extensions_case_recursion_and_hidden_files(tmp_path: Path) -> None:
    names = ["a.MP4", "b.mov", "c.txt", "d.Mkv", ".partial.mp4", "._e.mp4", "sub/f.m4v", "sub/deep/g.avi", ".x/h.mp4"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    rel = lambda paths: [p.relative_to(tmp_path).as_posix() for p in paths]  # noqa: E731
    assert rel(discover(tmp_path)) == ["a.MP4", "b.mov", "d.Mkv"]
    assert rel(discover(tmp_path, recursive=True)) == ["a.MP4", "b.mov", "d.Mkv", "sub/deep/g.avi", "sub/f.m4v"]
    assert rel(discover(tmp_path, ["MKV", ".avi"], recursive=True)) == ["d.Mkv", "sub/deep/g.avi"]
    assert rel(discover(tmp_path, recursive=True, exclude=tmp_path / "sub")) == ["a.MP4", "b.mov", "d.Mkv"]


def test_plan_mirrors_the_tree_and_separates_videos_sharing_a_stem(tmp_path: Path) -> None:
    videos = [tmp_path / "a" / "b.mp4", tmp_path / "a" / "b.MOV", tmp_path / "c.mp4"]
    tasks = plan(tmp_path, videos, tmp_path / "out")
    assert [t.rel for t in tasks] == ["a/b.mp4", "a/b.MOV", "c.mp4"]
    assert [t.out_folder for t in tasks] == [tmp_path / "out/a/b_mp4", tmp_path / "out/a/b_MOV", tmp_path / "out/c"]


def test_workers_and_threads_fit_the_cores() -> None:
    assert size_workers(None, None, 16) == (4, 4)
    assert size_workers(None, 2, 16) == (8, 2)
    assert size_workers(3, None, 16) == (3, 5)
    assert size_workers(None, None, 2) == (1, 2)
    with pytest.raises(ValueError, match="workers"):
        size_workers(0, None, 2)


def test_a_folder_without_videos_or_as_its_own_output_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(BatchError, match="no videos"):
        run_many(FAST, tmp_path, tmp_path / "out", job="mirror")
    assert cli("batch", tmp_path, tmp_path / "out") == 1
    assert "no videos" in capsys.readouterr().err
    with pytest.raises(BatchError, match="must not be the input folder"):
        run_many(FAST, tmp_path, tmp_path, job="mirror")


def test_done_marker_matches_only_the_same_input_job_options_and_outputs(tmp_path: Path) -> None:
    video = tmp_path / "in" / "v.mp4"
    video.parent.mkdir()
    video.write_bytes(b"0" * 100)
    (task,) = plan(tmp_path / "in", [video], tmp_path / "out")
    task.out_folder.mkdir(parents=True)
    output = task.out_folder / "v_left_mirrored.mp4"
    output.write_bytes(b"1" * 10)
    config = dataclasses.replace(FAST, runtime=Runtime(threads=2))
    stamp = fingerprint(video)
    outcome = VideoOutcome(task.rel, DONE, frames=5, seconds=1.0, outputs={"left": str(output)})
    marker = write_done(tmp_path / "out", task, "mirror", config, stamp, outcome)
    assert marker == tmp_path / "out" / MARKER_DIR / "v.mp4.json"

    def found(job: str = "mirror", conf: PipelineConfig = config, checksum: bool = False) -> bool:
        return find_done(tmp_path / "out", task, job, conf, fingerprint(video, checksum)) is not None

    done = find_done(tmp_path / "out", task, "mirror", config, stamp)
    assert done is not None and done.status == "skipped" and done.frames == 5 and done.outputs == outcome.outputs
    # speed-only settings do not redo work
    assert found(conf=dataclasses.replace(FAST, runtime=Runtime(threads=8, au_batch_size=2)))
    assert not found(job="run")
    assert not found(conf=dataclasses.replace(FAST, outputs=Outputs(quality="archive", debug_video=False)))
    assert not found(conf=dataclasses.replace(FAST, face="openface3"))
    assert not found(checksum=True)  # recorded by size and mtime, asked by sha256
    output.write_bytes(b"1" * 11)
    assert not found()  # an output changed
    output.write_bytes(b"1" * 10)
    assert found()
    os.utime(video, ns=(stamp["mtime_ns"], stamp["mtime_ns"] + 10**9))
    assert not found()  # the input was touched


def test_a_done_marker_that_cannot_be_written_is_one_output_error_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the marker was written through atomic_output, which let the OSError out raw: a full disk there killed the
    # batch with "OSError: [Errno 28]" instead of facemirror's one-line error
    video = tmp_path / "in" / "v.mp4"
    video.parent.mkdir()
    video.write_bytes(b"0" * 100)
    (task,) = plan(tmp_path / "in", [video], tmp_path / "out")
    outcome = VideoOutcome(task.rel, DONE, frames=5, seconds=1.0)
    write_text = Path.write_text

    def full_disk(path: Path, data: str, *args: Any, **kwargs: Any) -> int:
        write_text(path, data[: len(data) // 2], *args, **kwargs)  # as far as the disk had room
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_text", full_disk)
    marker = tmp_path / "out" / MARKER_DIR / "v.mp4.json"
    with pytest.raises(OutputError, match=rf"^{re.escape(str(marker))}: .*No space left on device$"):
        write_done(tmp_path / "out", task, "mirror", FAST, fingerprint(video), outcome)
    assert list(marker.parent.iterdir()) == []


# --- real videos ------------------------------------------------------------


def test_failures_are_isolated_and_make_the_exit_code_nonzero(first_run: tuple[Path, Path, int]) -> None:
    _, out, code = first_run
    assert code == 1
    rows = read_summary(out)
    assert {f: r["status"] for f, r in rows.items()} == {
        "a.mp4": "done",
        "bad.mp4": "failed",
        "sub/b.MOV": "done",
        "sub/trunc.mp4": "failed",
    }
    assert list(rows) == ["a.mp4", "bad.mp4", "sub/b.MOV", "sub/trunc.mp4"]  # input order
    for name in ("bad.mp4", "sub/trunc.mp4"):
        assert name in rows[name]["error"] and "not a readable video" in rows[name]["error"]
        assert rows[name]["frames"] == ""


def test_summary_reports_frames_seconds_and_fps(first_run: tuple[Path, Path, int]) -> None:
    rows = read_summary(first_run[1])
    for name in ("a.mp4", "sub/b.MOV"):
        row = rows[name]
        assert int(row["frames"]) == CLIP_FRAMES
        assert float(row["seconds"]) > 0
        assert float(row["fps"]) == pytest.approx(CLIP_FRAMES / float(row["seconds"]), rel=0.01)
        assert row["error"] == ""


def test_outputs_mirror_the_input_tree_with_done_markers_only_for_finished_videos(
    first_run: tuple[Path, Path, int],
) -> None:
    _, out, _ = first_run
    files = all_files(out)
    expected = {f"a/{p.format('a')}" for p in MIRROR_FILES} | {f"sub/b/{p.format('b')}" for p in MIRROR_FILES}
    assert expected <= files
    assert {f for f in files if f.startswith(".facemirror/")} == {
        f"{MARKER_DIR.as_posix()}/a.mp4.json",
        f"{MARKER_DIR.as_posix()}/sub/b.MOV.json",
    }
    assert not [f for f in files if "partial" in f]
    assert {f.split("/")[0] for f in files} == {"a", "sub", ".facemirror", "batch_summary.csv"}
    assert {f.split("/")[1] for f in files if f.startswith("sub/")} == {"b"}  # nothing for the failed sub/trunc.mp4


def test_resume_skips_finished_videos_and_redoes_changed_ones(
    tmp_path: Path, first_run: tuple[Path, Path, int]
) -> None:
    # a copy of the first run's tree (copy2 keeps mtimes): resume records are relative, so a moved tree resumes
    in_dir, out = shutil.copytree(first_run[0], tmp_path / "in"), shutil.copytree(first_run[1], tmp_path / "out")
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.mp4")}
    result = run_many(FAST, in_dir, out, job="mirror", recursive=True, workers=1, progress=False)
    assert result.counts == {"skipped": 2, "failed": 2}
    rows = read_summary(out)
    assert rows["a.mp4"]["status"] == "skipped" and int(rows["a.mp4"]["frames"]) == CLIP_FRAMES
    assert rows["a.mp4"]["seconds"] == ""  # nothing ran
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.mp4")} == before

    (in_dir / "bad.mp4").unlink()
    (in_dir / "sub" / "trunc.mp4").unlink()
    os.utime(in_dir / "a.mp4")  # touched: redone
    (out / "sub" / "b" / "b_midline.csv").unlink()  # an output lost: redone
    result = run_many(FAST, in_dir, out, job="mirror", recursive=True, workers=1, progress=False)
    assert result.ok and [(o.file, o.status) for o in result.outcomes] == [("a.mp4", "done"), ("sub/b.MOV", "done")]
    assert (out / "sub" / "b" / "b_midline.csv").is_file()
    assert set(read_summary(out)) == {"a.mp4", "sub/b.MOV"}

    result = run_many(FAST, in_dir, out, job="mirror", recursive=True, force=True, workers=1, progress=False)
    assert result.counts == {"done": 2}

    # asked for a profile now: the videos done without one are redone with it, then skipped
    profiling = Pipeline.from_config(FAST, progress=False, profile=True)
    result = run_many(profiling, in_dir, out, job="mirror", recursive=True, workers=1, progress=False)
    assert result.counts == {"done": 2} and (out / "a" / "a.profile.txt").is_file()
    result = run_many(profiling, in_dir, out, job="mirror", recursive=True, workers=1, progress=False)
    assert result.counts == {"skipped": 2}


class Interrupting(FaceTracker):
    """The embedded tracker, with a Ctrl-C after ``after`` frames (None: never)."""

    layout = MEDIAPIPE_478

    def __init__(self, after: int | None) -> None:
        self.inner = Pipeline(progress=False).face_tracker
        self.name = self.inner.name
        self.calls = iter(range(10**6))
        self.after = after

    def track(self, image: Any, timestamp: float) -> TrackedFace | None:
        if next(self.calls) == self.after:
            raise KeyboardInterrupt  # Ctrl-C in the middle of a video
        return self.inner.track(image, timestamp)

    def reset(self) -> None:
        self.inner.reset()


def test_interrupt_keeps_finished_work_and_leaves_no_file_that_looks_finished(tmp_path: Path, clip: Path) -> None:
    in_dir = make_input_tree(tmp_path / "in", clip, ["a.mp4", "b.mp4"])
    out = tmp_path / "out"
    interrupted = Pipeline.from_config(FAST, progress=False)
    interrupted.face = interrupted._tracker = Interrupting(after=CLIP_FRAMES + CLIP_FRAMES // 2)  # second video
    with pytest.raises(KeyboardInterrupt):
        run_many(interrupted, in_dir, out, job="mirror", workers=1, progress=False)
    files = all_files(out)
    assert {f"a/{p.format('a')}" for p in MIRROR_FILES} <= files
    assert not [f for f in files if f.startswith("b/")]  # no output of the interrupted video, partial or not
    assert {f for f in files if f.startswith(".facemirror/")} == {f"{MARKER_DIR.as_posix()}/a.mp4.json"}
    assert {f: r["status"] for f, r in read_summary(out).items()} == {"a.mp4": "done"}

    again = Pipeline(Interrupting(after=None), outputs=FAST.outputs, progress=False)  # the same configuration
    result = run_many(again, in_dir, out, job="mirror", workers=1, progress=False)
    assert [(o.file, o.status) for o in result.outcomes] == [("a.mp4", "skipped"), ("b.mp4", "done")]


def test_process_pool_with_two_workers(tmp_path: Path, clip: Path, first_run: tuple[Path, Path, int]) -> None:
    in_dir = make_input_tree(tmp_path / "in", clip, ["a.mp4", "b.mp4"], ["bad.mp4"])
    result = run_many(FAST, in_dir, tmp_path / "out", job="mirror", workers=2, progress=False)
    assert [(o.file, o.status, o.frames) for o in result.outcomes] == [
        ("a.mp4", "done", CLIP_FRAMES),
        ("b.mp4", "done", CLIP_FRAMES),
        ("bad.mp4", "failed", None),
    ]
    assert "not a readable video" in result.failed[0].error
    # the same midline as the in-process run of the same clip
    reference = (first_run[1] / "a" / "a_midline.csv").read_text()
    assert (tmp_path / "out" / "b" / "b_midline.csv").read_text() == reference
    assert (tmp_path / "out" / MARKER_DIR / "b.mp4.json").is_file()


def test_an_error_in_the_driver_shuts_the_pool_down_before_the_batch_ends(
    tmp_path: Path, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the pool's generator was never closed: its shutdown ran at garbage collection, after the batch lock was released
    in_dir = make_input_tree(tmp_path / "in", clip, ["a.mp4", "b.mp4"])

    def full_disk(*_: Any) -> Path:
        raise OutputError(tmp_path / "out", "writing the done-marker failed: No space left on device")

    monkeypatch.setattr(runner, "write_done", full_disk)
    with pytest.raises(OutputError) as info:
        run_many(FAST, in_dir, tmp_path / "out", job="mirror", workers=2, progress=False)
    assert info.traceback  # the exception (and through it the driver's frames) is still alive here
    assert multiprocessing.active_children() == []  # yet no worker process is
    assert not (tmp_path / "out" / ".facemirror" / "batch.lock").exists()


def test_aus_job_on_a_list_of_files_writes_one_au_csv_per_video(tmp_path: Path, clip: Path) -> None:
    in_dir = make_input_tree(tmp_path / "in", clip, ["x/p1.mp4", "y/p2.mp4"])
    result = run_many(FAST, [in_dir / "x/p1.mp4", in_dir / "y/p2.mp4"], tmp_path / "out", job="aus", progress=False)
    assert result.ok and [o.file for o in result.outcomes] == ["x/p1.mp4", "y/p2.mp4"]  # from their common folder
    for rel, outcome in zip(["x/p1/p1.csv", "y/p2/p2.csv"], result.outcomes):
        csv_file = tmp_path / "out" / rel
        assert outcome.outputs["csv"] == str(csv_file)
        assert set(outcome.outputs) == {"csv", "blinks_csv", "summary_json", "summary_csv"}
        assert csv_file.read_text().count("\n") == CLIP_FRAMES + 1  # header + one row per frame


def test_a_pipeline_of_picklable_instances_runs_in_worker_processes(tmp_path: Path, clip: Path) -> None:
    in_dir = make_input_tree(tmp_path / "in", clip, ["a.mp4", "b.mp4"])
    pipeline = Pipeline(au_model=Brightness(), outputs=FAST.outputs, progress=False)
    result = run_many(pipeline, in_dir, tmp_path / "out", job="aus", workers=2, progress=False)
    assert result.ok and result.counts == {"done": 2}
    for name in ("a", "b"):
        header = (tmp_path / "out" / name / f"{name}.csv").read_text().splitlines()[0].split(",")
        assert "brightness" in header  # the worker ran the user's own class, not a default


def test_a_pipeline_that_cannot_be_pickled_is_refused_before_any_work(tmp_path: Path, clip: Path) -> None:
    in_dir = make_input_tree(tmp_path / "in", clip, ["a.mp4", "b.mp4"])
    pipeline = Pipeline(Interrupting(after=None), outputs=FAST.outputs, progress=False)  # holds loaded networks
    with pytest.raises(BatchError, match=r"test_batch\.Interrupting.*cannot be sent to worker processes.*workers=1"):
        run_many(pipeline, in_dir, tmp_path / "out", job="mirror", workers=2, progress=False)
    assert not list((tmp_path / "out").glob("*/*.mp4"))


class NotebookBrightness(Brightness):
    """Brightness as a notebook would define it: in an interactive ``__main__`` no worker process can import."""


NotebookBrightness.__module__ = "__main__"


def test_a_class_from_a_notebook_is_refused_with_what_to_do(
    tmp_path: Path, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A notebook's class pickles by name, then every worker fails to find it (a BrokenProcessPool per video, that
    reads like running out of memory): the batch refuses it at once and says how to run it instead."""
    main = sys.modules["__main__"]
    monkeypatch.delattr(main, "__file__", raising=False)  # a notebook's __main__ has no file...
    monkeypatch.setattr(main, "NotebookBrightness", NotebookBrightness, raising=False)  # ...and holds its classes
    in_dir = make_input_tree(tmp_path / "in", clip, ["a.mp4", "b.mp4"])
    pipeline = Pipeline(au_model=NotebookBrightness(), outputs=FAST.outputs, progress=False)
    with pytest.raises(BatchError, match=r"uses NotebookBrightness, defined in a notebook.*\.py module.*workers=1"):
        run_many(pipeline, in_dir, tmp_path / "out", job="aus", workers=2, progress=False)
    result = run_many(pipeline, in_dir, tmp_path / "out", job="aus", workers=1, progress=False)
    assert result.ok and result.counts == {"done": 2}


def test_a_part_the_workers_do_not_know_fails_each_video_with_why(tmp_path: Path, clip: Path) -> None:
    """A name registered only in this process (as in a notebook) is unknown in a spawned worker: each video fails
    saying so, instead of a broken pool that reads like running out of memory."""
    from facemirror import registry

    registry.register_au_model("brightness-here-only", lambda runtime: Brightness())
    try:
        in_dir = make_input_tree(tmp_path / "in", clip, ["a.mp4", "b.mp4"])
        pipeline = Pipeline(au_model="brightness-here-only", outputs=FAST.outputs, progress=False)
        result = run_many(pipeline, in_dir, tmp_path / "out", job="aus", workers=2, progress=False)
    finally:
        registry.AU_MODELS.pop("brightness-here-only")
    assert result.counts == {"failed": 2}
    for outcome in result.outcomes:
        assert outcome.error.startswith("a worker process could not build the pipeline: ")
        assert "unknown AU model 'brightness-here-only'" in outcome.error and "BrokenProcessPool" not in outcome.error


def test_a_notebook_function_or_pipeline_class_is_refused_too(
    tmp_path: Path, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    main = sys.modules["__main__"]
    monkeypatch.delattr(main, "__file__", raising=False)  # a notebook's __main__

    def notebook_scale(x: float) -> float:
        return 2 * x

    notebook_scale.__module__, notebook_scale.__qualname__ = "__main__", "notebook_scale"
    monkeypatch.setattr(main, "notebook_scale", notebook_scale, raising=False)
    in_dir = make_input_tree(tmp_path / "in", clip, ["a.mp4", "b.mp4"])  # two videos: two workers
    holding_a_function = Pipeline(au_model=ScaledBrightness(notebook_scale), outputs=FAST.outputs, progress=False)
    with pytest.raises(BatchError, match=r"uses notebook_scale, defined in a notebook"):
        run_many(holding_a_function, in_dir, tmp_path / "out", job="aus", workers=2, progress=False)

    NotebookPipeline = type("NotebookPipeline", (Pipeline,), {"__module__": "__main__"})
    monkeypatch.setattr(main, "NotebookPipeline", NotebookPipeline, raising=False)
    with pytest.raises(BatchError, match=r"uses NotebookPipeline, defined in a notebook"):
        run_many(NotebookPipeline(outputs=FAST.outputs, progress=False), in_dir, tmp_path / "out", workers=2)
