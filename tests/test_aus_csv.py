"""The AU CSV writer (both separators, AU45 filled from the whole video, atomic) and read_csv on ours and OpenFace's."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from facemirror.aus import AUCsvWriter, FrameOutputs, au45, au_columns, read_csv, row_for_frame
from facemirror.errors import FaceMirrorError
from facemirror.models.base import AUPrediction
from facemirror.models.mtl import AU_NAMES, MTL

#: MTL's columns and cells need no network: a model without an engine provides them
MTL_TABLE = MTL(None)  # type: ignore[arg-type]
COLUMNS = au_columns(MTL_TABLE)

OPENFACE_CSV = Path(__file__).resolve().parents[2] / "shared" / "media" / "OpenFace_Test.csv"


def _frames(n: int = 40) -> list[FrameOutputs | None]:
    rng = np.random.default_rng(1)
    frames: list[FrameOutputs | None] = []
    for i in range(n):
        if i == 5:
            frames.append(None)  # no face
            continue
        ear = (0.05, 0.06) if i in (20, 21) else (0.27 + 0.01 * rng.standard_normal(), 0.3)
        values = {
            "au": rng.random((1, 8)),
            "emotion": np.zeros((1, 8)),
            "emotion_prob": np.full((1, 8), 1 / 8),
            "gaze": np.array([[0.1, 0.05]]),
        }
        cells = MTL_TABLE.cells(AUPrediction(values, dict(MTL_TABLE.labels)), 0)  # type: ignore[arg-type]
        frames.append(FrameOutputs(confidence=0.9, ear=ear, cells=cells))
    return frames


def _write(path: Path, separator: str = ",", blink_open_ear: float | None = None) -> list[dict]:
    rows = [row_for_frame(i + 1, i / 30, f) for i, f in enumerate(_frames())]
    with AUCsvWriter(path, COLUMNS, separator=separator, blink_open_ear=blink_open_ear) as w:
        for row in rows:
            w.write(row)
        assert not path.exists()
    return rows


@pytest.mark.parametrize("separator", [",", ", "])
def test_write_and_read_back(tmp_path: Path, separator: str) -> None:
    out = tmp_path / "video_aus.csv"
    rows = _write(out, separator)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["video_aus.csv"]  # no staging or partial file left
    header = out.read_text().splitlines()[0]
    assert header.startswith("frame" + separator + "face_id" + separator)
    df = read_csv(out)
    assert list(df.columns) == COLUMNS
    assert len(df) == 40 and df["frame"].tolist() == list(range(1, 41))
    assert df["AU06_p"].to_numpy() == pytest.approx([r.get("AU06_p", math.nan) for r in rows], abs=1e-4, nan_ok=True)
    assert df["AU12_c"].to_numpy() == pytest.approx(
        [float(r["AU12_p"] >= 0.5) if "AU12_p" in r else math.nan for r in rows], nan_ok=True
    )
    # never invented: columns no model produced are empty
    for col in ("AU01_r", "AU05_c", "gaze_0_x", "pose_Tx", "pose_Rx"):
        assert df[col].isna().all(), col
    assert [c for c in df.columns if c.endswith("_p") and c.startswith("AU")] == [f"{au}_p" for au in AU_NAMES]
    no_face = df.iloc[5]
    assert no_face["success"] == 0 and no_face["confidence"] == 0 and math.isnan(no_face["AU01_p"])
    assert math.isnan(no_face["AU45_r"]) and math.isnan(no_face["ear_left"])


def test_blink_filled_from_the_whole_video(tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    rows = _write(out)
    df = read_csv(out)
    ear_l = np.array([r.get("ear_left", math.nan) for r in rows])
    ear_r = np.array([r.get("ear_right", math.nan) for r in rows])
    expected = au45(ear_l, ear_r)
    assert df["AU45_r"].to_numpy() == pytest.approx(expected.r, abs=1e-4, nan_ok=True)
    assert df["AU45_left_r"].to_numpy() == pytest.approx(expected.left_r, abs=1e-4, nan_ok=True)
    assert df["AU45_c"].to_numpy() == pytest.approx(expected.c, nan_ok=True)
    assert df.loc[[20, 21], "AU45_c"].tolist() == [1, 1] and df["AU45_c"].sum() == 2
    assert df.loc[20, "AU45_r"] > 4


def test_blink_with_a_fixed_baseline_streams(tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    rows = _write(out, blink_open_ear=0.3)
    df = read_csv(out)
    expected = au45([r.get("ear_left", math.nan) for r in rows], [r.get("ear_right", math.nan) for r in rows], 0.3)
    assert df["AU45_r"].to_numpy() == pytest.approx(expected.r, abs=1e-4, nan_ok=True)
    assert df.loc[0, "AU45_right_r"] == 0.0


def test_failure_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    with pytest.raises(RuntimeError), AUCsvWriter(out, COLUMNS) as w:
        w.write(row_for_frame(1, 0.0, None))
        raise RuntimeError("decoder died")
    assert list(tmp_path.iterdir()) == []


def test_read_csv_errors(tmp_path: Path) -> None:
    with pytest.raises(FaceMirrorError, match="no such CSV"):
        read_csv(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(FaceMirrorError, match=r"bad\.csv"):
        read_csv(bad)


def test_read_csv_on_a_real_openface_file() -> None:
    if not OPENFACE_CSV.is_file():
        pytest.skip(f"real OpenFace 2.0 CSV not found at {OPENFACE_CSV}")
    lines = OPENFACE_CSV.read_text(encoding="utf-8").splitlines()
    names = [c.strip() for c in lines[0].split(",")]
    manual = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    df = read_csv(OPENFACE_CSV)
    assert list(df.columns) == names and len(names) == 431
    assert df.shape == manual.shape == (100, 431)
    for col in ("frame", "timestamp", "confidence", "pose_Rx", "gaze_1_z", "x_33", "AU01_r", "AU45_r", "AU45_c"):
        assert df[col].to_numpy(dtype=float) == pytest.approx(manual[:, names.index(col)]), col
    assert df["frame"].iloc[0] == 1 and df["success"].eq(1).all()


def test_unknown_separator_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="separator"):
        AUCsvWriter(tmp_path / "a.csv", COLUMNS, separator=";")
    assert list(tmp_path.iterdir()) == []
