"""The report's result sections, each from :class:`ReportData` to an HTML fragment with its figures inlined."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from facemirror.measures.geometry import MEASURES
from facemirror.mirror.smoothing import TRACKED
from facemirror.report import figures
from facemirror.report.data import ReportData, ReportFrame
from facemirror.report.markup import SIDE_WORDS, figure, image_png, img, number, table, unit_text

#: what each measure is, for people (docs/measures.md defines them)
MEASURE_TITLES = {
    "brow_height_mm": "Brow height above the pupil",
    "mrd1_mm": "MRD1: pupil to upper lid",
    "mrd2_mm": "MRD2: pupil to lower lid",
    "palpebral_fissure_mm": "Palpebral fissure",
    "commissure_height_mm": "Mouth corner below the pupils' line",
    "commissure_excursion_mm": "Commissure excursion",
    "smile_angle_deg": "Smile angle",
    "lip_opening_area_mm2": "Lip opening area, own side of the midline",
}
MEASURE_UNITS = dict(MEASURES)
#: runs of a status listed in the midline caption before "and N more"
_LISTED_RUNS = 6


def notes_section(data: ReportData) -> str:
    """Warnings to read before the numbers (damaged input, small face, frames without a face), if any."""
    if not data.notes:
        return ""
    items = "".join(f"<li>{escape(note)}</li>" for note in data.notes)
    return f'<section class="notes" id="notes"><h2>Read first</h2><ul>{items}</ul></section>'


def midline_section(data: ReportData) -> str:
    """The strip of midline statuses over time and, in words, how many frames and when each status happened."""
    strip = figures.midline_strip(data.timestamps, data.midline_status)
    times, steps = data.timestamps, figures.frame_steps(data.timestamps)
    runs = figures.status_runs(data.midline_status)
    words = []
    for status in figures.STATUS_STYLE:
        count = sum(1 for s in data.midline_status if s == status)
        if not count:
            continue
        share = 100.0 * count / len(data.midline_status)
        text = f"{status}: {count} frames ({share:.1f}%)"
        if status != TRACKED:
            spans = [f"{times[a]:.2f}–{times[b - 1] + steps[b - 1]:.2f} s" for s, a, b in runs if s == status]
            more = f" and {len(spans) - _LISTED_RUNS} more" if len(spans) > _LISTED_RUNS else ""
            text += " at " + ", ".join(spans[:_LISTED_RUNS]) + more
        words.append(text)
    caption = (
        "Midline quality over time: each frame coloured by how its midline was obtained. Green frames were split "
        "on a midline fitted to that frame's face; held frames reuse the last midline for a short gap without a "
        "face; turned frames are mirrored but the head is turned too far for a true left/right split; frames "
        "with none are not mirrored and have no measures. " + "; ".join(words) + "."
    )
    return (
        '<section><h2 id="midline">Midline quality</h2>'
        + figure(img(strip, "midline status over time", "plot", "fig-midline"), caption)
        + "</section>"
    )


def measures_section(data: ReportData, rows: Mapping[str, Mapping[str, Any]]) -> str:
    """Small multiples of every clinical measure, subject's left against right, with rest levels and peaks."""
    scale = (
        f" Millimetres at {data.mm_per_px:.4f} mm per pixel ({data.scale_source})."
        if data.mm_per_px is not None
        else ""
    )
    rest = f" Rest level: the median over {data.rest_rule}." if data.rest_rule else ""
    caption = (
        "Clinical measures per frame, each side in its own frame of reference set by the facial midline. "
        "Blue solid: subject's left; vermilion dashed: subject's right. Dotted lines: each side's rest level; "
        "dots: each side's largest change from rest. Grey bands: frames whose midline was held, turned or missing; "
        "gaps: frames without a face." + scale + rest
    )
    head = '<section><h2 id="measures">Measures, left against right</h2>'
    if not data.measures:
        return head + "<p>No measure was computed.</p></section>"
    plot = figures.side_traces(
        data.timestamps,
        data.measures,
        MEASURE_TITLES,
        {name: MEASURE_UNITS.get(name, "") for name in data.measures},
        rows,
        ("subject's left", "subject's right"),
        data.midline_status,
    )
    return (
        head
        + figure(img(plot, "clinical measures over time, left and right", "plot", "fig-measures"), caption)
        + "</section>"
    )


def aus_section(data: ReportData, rows: Mapping[str, Mapping[str, Any]], chosen: Sequence[tuple[str, float]]) -> str:
    """Traces of the most active AUs or blendshapes on the two mirrored faces, and how they were chosen."""
    head = '<section><h2 id="aus">Most active action units / blendshapes</h2>'
    if not chosen:
        return head + "<p>No AU or blendshape score changed over the video.</p></section>"
    series = {name: data.au_traces[name] for name, _ in chosen}
    plot = figures.side_traces(
        data.timestamps,
        series,
        {},
        dict.fromkeys(series, "score"),
        rows,
        ("left-mirrored face (subject's left half)", "right-mirrored face (subject's right half)"),
        data.midline_status,
    )
    ranked = ", ".join(f"{name} ({span:.3g})" for name, span in chosen)
    caption = (
        f"The {len(chosen)} of {len(data.au_traces)} AU / blendshape scores with the largest range over the video "
        "(highest minus lowest value, on whichever mirrored face ranged more), largest first: "
        f"{ranked}. Each score was computed on the left-mirrored face (built from the subject's left half, blue "
        "solid) and on the right-mirrored face (subject's right half, vermilion dashed)."
    )
    return head + figure(img(plot, "most active AU scores over time", "plot", "fig-aus"), caption) + "</section>"


def summary_section(data: ReportData, chosen: Sequence[str]) -> str:
    """The per-video summary: rest, largest change from rest and its frame per side, and how the sides compare."""
    affected = data.affected_side
    headers = [
        "Item",
        "Rest, L",
        "Rest, R",
        "Largest change, L (frame)",
        "Largest change, R (frame)",
        "Smaller / larger change",
        "Moved less",
        "By",
    ]
    if affected:
        headers.append(f"Affected ({SIDE_WORDS[affected]}) / healthy")
    measures = [r for r in data.summary_rows if r.get("kind", "measure") == "measure"]
    aus = {r["name"]: r for r in data.summary_rows if r.get("kind") == "au"}
    rule = f" Rest: the median over {data.rest_rule}." if data.rest_rule else ""
    caption_text = (
        "L: subject's left, R: subject's right. Largest change: the value farthest from rest minus rest, and the "
        "frame where it happened. Smaller / larger change: the smaller side's change over the larger side's "
        "(1.00: both sides moved alike)." + rule
    )
    parts = ['<section><h2 id="summary">Summary per measure</h2>', f"<p class='caption'>{escape(caption_text)}</p>"]
    parts.append(table(headers, (_summary_cells(r, affected) for r in measures), "summary", "Clinical measures"))
    if aus:
        top = [aus[name] for name in chosen if name in aus]
        parts.append(table(headers, (_summary_cells(r, affected) for r in top), "summary", "Most active AU scores"))
        if len(aus) > len(top):
            all_rows = table(headers, (_summary_cells(r, affected) for r in aus.values()), "summary")
            parts.append(f"<details><summary>All {len(aus)} AU / blendshape scores</summary>{all_rows}</details>")
    return "".join(parts) + "</section>"


def _summary_cells(row: Mapping[str, Any], affected: str | None) -> list[str]:
    unit = str(row.get("unit") or "")
    name = str(row.get("name", ""))
    title = MEASURE_TITLES.get(name)
    item = f"{escape(title)}<br><span class='mono small'>{escape(name)}</span>" if title else escape(name)
    if unit and unit != "score":
        item += f" <span class='small'>({escape(unit_text(unit))})</span>"
    cells = [item, number(row.get("rest_left"), unit), number(row.get("rest_right"), unit)]
    for side in ("left", "right"):
        change = row.get(f"excursion_{side}")
        frame = row.get(f"peak_frame_{side}")
        sign = "+" if isinstance(change, (int, float)) and change > 0 else ""
        cells.append(f"{sign}{number(change, unit)}" + (f" ({frame})" if frame is not None else ""))
    moved_less = row.get("moved_less")
    cells += [
        number(row.get("ratio"), "ratio"),
        escape(SIDE_WORDS.get(str(moved_less), "–")) if moved_less else "–",
        number(row.get("difference"), unit, with_unit=True),
    ]
    if affected:
        cells.append(number(row.get("affected_over_healthy"), "ratio"))
    return cells


def eyes_section(eyes: Mapping[str, Any] | None) -> str:
    """Per-eye blinks and ocular synkinesis as two tables, when the summary has them."""
    if not eyes:
        return ""
    parts = ['<section><h2 id="eyes">Eyes</h2>']
    blinks = eyes.get("blinks")
    if blinks:
        left, right, compared = blinks.get("left", {}), blinks.get("right", {}), blinks.get("comparison", {})
        rows = []
        for key, label, unit in _BLINK_ROWS:
            pair = compared.get(key) or {}
            smaller = pair.get("smaller")
            rows.append(
                [
                    escape(label),
                    number(left.get(key), unit),
                    number(right.get(key), unit),
                    number(pair.get("ratio"), "ratio") if pair else "",
                    escape(SIDE_WORDS.get(str(smaller), "–")) if pair and smaller else ("–" if pair else ""),
                ]
            )
        headers = ["", "Subject's left eye", "Subject's right eye", "Smaller / larger", "Smaller value"]
        parts.append(table(headers, rows, "eyes", "Blinks"))
    synkinesis = eyes.get("ocular_synkinesis")
    if synkinesis:
        left, right = synkinesis.get("left", {}), synkinesis.get("right", {})
        rows = [[escape(label), number(left.get(k), u), number(right.get(k), u)] for k, label, u in _SYNKINESIS_ROWS]
        parts.append(
            table(["", "Subject's left", "Subject's right"], rows, "eyes", "Ocular synkinesis")
            + "<p class='caption'>How much each eye narrows while the mouth corner on the same side moves away "
            "from rest. Narrowing: mean of 1 − aperture / rest aperture over the frames with the corner away "
            "from rest; slope: narrowing per inner-canthal distance of corner movement; correlation: how "
            "consistently the eye follows the corner (Pearson's r).</p>"
        )
    return "".join(parts) + "</section>"


_BLINK_ROWS = (
    ("blinks", "Blinks", ""),
    ("complete_blinks", "Complete blinks", ""),
    ("observed_s", "Time the eye was seen (s)", "s"),
    ("rate_per_min", "Blinks per minute", "ratio"),
    ("mean_duration_s", "Mean blink duration (s)", "s"),
    ("complete_share", "Share of complete blinks", "ratio"),
    ("min_ear", "Smallest opening (eye aspect ratio)", "score"),
    ("max_closure", "Deepest closure (0 open, 1 shut)", "ratio"),
)
_SYNKINESIS_ROWS = (
    ("active_frames", "Frames with the corner away from rest", ""),
    ("rest_frames", "Frames with the corner at rest", ""),
    ("rest_aperture", "Rest aperture (eye aspect ratio)", "score"),
    ("narrowing", "Narrowing", "ratio"),
    ("slope", "Slope", "ratio"),
    ("correlation", "Correlation", "ratio"),
)


def key_frames_section(data: ReportData) -> str:
    """At each key frame, the face as recorded, both mirrored faces and the asymmetry map, side by side."""
    if not data.key_frames:
        return ""
    selfie = bool((data.provenance.get("parameters") or {}).get("selfie"))
    orientation = (
        "a selfie (mirrored) recording: the subject's left is on the picture's left"
        if selfie
        else "the subject's left is on the picture's right, as a camera sees a person facing it"
    )
    legend = f" Heat map: {data.heatmap_legend}" if data.heatmap_legend else ""
    intro = (
        "The same face region at each frame, as recorded and as the two mirrored faces the AU scores were "
        f"computed on. Pictures are as recorded: {orientation}.{legend}"
    )
    frames = "".join(_key_frame(k, i, selfie) for i, k in enumerate(data.key_frames, start=1))
    return f"<section><h2 id=\"frames\">Key frames</h2><p class='caption'>{escape(intro)}</p>{frames}</section>"


def _key_frame(frame: ReportFrame, index: int, selfie: bool) -> str:
    right, left, mirror = "subject's right", "subject's left", "mirror image"
    pictures = [
        (frame.original, "As recorded", (right, left)),
        (frame.left_mirrored, "Left-mirrored face: two subject's left halves", (mirror, left)),
        (frame.right_mirrored, "Right-mirrored face: two subject's right halves", (right, mirror)),
        (frame.heatmap, "Asymmetry map", (right, left)),
    ]
    cells = []
    for picture, caption, (near, far) in pictures:
        body = (
            img(image_png(picture), caption, "face")
            if picture is not None
            else '<div class="face missing">not computed</div>'
        )
        if selfie:  # a mirrored recording shows each side where the other would be
            near, far = far, near
        body += f'<div class="sides"><span>◀ {escape(near)}</span><span>{escape(far)} ▶</span></div>'
        cells.append(figure(body, caption, css="face"))
    head = f"<h3>Frame {frame.frame} · {frame.timestamp:.2f} s</h3><p>{escape(frame.why)}</p>"
    return f'<div class="keyframe" id="keyframe-{index}">{head}<div class="faces">{"".join(cells)}</div></div>'
