"""What the per-video HTML report shows, as plain data: series, summary rows, key-frame pictures, provenance.

The pipeline fills a :class:`ReportData` at the end of a job; :func:`facemirror.report.write_report` turns it into
one self-contained HTML file. Nothing here knows how the numbers were computed, so the report can be drawn again
from saved outputs. Sides are always the subject's own (``left`` = subject's left), as in every facemirror table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ReportFrame:
    """One key frame: the face as recorded, its two mirrored faces and the asymmetry map, crops of one region.

    ``frame`` counts from 1 (as in the CSVs); ``why`` says why this frame was chosen ("largest brow_height_mm
    asymmetry"). Every image is BGR uint8 (OpenCV's order); ``heatmap`` (None when not computed) is a colour
    picture of the same region.
    """

    frame: int
    timestamp: float
    why: str
    original: np.ndarray
    left_mirrored: np.ndarray
    right_mirrored: np.ndarray
    heatmap: np.ndarray | None = None


@dataclass(frozen=True)
class ReportData:
    """Everything the report of one video shows; per-frame arrays all have one value per frame of ``timestamps``.

    ``measures`` and ``au_traces`` map a name to its (subject's left, subject's right) series, NaN where there
    is no value; for ``au_traces`` the sides are the left-mirrored and the right-mirrored faces.
    ``summary_rows`` are the rows of ``{stem}_summary.json`` (``kind`` "measure" or "au", ``name``, ``unit``,
    ``rest_*``, ``peak_*``, ``excursion_*``, ``peak_frame_*``, ``ratio``, ``moved_less``, ``difference``,
    ``affected_over_healthy``; any may be missing or None). ``eyes`` is the summary's ``eyes`` section
    (``blinks`` with ``left``, ``right``, ``comparison``; ``ocular_synkinesis`` per side). ``notes`` are warnings
    shown at the top (a damaged input, a small face, frames without a face). ``heatmap_legend`` says what the
    key frames' heat-map colours mean.
    """

    title: str
    provenance: Mapping[str, Any]
    timestamps: np.ndarray
    midline_status: Sequence[str]
    measures: Mapping[str, tuple[np.ndarray, np.ndarray]]
    au_traces: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    summary_rows: Sequence[Mapping[str, Any]] = ()
    eyes: Mapping[str, Any] | None = None
    key_frames: Sequence[ReportFrame] = ()
    notes: Sequence[str] = ()
    mm_per_px: float | None = None
    scale_source: str = ""
    rest_rule: str = ""
    affected_side: str | None = None
    heatmap_legend: str = ""

    def __post_init__(self) -> None:
        frames = len(self.timestamps)
        if len(self.midline_status) != frames:
            raise ValueError(f"midline_status has {len(self.midline_status)} values for {frames} frames")
        for kind, series in (("measures", self.measures), ("au_traces", self.au_traces)):
            for name, (left, right) in series.items():
                if len(left) != frames or len(right) != frames:
                    raise ValueError(f"{kind}[{name!r}] has {len(left)}/{len(right)} values for {frames} frames")
