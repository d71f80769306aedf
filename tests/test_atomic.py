"""Outputs appear under their final name only when complete."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from facemirror.atomic import (
    AtomicFile,
    OutputGroup,
    atomic_output,
    check_writable_dir,
    partial_path,
    partial_target,
    stale_partials,
    write_file,
)
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


# --- temporary names, output groups -------------------------------------------


def test_temporary_names_are_hidden_and_unique_per_writer(tmp_path: Path) -> None:
    final = tmp_path / "clip_left_mirrored.mp4"
    first, second = partial_path(final), partial_path(final)
    assert first != second and first.parent == second.parent == tmp_path
    assert first.name.startswith(f".clip_left_mirrored.{os.getpid()}-") and first.name.endswith(".partial.mp4")
    assert partial_target(first) == partial_target(second) == final
    assert partial_target(tmp_path / ".clip.partial.mp4") == tmp_path / "clip.mp4"  # the old fixed names too
    assert partial_target(tmp_path / "clip.mp4") is None


def test_stale_partials_are_those_of_the_given_outputs_and_their_sidecars(tmp_path: Path) -> None:
    out = tmp_path / "a_midline.csv"
    mine = [partial_path(out), partial_path(tmp_path / "a_midline.csv.json"), tmp_path / ".a_midline.partial.csv"]
    others = [partial_path(tmp_path / "a_debug.mp4"), partial_path(tmp_path / "b_midline.csv"), tmp_path / "x.csv"]
    for path in mine + others:
        path.write_text("")
    assert stale_partials([out]) == sorted(mine)


class Table(AtomicFile):
    """A member whose finish() can be made to fail, like a full disk does."""

    def __init__(self, path: Path, fail: bool = False) -> None:
        super().__init__(path, "data\n")
        self.fail = fail

    def _complete(self) -> None:
        super()._complete()
        if self.fail:
            raise OutputError(self.path, "writing the file failed: No space left on device")


def test_group_renames_every_member_only_after_all_are_finished(tmp_path: Path) -> None:
    with OutputGroup() as group:
        members = [group.add(Table(tmp_path / f"{n}.csv")) for n in "abc"]
        group.finish()
        assert all(m.partial.is_file() for m in members)  # complete, still hidden
        assert not any((tmp_path / f"{n}.csv").exists() for n in "abc")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv", "c.csv"]


def test_group_member_failing_to_finish_aborts_every_member(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("from an earlier run\n")
    with pytest.raises(OutputError, match="No space"), OutputGroup() as group:
        group.add(Table(tmp_path / "a.csv"))
        group.add(Table(tmp_path / "b.csv"))
        group.add(Table(tmp_path / "c.csv", fail=True))
        group.add(Table(tmp_path / "d.csv"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]  # what was there before, untouched
    assert (tmp_path / "a.csv").read_text() == "from an earlier run\n"


def test_group_aborts_on_an_exception_in_its_block(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), OutputGroup() as group:
        group.add(Table(tmp_path / "a.csv"))
        group.finish()
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_small_file_write_error_is_an_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "gone"
    with pytest.raises(OutputError, match=r"gone.x\.json: writing the file failed"):
        AtomicFile(blocker / "x.json", "{}").close()


def test_write_file_alone_or_with_its_group(tmp_path: Path) -> None:
    alone = write_file(tmp_path / "new" / "alone.txt", "a\n")
    assert alone.read_text() == "a\n" and os.listdir(alone.parent) == ["alone.txt"]
    group = OutputGroup()
    member = write_file(tmp_path / "member.bin", b"\x00\x01", group)
    assert not member.exists()  # finished under its temporary name until the group commits
    assert [p.name for p in tmp_path.glob(".member.*.partial.bin")]
    group.commit()
    assert member.read_bytes() == b"\x00\x01" and not list(tmp_path.glob(".member.*"))
