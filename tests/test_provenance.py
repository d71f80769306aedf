"""Provenance sidecars: every field present, the input hash is right, no partial file on failure."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import platform
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from facemirror import __version__
from facemirror.backends.base import EngineInfo
from facemirror.errors import OutputError
from facemirror.provenance import build_provenance, model_record, package_versions, sidecar_path, write_sidecar

KEYS = {
    "schema_version", "created_utc", "facemirror_version", "python_version", "platform", "machine",
    "packages", "command_line", "input", "models", "parameters", "timings_s", "outputs",
}  # fmt: skip


def _inputs(tmp_path: Path) -> tuple[Path, Path]:
    video = tmp_path / "video.mp4"
    video.write_bytes(np.random.default_rng(0).bytes(100_000))
    weights = tmp_path / "net.onnx"
    weights.write_bytes(b"weights" * 1000)
    return video, weights


def test_record_has_every_field(tmp_path: Path) -> None:
    video, weights = _inputs(tmp_path)
    engine = EngineInfo(backend="onnx", provider="CPUExecutionProvider", precision="fp32", device="cpu", model="mtl")
    record = build_provenance(
        video,
        {"fps": Fraction(30000, 1001), "width": 640, "rotation": np.int64(90)},
        [model_record("mtl", weights, engine), model_record("blink", None)],
        {"batch_size": 16, "threshold": np.float32(0.5), "missing": math.nan},
        {"total": 1.25},
        [tmp_path / "video_aus.csv"],
        command_line=["facemirror", "aus", "video.mp4"],
    )
    assert set(record) == KEYS
    assert record["facemirror_version"] == __version__
    assert record["python_version"] == platform.python_version()
    assert dt.datetime.fromisoformat(record["created_utc"]).utcoffset() == dt.timedelta(0)
    assert record["input"]["sha256"] == hashlib.sha256(video.read_bytes()).hexdigest()
    assert record["input"]["size_bytes"] == 100_000
    assert record["input"]["metadata"] == {"fps": "30000/1001", "width": 640, "rotation": 90}
    mtl = record["models"][0]
    assert mtl["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert mtl["engine"]["backend"] == "onnx" and mtl["engine"]["device"] == "cpu"
    assert record["models"][1]["sha256"] is None
    assert record["parameters"] == {"batch_size": 16, "threshold": 0.5, "missing": None}
    assert record["command_line"] == ["facemirror", "aus", "video.mp4"]
    assert record["packages"]["numpy"] == np.__version__


def test_package_versions_do_not_import() -> None:
    versions = package_versions(["numpy", "surely-not-installed-facemirror-pkg"])
    assert versions == {"numpy": np.__version__}


def test_sidecar_is_written_beside_the_output(tmp_path: Path) -> None:
    video, _ = _inputs(tmp_path)
    out = tmp_path / "video_left_mirrored.mp4"
    record = build_provenance(video, {}, [], {}, {}, [out])
    path = write_sidecar(out, record)
    assert path == sidecar_path(out) == tmp_path / "video_left_mirrored.mp4.json"
    assert json.loads(path.read_text()) == json.loads(json.dumps(record))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.onnx", "video.mp4", "video_left_mirrored.mp4.json"]


def test_no_partial_sidecar_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "video_aus.csv"
    write_text = Path.write_text

    def dies_half_way(self: Path, text: str, *args: object, **kwargs: object) -> int:
        write_text(self, text[: len(text) // 2], encoding="utf-8")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", dies_half_way)
    # an OutputError (one line on the command line, naming the file), not a raw OSError
    with pytest.raises(OutputError, match=r"video_aus\.csv\.json: writing the file failed: No space"):
        write_sidecar(out, build_provenance(None, outputs=[out]))
    assert list(tmp_path.iterdir()) == []
