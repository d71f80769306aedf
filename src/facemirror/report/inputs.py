"""The report's first section: what went in (file, checksum, video facts), what ran (models, engines, versions)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from fractions import Fraction
from html import escape
from typing import Any

from facemirror.report.data import ReportData
from facemirror.report.figures import duration as duration_s
from facemirror.report.markup import key_values, number, table


def provenance_section(data: ReportData) -> str:
    """The input file and its video facts, the scale, the models and what ran them, the software, the parameters."""
    prov = data.provenance
    parts = ['<h2 id="inputs">Input and provenance</h2>', '<div class="columns">']
    parts.append("<div><h3>Input file</h3>" + key_values(_input_rows(prov.get("input") or {}, data)) + "</div>")
    parts.append("<div><h3>Software</h3>" + key_values(_software_rows(prov)) + "</div>")
    parts.append("</div>")
    parts.append("<h3>Models and what ran them</h3>" + _models_table(prov.get("models") or []))
    parameters = prov.get("parameters")
    if parameters:
        text = json.dumps(parameters, indent=2, sort_keys=True, default=str)
        parts.append(
            "<details><summary>Parameters of the run (as in the outputs' provenance sidecars)</summary>"
            f"<pre>{escape(text)}</pre></details>"
        )
    return "<section>" + "".join(parts) + "</section>"


def _input_rows(record: Mapping[str, Any], data: ReportData) -> list[tuple[str, str]]:
    meta = record.get("metadata") or {}
    rows = [("File", f"<b>{escape(str(record.get('name') or data.title))}</b>")]
    if record.get("path"):
        rows.append(("Path", f'<span class="mono">{escape(str(record["path"]))}</span>'))
    if record.get("size_bytes") is not None:
        size = int(record["size_bytes"])
        rows.append(("Size", f"{size / 1e6:.2f} MB ({size:,} bytes)"))
    if record.get("sha256"):
        rows.append(("SHA-256", f'<span class="mono hash">{escape(str(record["sha256"]))}</span>'))
    if meta.get("width"):
        rotation = f", rotated {meta['rotation']}°" if meta.get("rotation") else ""
        rows.append(
            ("Picture", f"{meta['width']} × {meta['height']} px{rotation}, {escape(str(meta.get('codec', '')))}")
        )
    if meta.get("fps"):
        rows.append(("Frame rate", _fps(str(meta["fps"]), meta.get("avg_fps"))))
    times = data.timestamps
    span = duration_s(times)
    duration = meta.get("duration")
    rows.append(
        (
            "Duration",
            f"{number(duration, 's')} s (file); {len(times)} frames analysed over {span:.2f} s"
            if duration is not None
            else f"{len(times)} frames analysed over {span:.2f} s",
        )
    )
    decoding = record.get("decoding") or {}
    if decoding.get("frames_lost") or decoding.get("truncated_at_s") is not None:
        truncated = decoding.get("truncated_at_s")
        stop = f"; undecodable from {truncated:.2f} s" if truncated is not None else ""
        rows.append(("Decoding", f'<span class="warn">{decoding.get("frames_lost", 0)} frames lost{stop}</span>'))
    if data.mm_per_px is not None:
        rows.append(("Scale", f"{data.mm_per_px:.4f} mm per pixel ({escape(data.scale_source)})"))
    return rows


def _fps(nominal: str, average: object) -> str:
    rate = Fraction(nominal)
    text = f"{float(rate):.3f}".rstrip("0").rstrip(".") + f" frames/s ({escape(nominal)})"
    if average and str(average) != nominal:
        text += f"; average {float(Fraction(str(average))):.3f}/s (variable frame rate)"
    return text


def utc(created: object) -> str:
    """A sidecar's ``created_utc`` (ISO 8601) as ``2026-12-04 13:09:34 UTC``."""
    return f"{str(created).replace('T', ' ').removesuffix('+00:00')} UTC" if created else "unknown"


def _software_rows(prov: Mapping[str, Any]) -> list[tuple[str, str]]:
    packages = prov.get("packages") or {}
    command = prov.get("command_line")
    rows = [
        ("facemirror", escape(str(prov.get("facemirror_version", "unknown")))),
        ("Analysed", escape(utc(prov.get("created_utc")))),
        ("Python", escape(str(prov.get("python_version", "")))),
        ("Platform", escape(str(prov.get("platform", "")))),
        ("Packages", escape(", ".join(f"{k} {v}" for k, v in packages.items()))),
    ]
    if command:
        rows.append(("Command", f'<span class="mono">{escape(" ".join(map(str, command)))}</span>'))
    return rows


def _models_table(models: list[Mapping[str, Any]]) -> str:
    if not models:
        return "<p>No model is recorded.</p>"
    rows = []
    for m in models:
        engine = m.get("engine") or {}
        weights = str(m.get("weights") or "").rsplit("/", 1)[-1]
        rows.append(
            [
                escape(str(m.get("name", ""))),
                escape(str(engine.get("model") or m.get("class") or "")),
                escape(" / ".join(str(engine[k]) for k in ("backend", "provider") if engine.get(k)) or "–"),
                escape(str(engine.get("precision") or "–")),
                escape(str(engine.get("device") or "–")),
                escape(weights or "–"),
                f'<span class="mono hash">{escape(str(m.get("sha256") or "–"))}</span>',
            ]
        )
    headers = ["Role", "Network", "Engine (backend / provider)", "Precision", "Device", "Weights file", "SHA-256"]
    return table(headers, rows, "models")
