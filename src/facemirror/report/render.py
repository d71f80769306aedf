"""Write the per-video report: one self-contained HTML file (pictures inlined, no script, nothing fetched)."""

from __future__ import annotations

from html import escape
from pathlib import Path

import numpy as np

from facemirror.atomic import OutputGroup, write_file
from facemirror.optional import require
from facemirror.report import figures, sections
from facemirror.report.data import ReportData
from facemirror.report.inputs import provenance_section, utc

#: AU or blendshape traces plotted (and listed first in the summary), the most active ones
TOP_AUS = 8
#: the browser may load nothing but the page's own inline pictures and styles: opening a report never goes online
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

_CSS = """
:root { --left: #0072B2; --right: #D55E00; --ink: #1d2733; --muted: #5b6673; --rule: #d9dee4; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f6f8; color: var(--ink);
  font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1160px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header .sub { color: var(--muted); margin: 0 0 12px; }
.key { display: flex; flex-wrap: wrap; gap: 18px; margin: 8px 0 4px; font-size: 14px; }
.swatch { display: inline-block; width: 28px; height: 0; vertical-align: middle; margin-right: 6px;
  border-top: 3px solid; }
.swatch.l { border-color: var(--left); } .swatch.r { border-color: var(--right); border-top-style: dashed; }
nav { margin: 12px 0 8px; padding: 8px 0; border-top: 1px solid var(--rule); border-bottom: 1px solid var(--rule);
  font-size: 14px; }
nav a { margin-right: 16px; color: #1f5f99; text-decoration: none; }
h2 { margin: 32px 0 10px; padding-bottom: 4px; font-size: 20px; border-bottom: 2px solid var(--ink); }
h3 { margin: 18px 0 6px; font-size: 16px; }
section.notes { margin: 16px 0; padding: 8px 18px; background: #fff6e0; border-left: 5px solid #e0a000; }
section.notes h2 { border: 0; margin: 4px 0; font-size: 17px; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
figure { margin: 8px 0 16px; }
figure img.plot { display: block; width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption, .caption { color: var(--muted); font-size: 13.5px; margin-top: 6px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; font-size: 13.5px;
  font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
thead th { background: #eef1f4; font-weight: 600; }
table.summary td:not(:first-child), table.eyes td:not(:first-child) { text-align: right; white-space: nowrap; }
table.summary th:not(:first-child), table.eyes th:not(:first-child) { text-align: right; }
table.eyes { max-width: 780px; }
.sides { display: flex; justify-content: space-between; font-size: 12px; color: var(--muted); }
tbody tr:nth-child(even) { background: #fafbfc; }
table.kv th { width: 30%; color: var(--muted); font-weight: 500; }
.mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
.hash { word-break: break-all; }
.small { font-size: 12px; color: var(--muted); }
.warn { color: #a33a00; font-weight: 600; }
details { margin: 8px 0 14px; } summary { cursor: pointer; color: #1f5f99; }
pre { background: #f6f8fa; padding: 10px; overflow-x: auto; font-size: 12px; }
.keyframe { margin: 14px 0 22px; padding-top: 4px; border-top: 1px solid var(--rule); }
.keyframe p { margin: 0 0 8px; color: var(--muted); }
.faces { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; align-items: start; }
.faces figure { margin: 0; }
.faces img.face { display: block; width: 100%; height: auto; border: 1px solid var(--rule);
  image-rendering: auto; }
.faces .missing { display: flex; align-items: center; justify-content: center; aspect-ratio: 1;
  background: #f0f0f0; color: var(--muted); }
footer { margin-top: 36px; color: var(--muted); font-size: 12.5px; border-top: 1px solid var(--rule);
  padding-top: 8px; }
"""


def render_report(data: ReportData, top_aus: int = TOP_AUS) -> str:
    """The report of ``data`` as one HTML document (see :func:`write_report`)."""
    require("matplotlib", "the HTML report")
    rows = {str(r.get("name")): r for r in data.summary_rows}
    chosen = figures.most_active(data.au_traces, top_aus)
    body = "".join(
        [
            _header(data),
            sections.notes_section(data),
            provenance_section(data),
            sections.midline_section(data),
            sections.measures_section(data, rows),
            sections.aus_section(data, rows, chosen),
            sections.summary_section(data, [name for name, _ in chosen]),
            sections.eyes_section(data.eyes),
            sections.key_frames_section(data),
            "<footer>Written by facemirror "
            f"{escape(str(data.provenance.get('facemirror_version', '')))}. Sides are the subject's own. "
            "The numbers describe how the two sides moved; they are not a diagnosis.</footer>",
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>facemirror report: {escape(data.title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def write_report(path: str | Path, data: ReportData, group: OutputGroup | None = None, top_aus: int = TOP_AUS) -> Path:
    """Write the report of ``data`` to ``path`` (``{stem}_report.html``) atomically; returns ``path``.

    With ``group`` (the job's :class:`~facemirror.atomic.OutputGroup`) the file is finished under its temporary
    name now and renamed with the job's other outputs. ``top_aus`` AU or blendshape traces are plotted: those
    with the largest range. Raises :class:`~facemirror.errors.MissingExtraError` without matplotlib (the
    ``report`` extra) and :class:`~facemirror.errors.OutputError` when the file cannot be written.
    """
    return write_file(path, render_report(data, top_aus), group)


def _header(data: ReportData) -> str:
    times = data.timestamps
    span = figures.duration(times)
    measured = np.zeros(len(times), dtype=bool)
    for left, right in data.measures.values():
        measured |= np.isfinite(left) | np.isfinite(right)
    facts = f"{len(times)} frames over {span:.2f} s; {int(measured.sum())} with measures"
    if data.provenance.get("created_utc"):
        facts += f"; analysed {utc(data.provenance['created_utc'])}"
    links = [("inputs", "Input"), ("midline", "Midline"), ("measures", "Measures"), ("aus", "AUs"),
             ("summary", "Summary")]  # fmt: skip
    if data.eyes:
        links.append(("eyes", "Eyes"))
    if data.key_frames:
        links.append(("frames", "Key frames"))
    nav = "".join(f'<a href="#{anchor}">{label}</a>' for anchor, label in links)
    return (
        f"<header><h1>Facial asymmetry report: {escape(data.title)}</h1><p class='sub'>{escape(facts)}</p>"
        "<div class='key'><span><span class='swatch l'></span>subject's left</span>"
        "<span><span class='swatch r'></span>subject's right</span>"
        "<span>Left and right are always the subject's own sides.</span></div>"
        f"<nav>{nav}</nav></header>"
    )
