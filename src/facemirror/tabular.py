"""Streaming CSV output shared by every per-frame table (midline, AUs): atomic, one row per frame.

Missing values (``None`` or NaN) are written as empty cells, never invented;
floats get a fixed number of decimals so files diff cleanly between runs.
"""

from __future__ import annotations

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
    """Write rows to ``path`` under a temporary name; ``close()`` renames it into place.

    Used as a context manager: an exception inside the block removes the
    partial file instead of renaming it. ``separator`` is ``","`` (plain CSV)
    or ``", "`` (OpenFace 2.0's own layout, for numeric tables: cells are not quoted).
    """

    def __init__(self, path: str | Path, columns: Sequence[str], decimals: int = 4, separator: str = ",") -> None:
        if separator not in (",", ", "):
            raise ValueError(f"separator must be ',' or ', ', not {separator!r}")
        self.path = Path(path)
        self.columns = tuple(columns)
        self.decimals = decimals
        self.separator = separator
        check_writable_dir(self.path.parent)
        self._tmp = partial_path(self.path)
        try:
            self._file: IO[str] | None = open(self._tmp, "w", newline="", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise OutputError(self.path, f"cannot create ({exc.strerror or exc})") from exc
        self._csv = csv.writer(self._file, lineterminator="\n")
        self._write_cells(self.columns)
        self.rows = 0

    def write(self, row: Mapping[str, Any]) -> None:
        """Append one row; columns missing from ``row`` are left empty."""
        self._write_cells([format_cell(row.get(c), self.decimals) for c in self.columns])
        self.rows += 1

    def _write_cells(self, cells: Sequence[str]) -> None:
        if self.separator == ",":
            self._csv.writerow(cells)
        elif self._file is not None:
            self._file.write(self.separator.join(cells) + "\n")

    def close(self) -> Path:
        """Finish the file and rename it to its final name."""
        if self._file is not None:
            self._file.close()
            self._file = None
            self._tmp.replace(self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial file."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._tmp.unlink(missing_ok=True)
