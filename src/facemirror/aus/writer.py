"""The AU CSV writer: streams rows atomically and fills the blink (AU45) columns from the eye aspect ratios.

Separator: ``","`` by default. pandas, R and spreadsheets read it with no
options, and scripts written for OpenFace 2.0's ``", "`` files (which strip
or skip the space) read it unchanged; ``separator=", "`` writes OpenFace
2.0's exact layout for scripts that split on ``", "`` literally.

With the default per-video blink baseline, a row's AU45 depends on the whole
video: rows stream to a hidden staging file while only the two EAR values per
frame are kept in memory; ``finish()`` computes AU45 and copies the staging
file into the final one's temporary file with those cells filled, and
``commit()`` renames that into place (:class:`~facemirror.atomic.AtomicWriter`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from facemirror.atomic import AtomicWriter
from facemirror.aus.blink import Blink, au45
from facemirror.tabular import CsvTableWriter

BLINK_OUTPUTS = ("AU45_r", "AU45_c", "AU45_left_r", "AU45_right_r")


class AUCsvWriter(AtomicWriter):
    """Write AU rows (see :func:`facemirror.aus.schema.row_for_frame`) to ``path``; a context manager.

    ``blink_open_ear``: None (default) uses each eye's baseline over this
    video (AU45 filled at ``close()``); a number uses that fixed open-eye EAR
    and fills AU45 as rows arrive. Blink columns are filled only when the
    columns include ``ear_left`` and ``ear_right``.
    """

    def __init__(
        self,
        path: str | Path,
        columns: Sequence[str],
        separator: str = ",",
        blink_open_ear: float | None = None,
        decimals: int = 4,
    ) -> None:
        self.path = Path(path)
        self.columns = tuple(columns)
        self.blink = "ear_left" in self.columns and "ear_right" in self.columns
        self.blink_open_ear = blink_open_ear
        self._deferred = self.blink and blink_open_ear is None
        #: the rows as they arrive (a staging file, a second temporary file of ``path``, when AU45 is deferred)
        self._table = CsvTableWriter(self.path, self.columns, decimals=decimals, separator=separator)
        self._final = self._table
        self.partial = self._table.partial
        self._ears: tuple[list[float], list[float]] = ([], [])

    @property
    def rows(self) -> int:
        return self._table.rows

    def write(self, row: Mapping[str, Any]) -> None:
        """Append one frame's row; AU45 cells are computed here from ``ear_left``/``ear_right``."""
        if not self.blink:
            self._table.write(row)
            return
        left, right = _ear(row.get("ear_left")), _ear(row.get("ear_right"))
        if self.blink_open_ear is None:
            self._ears[0].append(left)
            self._ears[1].append(right)
            self._table.write(row)
            return
        self._table.write({**row, **_blink_cells(au45([left], [right], self.blink_open_ear), 0)})

    def _complete(self) -> None:
        """Finish the rows; when AU45 is deferred, copy them into the final file with AU45 from the whole video."""
        self._table.finish()
        if not self._deferred:
            return
        blink = au45(*self._ears)
        staging = self._table
        self._final = CsvTableWriter(self.path, self.columns, decimals=staging.decimals, separator=staging.separator)
        self.partial = self._final.partial
        with open(staging.partial, newline="", encoding="utf-8") as src:
            reader = csv.reader(src, skipinitialspace=True)
            next(reader)
            for i, cells in enumerate(reader):
                self._final.write({**dict(zip(self.columns, cells)), **_blink_cells(blink, i)})
        self._final.finish()
        staging.abort()

    def _release(self) -> None:
        self._table.abort()
        self._final.abort()


def _ear(value: Any) -> float:
    return math.nan if value is None else float(value)


def _blink_cells(blink: Blink, i: int) -> dict[str, Any]:
    c = blink.c[i]
    return {
        "AU45_r": blink.r[i],
        "AU45_c": None if math.isnan(c) else int(c),
        "AU45_left_r": blink.left_r[i],
        "AU45_right_r": blink.right_r[i],
    }
