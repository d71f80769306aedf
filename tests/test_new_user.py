"""What a new user meets first (issue 13): the README's Python example as written, a video without a face on the
command line, sidecars that describe their own file, and AU CSVs that say which model filled which columns."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from batch_fixtures import FAST, face_clip, make_input_tree
from facemirror import Outputs, Pipeline
from facemirror.batch import run_many
from video_fixtures import shared_media

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def no_user_weights(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEMIRROR_CACHE", str(tmp_path_factory.mktemp("cache")))


def test_the_readmes_python_example_runs_as_written(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks, "the README has a Python example"
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "single_face.mp4").symlink_to(ROOT / "examples" / "single_face.mp4")
    script = tmp_path / "example.py"
    script.write_text(blocks[0], encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600, env=os.environ
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "single_face.mp4: 72 frames" in done.stdout and "AU45_r" in done.stdout
    assert (tmp_path / "out" / "single_face_left_mirrored.csv").is_file()


def test_a_video_without_a_face_exits_3_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("facemirror")),
            "-q",
            "run",
            str(shared_media("no_face.mp4")),
            "-o",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert (
        len(lines) == 1 and lines[0].startswith("facemirror: error: ") and "no face found in any of its 95" in lines[0]
    )
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_the_batch_summary_counts_frames_without_a_face(tmp_path: Path) -> None:
    clip = face_clip(tmp_path / "clip.mp4")
    in_dir = make_input_tree(tmp_path / "in", clip, ["face.mp4"])
    shutil.copy(shared_media("no_face.mp4"), in_dir / "empty.mp4")
    result = run_many(FAST, in_dir, tmp_path / "out", job="mirror", workers=1, progress=False)
    with open(result.summary_path, newline="") as f:
        rows = {r["file"]: r for r in csv.DictReader(f)}
    assert rows["face.mp4"]["status"] == "done" and rows["face.mp4"]["frames_without_face"] == "0"
    assert rows["empty.mp4"]["status"] == "failed" and rows["empty.mp4"]["frames_without_face"] == "95"
    assert "no face found" in rows["empty.mp4"]["error"]


def test_each_sidecar_describes_its_own_file(tmp_path: Path) -> None:
    result = Pipeline(outputs=Outputs(quality="fast"), progress=False).run(
        ROOT / "examples" / "single_face.mp4", tmp_path
    )
    seen = set()
    for path in result.outputs.values():
        sidecar = json.loads(Path(f"{path}.json").read_text())
        assert sidecar["output"]["name"] == path.name
        assert sidecar["output"]["size_bytes"] == path.stat().st_size
        assert sidecar["output"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        seen.add(sidecar["output"]["sha256"])
        # the packages whose code computed the numbers, the backend that ran the face networks among them
        backends = {m["engine"]["backend"] for m in sidecar["models"] if m.get("engine")}
        wanted = {"litert": "ai-edge-litert", "onnx": "onnxruntime", "torch": "torch"}
        assert {wanted[b] for b in backends if b in wanted} <= set(sidecar["packages"])
        assert {"numpy", "av", "pandas"} <= set(sidecar["packages"])
    assert len(seen) == len(result.outputs)  # no two sidecars alike


def test_the_summary_says_which_model_filled_which_columns_and_empty_ones_can_go(tmp_path: Path) -> None:
    video = ROOT / "examples" / "single_face.mp4"
    full = Pipeline(outputs=Outputs(quality="fast"), progress=False).extract_aus(video, tmp_path / "full.csv")
    assert "AU model blendshapes: bs_neutral" in full.summary() and "blink (eye landmarks): AU45_r" in full.summary()
    lean = Pipeline(outputs=Outputs(openface_columns=False), progress=False).extract_aus(video, tmp_path / "lean.csv")
    with open(lean.outputs["csv"], newline="") as f:
        table = list(csv.DictReader(f))
    empty = [c for c in table[0] if all(r[c] == "" for r in table)]
    assert not empty, empty
    with open(full.outputs["csv"], newline="") as f:
        header = next(csv.reader(f))
    assert len(header) - len(table[0]) >= 40 and "AU01_r" in header and "AU01_r" not in table[0]
