"""``job_report``: the scale a job's measures used, in the report's notes and scale lines."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from facemirror import Measures
from facemirror.measures import MEASURES, MeasureTable, Scale
from facemirror.report.from_job import job_report


def _result(scale: Scale) -> Any:
    """A finished job's results, as far as the report reads them: three measured frames."""
    n = 3
    table = MeasureTable(
        np.arange(1, n + 1), np.arange(n) / 30, np.ones(n, bool), np.ones((n, len(MEASURES), 2)), scale, np.ones(n)
    )
    return SimpleNamespace(
        measures=table,
        video_summary={},
        input=Path("clip.mp4"),
        decode=None,
        frames=n,
        frames_without_face=0,
        face_report={},
    )


def test_the_iris_note_gives_the_iris_diameter_the_scale_used() -> None:
    settings = Measures(iris_mm=12.5)
    data = job_report(
        _result(Scale(0.3, "iris", "iris diameter 12.5 mm over its median 41.67 px")), {}, ["tracked"] * 3, {}, settings
    )
    (note,) = [n for n in data.notes if "scaled by the iris" in n]
    assert "12.5 mm across" in note and "11.77" not in note


def test_without_a_scale_the_report_gives_none() -> None:
    scale = Scale(math.nan, "none", "none: no pupils were measured (give mm_per_px)")
    data = job_report(_result(scale), {}, ["tracked"] * 3, {}, Measures())
    assert data.mm_per_px is None  # not "nan mm per pixel"
    assert any("there is no scale" in n for n in data.notes)
