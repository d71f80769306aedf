"""Write outputs under a temporary name and rename them into place only when complete.

A crash, an exception or Ctrl-C must never leave a file that looks finished:
readers (and resumable batch runs) trust any file with its final name. A
job's outputs are one :class:`OutputGroup`: every member is first finished
under its temporary name, then every member is renamed, and a failure at any
point (a full disk, an encoder error) removes every temporary file of the
group. Temporary names are unique per writer (pid and a random token), so two
processes writing the same output never write into one file.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from facemirror.errors import OutputError

log = logging.getLogger(__name__)

_W = TypeVar("_W", bound="AtomicWriter")

#: a temporary name made by :func:`partial_path` (group 1: the final stem, group 2: the final suffix); the pid and
#: token are optional so files left by versions that used fixed names (``.x.partial.mp4``) are recognised too
_PARTIAL = re.compile(r"\.(.+?)(?:\.\d+-[0-9a-f]{8})?\.partial(\.[^.]+)?")

_OPEN, _FINISHED, _COMMITTED, _ABORTED = "open", "finished", "committed", "aborted"


def partial_path(final: str | Path) -> Path:
    """A fresh temporary name for ``final``: hidden, same folder and suffix, unique to this writer.

    ``.<stem>.<pid>-<random hex>.partial<suffix>``: the pid says which process
    wrote it; the token keeps two writers of one output (two jobs, two threads)
    apart.
    """
    final = Path(final)
    return final.with_name(f".{final.stem}.{os.getpid()}-{secrets.token_hex(4)}.partial{final.suffix}")


def partial_target(partial: Path) -> Path | None:
    """The final path a temporary file named by :func:`partial_path` is for, or None if it is not one."""
    match = _PARTIAL.fullmatch(partial.name)
    return partial.with_name(match[1] + (match[2] or "")) if match else None


def stale_partials(finals: Iterable[Path]) -> list[Path]:
    """Temporary files beside ``finals`` whose final name is one of them or starts with one (``x.mp4.json``)."""
    found: list[Path] = []
    by_folder: dict[Path, list[str]] = {}
    for final in finals:
        by_folder.setdefault(final.parent, []).append(final.name)
    for folder, names in by_folder.items():
        with contextlib.suppress(OSError):
            for entry in folder.iterdir():
                target = partial_target(entry) if entry.name.startswith(".") else None
                if target is not None and target.name.startswith(tuple(names)):
                    found.append(entry)
    return sorted(found)


def check_not_a_file(folder: str | Path) -> Path:
    """``folder`` as a Path, or OutputError if something other than a folder is there; creates nothing.

    Cheap enough for a command line to check before any work starts.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(folder, "the output path exists and is not a folder")
    return folder


def check_writable_dir(folder: str | Path) -> Path:
    """Create ``folder`` if needed and make sure files can be written there, else raise OutputError."""
    folder = check_not_a_file(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(folder, f"cannot create the output folder ({exc.strerror or exc})") from exc
    try:  # os.access lies for root and on some network shares: really try to write
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise OutputError(folder, f"the output folder is not writable ({exc.strerror or exc})") from exc
    return folder


def move_into_place(partial: Path, final: Path) -> Path:
    """Rename the finished ``partial`` to ``final`` (atomic within a folder); on failure remove it, OutputError."""
    try:
        os.replace(partial, final)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise OutputError(final, f"cannot move the finished file into place ({exc.strerror or exc})") from exc
    return final


@contextlib.contextmanager
def atomic_output(final: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it to ``final`` on success, delete it on failure."""
    final = Path(final)
    check_writable_dir(final.parent)
    tmp = partial_path(final)
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    move_into_place(tmp, final)


class AtomicWriter(abc.ABC):
    """An output written to the temporary file ``partial`` and renamed to ``path`` in two steps.

    :meth:`finish` completes the file under its temporary name (where a full
    disk or an encoder error shows up); :meth:`commit` renames it into place;
    :meth:`abort` removes the temporary file at any point before the commit.
    :meth:`close` is both steps. As a context manager, a clean exit closes and
    an exception aborts, so leaving a ``with`` block by an error never renames
    a half-written file into place. Subclasses set ``path`` and ``partial`` and
    implement :meth:`_complete` and :meth:`_release`.
    """

    path: Path
    partial: Path
    _state: str = _OPEN

    @abc.abstractmethod
    def _complete(self) -> None:
        """Write out everything still buffered into ``partial`` and close it (called once, by :meth:`finish`)."""

    @abc.abstractmethod
    def _release(self) -> None:
        """Stop writing and close open files without completing them (called once, by :meth:`abort`); never raises."""

    @property
    def is_open(self) -> bool:
        """True until the output is finished or aborted (rows or frames can still be written)."""
        return self._state == _OPEN

    def finish(self) -> None:
        """Complete the file under its temporary name; on failure the writer aborts (no temporary file stays)."""
        if self._state == _ABORTED:
            raise RuntimeError(f"{self.path}: finish() after abort()")
        if self._state != _OPEN:
            return
        try:
            self._complete()
        except BaseException:
            self.abort()
            raise
        self._state = _FINISHED

    def commit(self) -> Path:
        """Finish the file if needed and rename it to ``path``; returns ``path``."""
        if self._state == _COMMITTED:
            return self.path
        self.finish()
        self._state = _ABORTED  # a failed rename has removed the temporary file
        move_into_place(self.partial, self.path)
        self._state = _COMMITTED
        return self.path

    def abort(self) -> None:
        """Drop the temporary file, finished or not; the final name is never created (a no-op once committed)."""
        if self._state in (_COMMITTED, _ABORTED):
            return
        was_open = self._state == _OPEN
        self._state = _ABORTED
        if was_open:
            self._release()
        self.partial.unlink(missing_ok=True)

    def close(self) -> Path:
        """Finish the output and move it to its final name; returns that name."""
        return self.commit()

    def __enter__(self: _W) -> _W:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class AtomicFile(AtomicWriter):
    """A small file written in one go (a sidecar, a report, a record): ``AtomicFile(path, text)``, then finish/commit.

    An OS error while writing (a full disk) becomes an :class:`OutputError` naming ``path``.
    """

    def __init__(self, path: str | Path, data: str | bytes) -> None:
        self.path = Path(path)
        self.partial = partial_path(self.path)
        self._data = data

    def _complete(self) -> None:
        try:
            if isinstance(self._data, str):
                self.partial.write_text(self._data, encoding="utf-8")
            else:
                self.partial.write_bytes(self._data)
        except OSError as exc:
            raise OutputError(self.path, f"writing the file failed: {exc.strerror or exc}") from exc

    def _release(self) -> None:
        """Nothing is held open between calls."""


def write_file(path: str | Path, data: str | bytes, group: OutputGroup | None = None) -> Path:
    """Write ``data`` to ``path`` atomically; returns ``path``.

    Alone, the file is renamed into place at once. With ``group`` (a job's outputs) it is finished under its
    temporary name now, where a full disk shows up, and renamed when the group commits.
    """
    writer = AtomicFile(path, data)
    if group is None:
        check_writable_dir(writer.path.parent)
        return writer.close()
    group.add(writer)
    group.finish()
    return writer.path


class OutputGroup:
    """Outputs that appear together or not at all: one job's videos, tables, sidecars and reports.

    :meth:`add` each writer as it is opened. :meth:`finish` completes every
    member under its temporary name; :meth:`commit` (after finishing) renames
    them all. If any member fails to finish, or the ``with`` block ends with an
    exception, every member is aborted: no temporary file of the group stays,
    and no final name is created. (A rename that fails after others succeeded,
    which needs a folder to vanish mid-commit, leaves the renamed files, each of
    them complete.)
    """

    def __init__(self) -> None:
        self._members: list[AtomicWriter] = []
        self._finished = 0
        self._closed = False

    @property
    def members(self) -> list[AtomicWriter]:
        """The writers added so far, in order."""
        return list(self._members)

    def add(self, writer: _W) -> _W:
        """Make ``writer`` a member; returns it."""
        if self._closed:
            raise RuntimeError("add() to an output group that was committed or aborted")
        self._members.append(writer)
        return writer

    def finish(self) -> None:
        """Finish every member not finished yet; if one fails, abort them all and re-raise."""
        try:
            while self._finished < len(self._members):
                self._members[self._finished].finish()
                self._finished += 1
        except BaseException:
            self.abort()
            raise

    def commit(self) -> list[Path]:
        """Finish every member, then rename every member into place; returns the final paths."""
        self.finish()
        try:
            paths = [member.commit() for member in self._members]
        except BaseException:
            self.abort()
            raise
        self._closed = True
        return paths

    def abort(self) -> None:
        """Remove the temporary file of every member that was not renamed into place."""
        self._closed = True
        for member in self._members:
            try:
                member.abort()
            except Exception as exc:  # keep removing the others; the error that caused the abort is what matters
                log.warning("%s: removing the temporary file failed: %s", member.path, exc)

    def __enter__(self) -> OutputGroup:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
