"""A finished ``run()``'s results as :class:`ReportData`: its measures, AU traces, summary, key frames and warnings."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from facemirror.asymmetry.heatmap import SIGNED_LEGEND
from facemirror.measures import NAMES
from facemirror.measures.rest import rest_rule
from facemirror.report.data import ReportData, ReportFrame
from facemirror.results import JobResult
from facemirror.settings import ASSUMED_IPD_MM, Measures


def _scale_note(method: str, settings: Measures) -> str | None:
    """What the scale ``method`` means for the millimetres, when it is worth a warning."""
    if method == "iris":
        return (
            f"Millimetres are scaled by the iris ({settings.iris_mm:g} mm across). The face mesh's iris ring measured "
            "about 0.9 of the visible iris on real faces, so lengths may read up to ~10% low; give the subject's "
            "pupil distance (--ipd-mm) or a known scale (--mm-per-px) for absolute values. Ratios between the sides "
            "do not depend on the scale."
        )
    if method == "assumed":
        return (
            f"No iris was measured: millimetres assume a {ASSUMED_IPD_MM:g} mm pupil distance. Give --ipd-mm or "
            "--mm-per-px for absolute values; ratios between the sides do not depend on the scale."
        )
    if method == "none":
        return "No pupils were measured, so there is no scale: lengths are empty. Give --mm-per-px."
    return None


def job_report(
    result: JobResult,
    provenance: Mapping[str, Any],
    statuses: Sequence[str],
    au_traces: Mapping[str, tuple[np.ndarray, np.ndarray]],
    settings: Measures,
) -> ReportData:
    """The report of ``result`` (a ``run()`` with measures): ``statuses`` is the midline status of every frame,
    ``au_traces`` the mirrored faces' AU series by column, ``provenance`` what its sidecars record."""
    table = result.measures
    if table is None:
        raise ValueError("a report needs the job's measures (run() or measure())")
    summary = result.video_summary
    key_frames = [
        ReportFrame(
            k.frame,
            k.timestamp,
            f"the largest difference between the sides in this part of the video: {k.measure} "
            f"({100 * k.score:.1f}% of the pupil distance)",
            k.original,
            k.left_mirrored,
            k.right_mirrored,
            k.heatmap,
        )
        for k in table.key_frames
    ]
    return ReportData(
        title=result.input.name,
        provenance=provenance,
        timestamps=table.timestamps,
        midline_status=list(statuses),
        measures={name: table.series(name) for name in NAMES},
        au_traces=au_traces,
        summary_rows=[*summary.get("measures", []), *summary.get("aus", [])],
        eyes=summary.get("eyes"),
        key_frames=key_frames,
        notes=notes(result, settings),
        mm_per_px=table.scale.mm_per_px if math.isfinite(table.scale.mm_per_px) else None,  # NaN: no scale
        scale_source=table.scale.source,
        rest_rule=rest_rule(settings),
        affected_side=settings.affected_side,
        heatmap_legend=SIGNED_LEGEND if any(k.heatmap is not None for k in key_frames) else "",
    )


def notes(result: JobResult, settings: Measures) -> list[str]:
    """What to read before the numbers: lost frames, frames without the subject's face, a small face, the scale
    (``settings``: the job's measures settings, e.g. its iris diameter)."""
    out = []
    if result.decode is not None and result.decode.damaged:
        out.append(f"The input is damaged: {result.decode.describe()}.")
    if result.frames_without_face:
        out.append(
            f"{result.frames_without_face} of {result.frames} frames have no face of the subject: they have no "
            "measures or AU values (success = 0 in the tables)."
        )
    ignored = result.face_report.get("frames_with_other_faces_ignored", 0)
    if ignored:
        out.append(f"Another person's face was in view and ignored in {ignored} frames; only the subject is measured.")
    size = result.face_report.get("face_size") or {}
    if size.get("small"):
        out.append(
            f"The face is small (median width {size['median_px']:.0f} px, under {size['small_below_px']:g} px): "
            "the midline and the measures are less precise (docs/far-faces.md)."
        )
    note = _scale_note(result.measures.scale.method, settings) if result.measures is not None else None
    if note:
        out.append(note)
    return out
