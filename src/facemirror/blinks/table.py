"""``{stem}_blinks.csv``: one row per blink of either eye, in time order, written atomically.

Frames are numbered from 1 as in the AU and midline CSVs; times are seconds on the video's
clock (the AU CSV's ``timestamp``); ``start_time``/``end_time`` are the half-depth crossings
(see :mod:`facemirror.blinks`), so ``duration = end_time - start_time``. ``eye`` is the
subject's anatomical side.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from facemirror.blinks.events import BlinkEvent
from facemirror.tabular import CsvTableWriter

BLINK_COLUMNS = (
    "eye",
    "start_frame",
    "peak_frame",
    "end_frame",
    "start_time",
    "peak_time",
    "end_time",
    "duration",
    "min_ear",
    "open_ear",
    "closure",
    "complete",
)


def write_blinks_csv(path: str | Path, left: Sequence[BlinkEvent], right: Sequence[BlinkEvent]) -> Path:
    """Write the subject's left and right eye's blinks to ``path``; returns the final path."""
    return blinks_table(path, left, right).close()


def blinks_table(path: str | Path, left: Sequence[BlinkEvent], right: Sequence[BlinkEvent]) -> CsvTableWriter:
    """The blinks written under the file's temporary name: the caller closes it (or its output group does)."""
    rows = [(e.peak_time, eye, e) for eye, events in (("left", left), ("right", right)) for e in events]
    out = CsvTableWriter(path, BLINK_COLUMNS)
    try:
        for _, eye, e in sorted(rows, key=lambda r: (r[0], r[1])):
            out.write(
                {
                    "eye": eye,
                    "start_frame": e.start + 1,
                    "peak_frame": e.peak + 1,
                    "end_frame": e.end + 1,
                    "start_time": e.start_time,
                    "peak_time": e.peak_time,
                    "end_time": e.end_time,
                    "duration": e.duration_s,
                    "min_ear": e.min_ear,
                    "open_ear": e.open_ear,
                    "closure": e.closure,
                    "complete": e.complete,
                }
            )
    except BaseException:
        out.abort()
        raise
    return out
