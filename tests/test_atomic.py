"""Outputs appear under their final name only when complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from facemirror.atomic import atomic_output, check_writable_dir, partial_path
from facemirror.errors import OutputError
from fs_fixtures import unwritable_folder


def test_success_renames_into_place(tmp_path: Path) -> None:
    final = tmp_path / "out" / "a.csv"
    with atomic_output(final) as tmp:
        assert tmp.parent == final.parent and tmp != final
        tmp.write_text("x\n")
        assert not final.exists()
    assert final.read_text() == "x\n"
    assert not partial_path(final).exists()


def test_failure_leaves_nothing(tmp_path: Path) -> None:
    final = tmp_path / "a.csv"
    with pytest.raises(RuntimeError), atomic_output(final) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert list(tmp_path.iterdir()) == []


def test_previous_output_survives_a_failed_rewrite(tmp_path: Path) -> None:
    final = tmp_path / "a.csv"
    final.write_text("good")
    with pytest.raises(KeyboardInterrupt), atomic_output(final) as tmp:
        tmp.write_text("partial")
        raise KeyboardInterrupt
    assert final.read_text() == "good"


def test_unwritable_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="not writable"):
        check_writable_dir(unwritable_folder(tmp_path))


def test_output_path_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError, match=str(blocker)):
        check_writable_dir(blocker / "sub")
