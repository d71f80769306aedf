"""The per-video summary: for every measure and every AU of the two mirrored faces, rest, peak and the sides' ratio.

For each item and side: the **rest** value (the median over the rest segment,
:func:`facemirror.measures.rest.rest_mask`), the **peak**: the frame where the
value is farthest from rest, with its value and its excursion (value - rest);
and for the pair: the **ratio** of the smaller absolute excursion over the
larger (1: both sides moved alike), which side moved less and by how much; and
when the user names the affected side, affected over healthy. Words that
diagnose are left to the reader. ``{stem}_summary.json`` holds everything
(also the eyes, the scale, the rest rule); ``{stem}_summary.csv`` one row per item.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from facemirror.atomic import AtomicFile
from facemirror.layouts import SIDES
from facemirror.measures.geometry import MEASURES
from facemirror.measures.rest import rest_mask, rest_rule
from facemirror.provenance import jsonable
from facemirror.settings import Measures
from facemirror.tabular import CsvTableWriter

if TYPE_CHECKING:
    from facemirror.blinks.series import EyeSeries
    from facemirror.results import JobResult

COLUMNS = (
    "kind",
    "name",
    "unit",
    "rest_left",
    "rest_right",
    "peak_left",
    "excursion_left",
    "peak_frame_left",
    "peak_time_left",
    "peak_right",
    "excursion_right",
    "peak_frame_right",
    "peak_time_right",
    "ratio",
    "moved_less",
    "difference",
    "affected_over_healthy",
)


def compare_sides(
    kind: str,
    name: str,
    unit: str,
    series: tuple[np.ndarray, np.ndarray],
    frames: np.ndarray,
    times: np.ndarray,
    rest: np.ndarray,
    affected: str | None = None,
) -> dict[str, Any]:
    """One summary row: rest, peak and excursion per side, and how the sides compare (see the module docstring)."""
    row: dict[str, Any] = {"kind": kind, "name": name, "unit": unit}
    excursions = []
    for side, values in zip(SIDES, series):
        values = np.asarray(values, dtype=np.float64)
        usable = rest & np.isfinite(values)
        resting = float(np.median(values[usable])) if usable.any() else math.nan
        away = np.abs(values - resting)
        if math.isfinite(resting) and np.isfinite(away).any():
            peak = int(np.nanargmax(away))
            row.update(
                {
                    f"rest_{side}": resting,
                    f"peak_{side}": float(values[peak]),
                    f"excursion_{side}": float(values[peak] - resting),
                    f"peak_frame_{side}": int(frames[peak]),
                    f"peak_time_{side}": float(times[peak]),
                }
            )
            excursions.append(abs(float(values[peak] - resting)))
        else:
            row[f"rest_{side}"] = resting if math.isfinite(resting) else None
            excursions.append(math.nan)
    left, right = excursions
    if math.isfinite(left) and math.isfinite(right) and max(left, right) > 0:
        row["ratio"] = min(left, right) / max(left, right)
        row["moved_less"] = "equal" if left == right else ("left" if left < right else "right")
        row["difference"] = abs(left - right)
        if affected is not None:
            healthy = right if affected == "left" else left
            row["affected_over_healthy"] = (left if affected == "left" else right) / healthy if healthy > 0 else None
    return row


class AUSeries(NamedTuple):
    """The two mirrored faces' AU scores of ``run()``, frame by frame: ``series`` maps a column to its
    (left-mirrored, right-mirrored) values, NaN where a frame has none."""

    frames: np.ndarray
    timestamps: np.ndarray
    series: dict[str, tuple[np.ndarray, np.ndarray]]


def read_au_series(left_csv: Path, right_csv: Path, columns: Sequence[str]) -> AUSeries:
    """The ``columns`` (those with any value) of ``run()``'s two AU CSVs."""
    tables = [_numeric(path, columns) for path in (left_csv, right_csv)]
    series = {c: (tables[0][c], tables[1][c]) for c in columns if np.isfinite(tables[0][c]).any()}
    return AUSeries(tables[0]["frame"], tables[0]["timestamp"], series)


def au_summary_columns(columns: Sequence[str]) -> list[str]:
    """The AU model's columns worth summarising: continuous scores, not 0/1 presence flags."""
    return [c for c in columns if not c.endswith("_c")]


def summary_files(json_path: Path, csv_path: Path, summary: Mapping[str, Any]) -> list[Any]:
    """``{stem}_summary.json`` and ``.csv`` written under their temporary names (the caller's group renames them)."""
    text = json.dumps(jsonable(summary), indent=2, allow_nan=False) + "\n"
    table = CsvTableWriter(csv_path, COLUMNS)
    try:
        for section in ("measures", "aus"):
            for row in summary.get(section, []):
                table.write(row)
    except BaseException:
        table.abort()
        raise
    return [AtomicFile(json_path, text), table]


def _numeric(path: Path, columns: Sequence[str]) -> dict[str, np.ndarray]:
    wanted = ["frame", "timestamp", *columns]
    values: dict[str, list[float]] = {c: [] for c in wanted}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, skipinitialspace=True):
            for c in wanted:
                cell = (row.get(c) or "").strip()
                values[c].append(float(cell) if cell else math.nan)
    return {c: np.array(v, dtype=np.float64) for c, v in values.items()}


def video_summary(
    result: JobResult, eyes: EyeSeries, settings: Measures, aus: AUSeries | None = None
) -> dict[str, Any]:
    """Everything ``{stem}_summary.json`` holds, from a finished job: its measures, its mirrored faces' AU
    series (:func:`read_au_series`), and its eyes."""
    affected = settings.affected_side
    out: dict[str, Any] = {
        "input": result.input.name,
        "frames": result.frames,
        "frames_without_face": result.frames_without_face,
        "rest_rule": rest_rule(settings),
        "affected_side": affected,
        "face": result.face_report,
    }
    if result.decode is not None and result.decode.damaged:
        out["decoding"] = result.decode.as_dict()
    table = result.measures
    if table is not None:
        out["scale"] = table.scale.as_dict()
        out["rest_frames"] = int(table.rest.sum())
        out["measures"] = [
            compare_sides(
                "measure", name, unit, table.series(name), table.frames, table.timestamps, table.rest, affected
            )
            for name, unit in MEASURES
        ]
    if aus is not None and aus.series:
        seen = np.zeros(len(aus.frames), dtype=bool)
        for left, right in aus.series.values():
            seen |= np.isfinite(left) & np.isfinite(right)
        rest = rest_mask(aus.timestamps, seen, settings)
        out["aus"] = [
            compare_sides("au", name, "score", series, aus.frames, aus.timestamps, rest, affected)
            for name, series in aus.series.items()
        ]
    out["eyes"] = eyes.summary()
    return out
