"""The ``facemirror`` command as a user runs it: the README's quick start, help, and one-line errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def facemirror(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the installed entry point (``python -m facemirror`` would bypass the script's wrapper)."""
    script = Path(sys.executable).with_name("facemirror")
    return subprocess.run([str(script), *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_help_lists_every_command() -> None:
    out = facemirror("--help")
    assert out.returncode == 0
    for command in ("run", "mirror", "aus", "batch", "info", "backends", "weights", "ane-report"):
        assert f"  {command}" in out.stdout, command


def test_readme_quick_start(tmp_path: Path) -> None:
    """``facemirror run examples/single_face.mp4 -o out`` writes the three videos, three CSVs and sidecars."""
    out = facemirror("-q", "run", "examples/single_face.mp4", "-o", str(tmp_path / "out"))
    assert out.returncode == 0, out.stderr
    names = {p.name for p in (tmp_path / "out").iterdir()}
    for stem in ("left_mirrored.mp4", "right_mirrored.mp4", "debug.mp4", "midline.csv", "left_mirrored.csv"):
        assert f"single_face_{stem}" in names and f"single_face_{stem}.json" in names
    assert out.stdout == ""  # --quiet


def test_bad_input_is_one_line_and_exit_1(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    out = facemirror("mirror", str(missing))
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("facemirror: error: ") and str(missing) in lines[0]


def test_usage_error_exit_2() -> None:
    out = facemirror("run")
    assert out.returncode == 2 and "Missing argument" in out.stderr


def _one_error_line(out: subprocess.CompletedProcess[str]) -> str:
    """The single line a failed command printed: on stderr, nothing on stdout, no usage block."""
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("facemirror: error: ")
    return lines[0]


@pytest.mark.parametrize("command", ["run", "mirror", "aus"])
def test_output_folder_that_is_a_file_is_one_line_and_exit_1(tmp_path: Path, command: str) -> None:
    blocker = tmp_path / "out"
    blocker.write_text("")
    out = facemirror(command, "examples/single_face.mp4", "-o", str(blocker))
    assert out.returncode == 1
    assert _one_error_line(out).startswith(f"facemirror: error: {blocker}: ")


def test_batch_folder_errors_are_one_line_and_exit_1(tmp_path: Path) -> None:
    missing, blocker = tmp_path / "no_such_folder", tmp_path / "out"
    blocker.write_text("")
    out = facemirror("batch", str(missing), str(tmp_path / "results"))
    assert out.returncode == 1
    assert _one_error_line(out).startswith(f"facemirror: error: {missing}: ")
    assert not (tmp_path / "results").exists()  # nothing is created for a batch that cannot start
    out = facemirror("batch", str(ROOT / "examples"), str(blocker))
    assert out.returncode == 1
    assert _one_error_line(out).startswith(f"facemirror: error: {blocker}: ")
    out = facemirror("batch", str(ROOT / "examples" / "single_face.mp4"), str(tmp_path / "results"))
    assert out.returncode == 1  # IN_DIR is a folder: a file is refused, not taken for a one-video batch
    assert _one_error_line(out).startswith(f"facemirror: error: {ROOT / 'examples' / 'single_face.mp4'}: ")


def test_cache_folder_that_is_a_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("")
    out = facemirror("weights", "--cache-dir", str(blocker), "list")
    assert out.returncode == 1
    assert _one_error_line(out).startswith(f"facemirror: error: {blocker}: ")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("run",), "'VIDEO'"),  # missing argument
        (("batch", "examples"), "'OUT_DIR'"),
        (("mirror", "examples/single_face.mp4", "--qualty", "fast"), "'--qualty'"),  # unknown option
        (("mirror", "examples/single_face.mp4", "--quality", "best"), "'--quality'"),  # bad choice
        (("mirror", "examples/single_face.mp4", "--hold", "long"), "'--hold'"),  # bad value
        (("bogus",), "'bogus'"),  # unknown command
        (("weights", "fetch"), "NAME or --all"),  # the command's own usage check
    ],
)
def test_usage_errors_are_one_line_naming_the_culprit_and_exit_2(args: tuple[str, ...], named: str) -> None:
    out = facemirror(*args)
    assert out.returncode == 2
    assert named in _one_error_line(out)


def test_exit_codes_are_documented_in_help_and_readme() -> None:
    out = facemirror("--help")
    assert out.returncode == 0
    readme = (ROOT / "README.md").read_text()
    for text in (out.stdout, readme):
        assert "Exit codes" in text
        for code, meaning in (("0", "success"), ("1", "failed"), ("2", "command line"), ("130", "interrupted")):
            assert re.search(rf"^\W*{code}\b.*{meaning}", text, re.MULTILINE | re.IGNORECASE), (code, meaning)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("mirror", "examples/single_face.mp4", "--threads", "0"), "'--threads'"),
        (("aus", "examples/single_face.mp4", "--threads", "-2"), "'--threads'"),
        (("mirror", "examples/single_face.mp4", "--hold", "-1"), "'--hold'"),
        (
            ("mirror", "examples/single_face.mp4", "--face-box", "0,0,10,10", "--face-index", "1"),
            "--face-box or --face-index",
        ),
        (("batch", "examples", "{out}", "--ext", "."), "'--ext'"),
        (("batch", "examples", "{out}", "--ray-cpus", "0"), "'--ray-cpus'"),
    ],
)
def test_invalid_option_values_are_one_line_and_exit_2(
    args: tuple[str, ...], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # these raised ValueError deep inside the settings or the batch: a raw traceback and exit 1
    from facemirror.cli import main

    with pytest.raises(SystemExit) as info:
        main([a.replace("{out}", str(tmp_path / "out")) for a in args])
    out = capsys.readouterr()
    assert info.value.code == 2
    assert named in _one_error_line(subprocess.CompletedProcess(args, 2, out.out, out.err))
    assert "Traceback" not in out.err and not (tmp_path / "out").exists()
