"""Streaming CSV output shared by every per-frame table (midline, AUs): atomic, one row per frame.

Missing values (``None`` or NaN) are written as empty cells, never invented;
floats get a fixed number of decimals so files diff cleanly between runs.
"""

from __future__ import annotations

import contextlib
import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from facemirror.atomic import AtomicWriter, check_writable_dir, partial_path
from facemirror.errors import OutputError


def format_cell(value: Any, decimals: int = 4) -> str:
    """One CSV cell: empty for None/NaN, fixed decimals for floats, str() otherwise."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") == "f"):
        f = float(value)
        return "" if math.isnan(f) else f"{f:.{decimals}f}"
    return str(value)


class CsvTableWriter(AtomicWriter):
    """Write rows to ``path`` under a temporary name; ``close()`` (or ``finish()`` then ``commit()``) renames it.

    Used as a context manager: an exception inside the block removes the
    partial file instead of renaming it. ``separator`` is ``","`` (plain CSV)
    or ``", "`` (OpenFace 2.0's own layout, for numeric tables: cells are not quoted).
    An OS error while writing (a full disk) is an :class:`OutputError` naming ``path``.
    """

    def __init__(self, path: str | Path, columns: Sequence[str], decimals: int = 4, separator: str = ",") -> None:
        if separator not in (",", ", "):
            raise ValueError(f"separator must be ',' or ', ', not {separator!r}")
        self.path = Path(path)
        self.columns = tuple(columns)
        self.decimals = decimals
        self.separator = separator
        check_writable_dir(self.path.parent)
        self.partial = partial_path(self.path)
        try:
            self._file: IO[str] = open(self.partial, "w", newline="", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise OutputError(self.path, f"cannot create ({exc.strerror or exc})") from exc
        self._csv = csv.writer(self._file, lineterminator="\n")
        self.rows = 0
        try:
            self._write_cells(self.columns)
        except BaseException:
            self.abort()
            raise

    def write(self, row: Mapping[str, Any]) -> None:
        """Append one row; columns missing from ``row`` are left empty."""
        if not self.is_open:
            raise RuntimeError(f"{self.path}: write() after the table was finished or aborted")
        self._write_cells([format_cell(row.get(c), self.decimals) for c in self.columns])
        self.rows += 1

    def _write_cells(self, cells: Sequence[str]) -> None:
        try:
            if self.separator == ",":
                self._csv.writerow(cells)
            else:
                self._file.write(self.separator.join(cells) + "\n")
        except OSError as exc:
            raise OutputError(self.path, f"writing the file failed: {exc.strerror or exc}") from exc

    def _complete(self) -> None:
        try:
            self._file.close()
        except OSError as exc:
            raise OutputError(self.path, f"writing the file failed: {exc.strerror or exc}") from exc

    def _release(self) -> None:
        with contextlib.suppress(OSError):  # a full disk fails the final flush too; the file is removed anyway
            self._file.close()
