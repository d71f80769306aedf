"""Plain-text tables for the command line: each column as wide as its widest cell, two spaces between columns."""

from __future__ import annotations

from collections.abc import Collection, Sequence


def format_table(rows: Sequence[Sequence[str]], right: Collection[int] = ()) -> list[str]:
    """The lines of a table of ``rows`` (the first is the header); columns whose index is in ``right`` align right.

    Columns are sized to their content, so no cell can run into the next one however long it is.
    """
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))
        ).rstrip()
        for row in rows
    ]
