"""A job's outputs appear together or not at all, and only one job writes them (issue 14), in the library."""

from __future__ import annotations

from pathlib import Path

import pytest

from facemirror import Outputs, Pipeline
from facemirror.atomic import AtomicFile, partial_path
from facemirror.errors import OutputBusyError, OutputError
from facemirror.locks import job_lock
from facemirror.pipeline import output_paths
from facemirror.tabular import CsvTableWriter

VIDEO = Path(__file__).resolve().parents[1] / "examples" / "single_face.mp4"


@pytest.fixture(autouse=True)
def empty_weights_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user-installed OpenFace weights: ``auto`` uses the embedded model."""
    monkeypatch.setenv("FACEMIRROR_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(outputs=Outputs(quality="fast", debug_video=False), progress=False)


def fail_third_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the third sidecar written fail as a full disk does (the outputs and two sidecars are finished by then)."""
    complete = AtomicFile._complete
    calls = {"json": 0}

    def full_disk(self: AtomicFile) -> None:
        if self.path.suffix == ".json":
            calls["json"] += 1
            if calls["json"] == 3:
                raise OutputError(self.path, "writing the file failed: No space left on device")
        complete(self)

    monkeypatch.setattr(AtomicFile, "_complete", full_disk)


def test_a_failing_sidecar_takes_the_whole_job_with_it(
    pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_third_json(monkeypatch)
    with pytest.raises(OutputError, match="No space left on device"):
        pipeline.run(VIDEO, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_extract_aus_failing_to_write_leaves_nothing(
    pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(self: CsvTableWriter) -> None:
        raise OutputError(self.path, "writing the file failed: No space left on device")

    monkeypatch.setattr(CsvTableWriter, "_complete", full_disk)
    with pytest.raises(OutputError, match="No space left on device"):
        pipeline.extract_aus(VIDEO, tmp_path / "aus" / "single_face.csv")
    assert list((tmp_path / "aus").iterdir()) == []


def test_outputs_held_by_another_job_are_refused_before_anything_is_written(pipeline: Pipeline, tmp_path: Path) -> None:
    paths = output_paths(tmp_path, "single_face")
    paths["midline_csv"].write_text("the other job's\n")
    busy = pytest.raises(OutputBusyError, match=r"single_face_left_mirrored\.mp4")
    with job_lock([paths["left"]], "single_face"), busy:
        pipeline.mirror(VIDEO, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["single_face_midline.csv"]
    assert paths["midline_csv"].read_text() == "the other job's\n"


def test_a_rerun_clears_what_a_killed_job_left(pipeline: Pipeline, tmp_path: Path) -> None:
    paths = output_paths(tmp_path, "single_face")
    for final in (paths["left"], paths["midline_csv"], tmp_path / "single_face_right_mirrored.mp4.json"):
        partial_path(final).write_bytes(b"half a file from a job killed with SIGKILL")
    result = pipeline.mirror(VIDEO, tmp_path)
    finals = [p.name for p in result.outputs.values()]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*finals, *(f"{n}.json" for n in finals)])
