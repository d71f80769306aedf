"""Per-eye blink summary and the blinks CSV, on synthetic eyes with known blinks."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from blink_series import TrueBlink, detector_closure, ear_series
from facemirror.blinks import BLINK_COLUMNS, find_blinks, summarize_blinks, write_blinks_csv
from facemirror.errors import OutputError
from fs_fixtures import unwritable_folder

FPS = 30.0


@pytest.fixture(scope="module")
def eyes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times, left EAR, right EAR) over 60 s: left blinks 10 times fully; right 5 times, half-way, unseen 10 s."""
    left = [TrueBlink(2.0 + 6 * i, 1.0) for i in range(10)]
    right = [TrueBlink(2.3 + 6 * i, 0.5) for i in range(0, 10, 2)]
    t, ear_left = ear_series(FPS, 60.0, left, seed=1)
    _, ear_right = ear_series(FPS, 60.0, right, seed=2, gaps=[(39.0, 49.0)])
    return t, ear_left, ear_right


def test_summary_per_eye_and_comparison(eyes: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    t, ear_left, ear_right = eyes
    left, right = find_blinks(ear_left, FPS, timestamps=t), find_blinks(ear_right, FPS, timestamps=t)
    summary = summarize_blinks(ear_left, ear_right, left, right, t)
    a, b = summary.left, summary.right
    assert (a.blinks, a.complete_blinks, b.blinks, b.complete_blinks) == (10, 10, 5, 0)
    assert a.observed_s == pytest.approx(60.0, abs=0.05) and b.observed_s == pytest.approx(50.0, abs=0.05)
    assert a.rate_per_min == pytest.approx(10.0, rel=0.01) and b.rate_per_min == pytest.approx(6.0, rel=0.01)
    assert a.complete_share == 1.0 and b.complete_share == 0.0
    assert a.mean_duration_s == pytest.approx(0.16, abs=0.03) and b.mean_duration_s == pytest.approx(0.16, abs=0.03)
    assert a.max_closure == pytest.approx(detector_closure(1.0), abs=0.05)
    assert b.max_closure == pytest.approx(detector_closure(0.5), abs=0.05)
    assert a.min_ear == pytest.approx(np.nanmin(ear_left)) and b.min_ear == pytest.approx(np.nanmin(ear_right))
    c = summary.comparison
    assert c["rate_per_min"].smaller == "right" and c["rate_per_min"].ratio == pytest.approx(0.6, rel=0.02)
    assert c["complete_share"].smaller == "right" and c["complete_share"].ratio == 0.0
    assert c["max_closure"].smaller == "right" and c["max_closure"].ratio == pytest.approx(0.5, abs=0.05)
    assert 0.8 < (c["mean_duration_s"].ratio or 0.0) <= 1.0
    plain = json.loads(json.dumps(summary.to_dict()))
    assert plain["left"]["blinks"] == 10 and plain["comparison"]["rate_per_min"]["smaller"] == "right"


def test_summary_without_blinks_or_face() -> None:
    t = np.arange(90) / FPS
    ear = np.full(90, 0.3)
    summary = summarize_blinks(ear, np.full(90, np.nan), [], [], t)
    assert summary.left.rate_per_min == 0.0 and summary.left.mean_duration_s is None
    assert summary.right.observed_s == 0.0 and summary.right.rate_per_min is None and summary.right.min_ear is None
    assert summary.comparison["rate_per_min"].ratio is None and summary.comparison["complete_share"].ratio is None
    json.dumps(summary.to_dict())
    with pytest.raises(ValueError, match="timestamps"):
        summarize_blinks(ear, ear, [], [], t[:10])


def test_blinks_csv_rows(eyes: tuple[np.ndarray, np.ndarray, np.ndarray], tmp_path: Path) -> None:
    t, ear_left, ear_right = eyes
    left, right = find_blinks(ear_left, FPS, timestamps=t), find_blinks(ear_right, FPS, timestamps=t)
    path = write_blinks_csv(tmp_path / "clip_blinks.csv", left, right)
    assert path == tmp_path / "clip_blinks.csv" and [p.name for p in tmp_path.iterdir()] == ["clip_blinks.csv"]
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == BLINK_COLUMNS
    assert [r["eye"] for r in rows[:4]] == ["left", "right", "left", "left"]  # in time order
    assert len(rows) == 15 and [float(r["peak_time"]) for r in rows] == sorted(float(r["peak_time"]) for r in rows)
    first = rows[0]
    e = left[0]
    assert (int(first["start_frame"]), int(first["peak_frame"]), int(first["end_frame"])) == (
        e.start + 1,
        e.peak + 1,
        e.end + 1,
    )
    assert float(first["duration"]) == pytest.approx(float(first["end_time"]) - float(first["start_time"]), abs=2e-4)
    assert {r["complete"] for r in rows if r["eye"] == "left"} == {"1"}
    assert {r["complete"] for r in rows if r["eye"] == "right"} == {"0"}


def test_blinks_csv_unwritable(tmp_path: Path) -> None:
    with pytest.raises(OutputError):
        write_blinks_csv(unwritable_folder(tmp_path) / "x_blinks.csv", [], [])
