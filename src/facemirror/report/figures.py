"""The report's plots, drawn with matplotlib's object API on its Agg canvas (no display, no global state) as PNG.

Every side-by-side plot draws the subject's left in blue, solid, and the subject's right in vermilion, dashed
(Okabe-Ito colours: told apart with colour blindness and in grey print).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from facemirror.frame_times import frame_durations
from facemirror.mirror.smoothing import HELD, NONE, TRACKED, TURNED
from facemirror.optional import require

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import LineStyleType

LEFT_COLOUR, RIGHT_COLOUR = "#0072B2", "#D55E00"
#: midline status -> (colour, what it means)
STATUS_STYLE = {
    TRACKED: ("#b8dfb0", "tracked: midline fitted to this frame's face"),
    HELD: ("#f0b13c", "held: no face, last midline kept"),
    TURNED: ("#8e6bbf", "turned: head turned too far for a true split"),
    NONE: ("#c8102e", "none: no face and no midline, not mirrored"),
}
DPI = 100
WIDTH_IN = 11.0
_UNITS = {"mm": "mm", "mm2": "mm²", "deg": "degrees", "score": "score"}


def new_figure(height_in: float) -> Figure:
    """A report-wide figure ``height_in`` inches tall, laid out by matplotlib's constrained layout."""
    require("matplotlib", "the HTML report")
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="constrained")


def png(fig: Figure) -> bytes:
    """``fig`` as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def duration(times: np.ndarray) -> float:
    """Seconds from the first frame's start to the last frame's end."""
    return float(frame_steps(times).sum()) if len(times) else 0.0


def frame_steps(times: np.ndarray) -> np.ndarray:
    """How long each frame lasts (s) on a time axis: a lone frame (a photo) one second, to be seen."""
    return frame_durations(times, lone_s=1.0)


def status_runs(status: Sequence[str]) -> list[tuple[str, int, int]]:
    """``(status, first index, end index)`` of each run of equal consecutive statuses."""
    runs: list[tuple[str, int, int]] = []
    for i, value in enumerate(status):
        if runs and runs[-1][0] == value:
            runs[-1] = (value, runs[-1][1], i + 1)
        else:
            runs.append((value, i, i + 1))
    return runs


def midline_strip(times: np.ndarray, status: Sequence[str]) -> bytes:
    """One horizontal band over time, coloured by each frame's midline status, with a legend."""
    times = np.asarray(times, dtype=np.float64)
    steps = frame_steps(times)
    fig = new_figure(1.9)
    ax = fig.add_subplot()
    for name, (colour, meaning) in STATUS_STYLE.items():
        bars = [
            (times[a], float(times[b - 1] + steps[b - 1] - times[a])) for s, a, b in status_runs(status) if s == name
        ]
        count = sum(1 for s in status if s == name)
        ax.broken_barh(bars, (0, 1), facecolors=colour, label=f"{meaning} ({count} frames)")
    ax.set_xlim(times[0], times[-1] + steps[-1])
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_xlabel("time (s)")
    fig.legend(loc="outside lower center", ncols=2, frameon=False, fontsize=9)
    return png(fig)


def most_active(traces: Mapping[str, tuple[np.ndarray, np.ndarray]], n: int) -> list[tuple[str, float]]:
    """The ``n`` traces with the largest range (highest minus lowest value, the larger of the two sides), largest
    first, as (name, range); traces that never change are left out."""
    ranges = []
    for name, pair in traces.items():
        spans = [np.nanmax(v) - np.nanmin(v) for v in map(np.asarray, pair) if np.isfinite(v).any()]
        if spans and max(spans) > 0:
            ranges.append((name, float(max(spans))))
    return sorted(ranges, key=lambda item: -item[1])[:n]


def side_traces(
    times: np.ndarray,
    series: Mapping[str, tuple[np.ndarray, np.ndarray]],
    titles: Mapping[str, str],
    units: Mapping[str, str],
    summary: Mapping[str, Mapping[str, Any]],
    side_labels: tuple[str, str],
    status: Sequence[str],
    columns: int = 2,
) -> bytes:
    """Small multiples, one panel per series: left and right over time, each side's rest level (dotted) and peak
    (marker) from its ``summary`` row when there is one; grey bands where the midline ``status`` is not tracked."""
    times = np.asarray(times, dtype=np.float64)
    columns = max(1, min(columns, len(series)))  # one series: one full-width panel, no empty column
    rows = max(1, math.ceil(len(series) / columns))
    fig = new_figure(0.45 + 2.0 * rows)
    axes = fig.subplots(rows, columns, squeeze=False, sharex=True)
    steps = frame_steps(times)
    untracked = [(times[a], times[b - 1] + steps[b - 1]) for s, a, b in status_runs(status) if s != TRACKED]
    for ax, (name, pair) in zip(axes.flat, series.items()):
        for start, end in untracked:
            ax.axvspan(start, end, color="#d9d9d9", alpha=0.6, linewidth=0)
        _panel(ax, times, name, pair, titles.get(name, ""), units.get(name, ""), summary.get(name, {}))
    for ax in axes.flat[len(series) :]:
        ax.set_visible(False)
    for column in axes.T:  # time ticks under the lowest panel of each column, also above an empty place
        lowest = [ax for ax in column if ax.get_visible()][-1]
        lowest.xaxis.set_tick_params(labelbottom=True)
        lowest.set_xlabel("time (s)")
    handles = [
        _line(LEFT_COLOUR, "-", side_labels[0]),
        _line(RIGHT_COLOUR, "--", side_labels[1]),
        _line("#555555", ":", "rest level"),
        _line("#555555", "none", "largest change from rest", marker="o"),
        _band("#d9d9d9", "midline not tracked"),
    ]
    wide = sum(len(h.get_label()) for h in handles) > 100  # long side labels: two rows, or the legend is cut off
    fig.legend(handles=handles, loc="outside upper center", ncols=3 if wide else len(handles), frameon=False)
    return png(fig)


def _panel(
    ax: Axes,
    times: np.ndarray,
    name: str,
    pair: tuple[np.ndarray, np.ndarray],
    title: str,
    unit: str,
    row: Mapping[str, Any],
) -> None:
    marker = "." if len(times) < 50 else None
    for side, values, colour, style in (("left", pair[0], LEFT_COLOUR, "-"), ("right", pair[1], RIGHT_COLOUR, "--")):
        values = np.asarray(values, dtype=np.float64)
        ax.plot(times, values, color=colour, linestyle=style, linewidth=1.4, marker=marker)
        rest = row.get(f"rest_{side}")
        if rest is not None and math.isfinite(rest):
            ax.axhline(rest, color=colour, linestyle=":", linewidth=1.0, alpha=0.8)
        peak = row.get(f"peak_frame_{side}")
        if peak is not None and 1 <= peak <= len(times) and math.isfinite(values[peak - 1]):
            ax.plot([times[peak - 1]], [values[peak - 1]], marker="o", color=colour, markersize=6, linestyle="")
    if not any(np.isfinite(np.asarray(v, dtype=np.float64)).any() for v in pair):
        ax.text(0.5, 0.5, "no value in any frame", transform=ax.transAxes, ha="center", va="center", color="#777")
    ax.set_title(f"{title}  ({name})" if title else name, fontsize=10, loc="left")
    ax.set_ylabel(_UNITS.get(unit, unit))
    ax.grid(True, color="#e4e4e4", linewidth=0.6)
    ax.tick_params(labelsize=9)


def _line(colour: str, style: LineStyleType, label: str, marker: str = "") -> Any:
    from matplotlib.lines import Line2D

    return Line2D([], [], color=colour, linestyle=style, marker=marker or None, label=label)


def _band(colour: str, label: str) -> Any:
    from matplotlib.patches import Patch

    return Patch(facecolor=colour, alpha=0.6, label=label)
