"""facemirror batch on Ray: a local Ray instance processes real videos with the same summary and resume rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from batch_fixtures import CLIP_FRAMES, FAST, face_clip, make_input_tree
from facemirror.batch import RayOptions, run_many
from facemirror.batch.state import MARKER_DIR
from facemirror.cli import main

ray = pytest.importorskip("ray", reason="the 'ray' extra is not installed (pip install 'facemirror[ray]')")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


def test_no_cluster_at_the_address_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--ray-address auto with no cluster running printed Ray's whole ConnectionError traceback."""
    assert not ray.is_initialized()  # runs before the module's local Ray starts
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path / "no-ray"))  # where Ray looks for the cluster this machine joined
    clip = face_clip(tmp_path / "face.mp4")
    in_dir = make_input_tree(tmp_path / "in", clip, ["a.mp4"])
    with pytest.raises(SystemExit) as exit_info:
        main(["-q", "batch", str(in_dir), str(tmp_path / "out"), "--ray-address", "auto"])
    assert exit_info.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("facemirror: error: cannot connect to the Ray cluster at auto: ")
    assert not ray.is_initialized()


def test_ray_tasks_process_videos_report_failures_and_resume(local_ray: None, tmp_path: Path) -> None:
    clip = face_clip(tmp_path / "face.mp4")
    in_dir = make_input_tree(tmp_path / "in", clip, ["a.mp4", "sub/b.mp4"], ["sub/bad.mp4"])
    out = tmp_path / "out"
    result = run_many(
        FAST, in_dir, out, job="mirror", recursive=True, ray=RayOptions(num_cpus=1, max_retries=1), progress=False
    )
    assert [(o.file, o.status, o.frames) for o in result.outcomes] == [
        ("a.mp4", "done", CLIP_FRAMES),
        ("sub/b.mp4", "done", CLIP_FRAMES),
        ("sub/bad.mp4", "failed", None),
    ]
    assert "sub/bad.mp4" in result.failed[0].error and "not a readable video" in result.failed[0].error
    for stem, folder in (("a", out / "a"), ("b", out / "sub" / "b")):
        assert (folder / f"{stem}_left_mirrored.mp4").is_file() and (folder / f"{stem}_midline.csv").is_file()
    assert sorted(p.name for p in (out / MARKER_DIR).rglob("*.json")) == ["a.mp4.json", "b.mp4.json"]
    assert (out / "batch_summary.csv").read_text().count("\n") == 4

    # the CLI on the same (already initialised) Ray: finished videos are skipped, the failure is retried and reported
    with pytest.raises(SystemExit) as exit_info:
        main(["-q", "batch", str(in_dir), str(out), "-r", "--job", "mirror", "--quality", "fast", "--no-debug",
              "--ray", "--ray-cpus", "1"])  # fmt: skip
    assert exit_info.value.code == 1
    rows = (out / "batch_summary.csv").read_text().splitlines()
    assert [r.split(",")[:2] for r in rows[1:]] == [
        ["a.mp4", "skipped"],
        ["sub/b.mp4", "skipped"],
        ["sub/bad.mp4", "failed"],
    ]
