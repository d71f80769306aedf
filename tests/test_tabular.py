"""The per-frame CSV writer: empty cells for missing values, atomic rename."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from facemirror.tabular import CsvTableWriter, format_cell


def test_cells() -> None:
    assert format_cell(None) == ""
    assert format_cell(math.nan) == ""
    assert format_cell(np.float32(np.nan)) == ""
    assert format_cell(1.23456789) == "1.2346"
    assert format_cell(np.float32(0.5), decimals=2) == "0.50"
    assert format_cell(True) == "1"
    assert format_cell(7) == "7"
    assert format_cell("tracked") == "tracked"


def test_rows_and_rename(tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    with CsvTableWriter(out, ["frame", "x", "label"]) as w:
        w.write({"frame": 1, "x": 0.25, "label": "a"})
        w.write({"frame": 2})
        assert not out.exists()
    assert out.read_text().splitlines() == ["frame,x,label", "1,0.2500,a", "2,,"]


def test_exception_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    with pytest.raises(ValueError), CsvTableWriter(out, ["a"]) as w:
        w.write({"a": 1})
        raise ValueError("boom")
    assert list(tmp_path.iterdir()) == []
