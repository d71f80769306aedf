"""The ``facemirror`` command as a user runs it: the README's quick start, help, and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
