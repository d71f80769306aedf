"""Advisory locks on a job's outputs, so that two processes never write the same files.

Two ``facemirror run`` on one video into one folder (two terminals, a batch
started twice, two cluster workers given the same file) would otherwise race
and rename their files over each other's. A job holds a lock file beside its
outputs (``.<stem>.facemirror.lock``, one per video stem and folder, whatever the
job: ``run`` and ``measure`` both write ``<stem>_measures.csv``) while it writes
them, and a batch holds
``OUT_DIR/.facemirror/batch.lock``; a second job or batch finds the lock held
and fails at once with :class:`~facemirror.errors.OutputBusyError`, naming the
outputs and the process that holds them (the lock file records its pid, host,
start time and command).

The lock is the operating system's (``flock`` on POSIX, ``msvcrt.locking`` on
Windows), so it ends with its process: the lock file of a job killed with
SIGKILL is simply taken over by the next job. On a network file system it is
as good as that file system's locking (NFSv4 and SMB honour it).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import socket
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from facemirror.atomic import OutputGroup, check_writable_dir, stale_partials
from facemirror.errors import OutputBusyError, OutputError

log = logging.getLogger(__name__)

#: where a Windows lock sits: one byte far past the record, so that others can still read the record
_WINDOWS_LOCK_BYTE = 1 << 30


class OutputLock:
    """An exclusive lock file held by this process (non-blocking: a held lock raises at once).

    ``busy`` is the message of the :class:`OutputBusyError` raised when another
    process holds it, with ``{holder}`` standing for who that is (pid, host,
    start time); the error names ``subject``. Use as a context manager, or :meth:`acquire` /
    :meth:`release`. The file is removed on release.
    """

    def __init__(self, path: str | Path, subject: str | Path, busy: str, protects: Sequence[str | Path] = ()) -> None:
        self.path = Path(path)
        self.subject = Path(subject)
        self.busy = busy
        self.protects = [str(p) for p in protects]
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> OutputLock:
        """Take the lock, or raise OutputBusyError if another process holds it; returns self."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path}: the lock is already held by this object")
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise OutputError(self.path, f"cannot create the lock file ({exc.strerror or exc})") from exc
            try:
                locked = _try_lock(fd)
            except OSError as exc:  # a file system without locks (some FUSE and old NFS mounts)
                log.warning("%s: cannot lock (%s); nothing stops another job writing the same files", self.path, exc)
                break
            if not locked:
                holder = _read_record(fd)
                os.close(fd)
                raise OutputBusyError(self.subject, self.busy.replace("{holder}", _describe(holder)), holder)
            if _is_current(fd, self.path):
                break
            _unlock(fd)  # its holder removed the file between our open and our lock: lock the new one
            os.close(fd)
        self._fd = fd
        self._write_record(fd)
        return self

    def release(self) -> None:
        """Give the lock up and remove the lock file; safe to call twice."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if sys.platform == "win32":  # an open file cannot be removed on Windows: unlock first
            _unlock(fd)
            os.close(fd)
            with contextlib.suppress(OSError):  # another process has it open: it takes the lock over
                self.path.unlink()
        else:  # removed while still held, so nobody locks a file that is about to vanish
            with contextlib.suppress(OSError):
                self.path.unlink()
            os.close(fd)

    def _write_record(self, fd: int) -> None:
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "command": sys.argv,
            "outputs": self.protects,
        }
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, (json.dumps(record, indent=1) + "\n").encode())
        except OSError as exc:  # a full disk: the lock still holds, only the message loses detail
            log.debug("%s: cannot record the lock's holder: %s", self.path, exc)

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def job_lock(outputs: Sequence[str | Path], stem: str) -> OutputLock:
    """The lock on one job's outputs: ``.<stem>.facemirror.lock`` in their folder (not yet acquired).

    One lock per folder and stem, not per output set: jobs on one video write
    overlapping files (``run``, ``measure`` and ``aus`` all write ``<stem>_blinks.csv``),
    and a job's cleanup of stale temporary files must never meet another's live ones.
    """
    paths = [Path(p) for p in outputs]
    if not paths:
        raise ValueError("a job lock needs at least one output")
    folder = paths[0].parent
    names = ", ".join(p.name for p in paths)
    verb = "is" if len(paths) == 1 else "are"
    busy = f"{names} {verb} being written by another process {{holder}}; wait for it or choose another output folder"
    return OutputLock(folder / f".{stem}.facemirror.lock", folder, busy, paths)


@contextlib.contextmanager
def locked_outputs(
    outputs: Iterable[str | Path], stem: str, family: Iterable[str | Path] = ()
) -> Iterator[OutputGroup]:
    """Hold the lock on the video ``stem``'s outputs and yield the :class:`OutputGroup` its writers join.

    Creates the outputs' folder if needed. Raises :class:`OutputBusyError` at
    once when another process holds the outputs.
    Temporary files that an interrupted earlier job left for these outputs,
    or for ``family`` (every file any job writes for this stem here: a killed
    ``run`` followed by a ``measure``), and their ``.json`` sidecars, are
    removed first: while the lock is held, nobody else can be writing them.
    Leaving the block normally commits the group (every output appears); an
    exception aborts it (none does).
    """
    paths = [Path(p) for p in outputs]
    lock = job_lock(paths, stem)
    check_writable_dir(lock.path.parent)
    with lock:
        for stale in stale_partials([*paths, *(Path(p) for p in family)]):
            log.info("%s: removing a temporary file left by an interrupted job", stale)
            stale.unlink(missing_ok=True)
        with OutputGroup() as group:
            yield group


def _describe(holder: dict[str, Any]) -> str:
    """``(pid 4242 on host, started 2025-01-31T10:00:00+01:00)`` from a lock record, or a plain note."""
    if "pid" not in holder:
        return "(it did not record who it is)"
    return f"(pid {holder['pid']} on {holder.get('host', '?')}, started {holder.get('started', '?')})"


def _read_record(fd: int) -> dict[str, Any]:
    """What the holder wrote into the lock file (empty when unreadable, e.g. not written yet)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        record = json.loads(os.read(fd, 1 << 16).decode() or "{}")
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _is_current(fd: int, path: Path) -> bool:
    """Whether ``fd`` is still the file at ``path`` (not one its holder removed on release)."""
    try:
        here, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _WINDOWS_LOCK_BYTE, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WINDOWS_LOCK_BYTE, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
