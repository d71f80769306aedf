"""Write outputs under a temporary name and rename them into place only when complete.

A crash, an exception or Ctrl-C must never leave a file that looks finished:
readers (and resumable batch runs) trust any file with its final name.
"""

from __future__ import annotations

import abc
import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from facemirror.errors import OutputError

_W = TypeVar("_W", bound="AtomicWriter")


def partial_path(final: str | Path) -> Path:
    """The temporary name used while ``final`` is being written: hidden, same folder, same suffix."""
    final = Path(final)
    return final.with_name(f".{final.stem}.partial{final.suffix}")


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
    try:
        os.replace(tmp, final)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(final, f"cannot move the finished file into place ({exc.strerror or exc})") from exc


class AtomicWriter(abc.ABC):
    """A writer used as a context manager: a clean exit calls :meth:`close`, an exception calls :meth:`abort`.

    So leaving a ``with`` block by an error never renames a half-written file into place.
    """

    @abc.abstractmethod
    def close(self) -> Path:
        """Finish the output and move it to its final name; returns that name."""

    @abc.abstractmethod
    def abort(self) -> None:
        """Drop the partial output; the final name is never created."""

    def __enter__(self: _W) -> _W:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
