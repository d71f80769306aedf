"""``run(..., report=True)`` and ``facemirror run --report`` write ``{stem}_report.html`` from the job's own results:
its measures, the mirrored faces' scores, the summary, the midline's statuses and key frames, with a sidecar."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from batch_fixtures import CLIP_FRAMES, face_clip
from facemirror import Outputs, Pipeline
from facemirror.cli import cli
from facemirror.measures import NAMES
from facemirror.optional import available

pytestmark = pytest.mark.skipif(not available("matplotlib"), reason="the report needs the 'report' extra")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return face_clip(tmp_path_factory.mktemp("clip") / "face.mp4")


def test_run_writes_the_report_of_its_own_results(clip: Path, tmp_path: Path) -> None:
    pipeline = Pipeline(outputs=Outputs(quality="fast", debug_video=False), progress=False)
    result = pipeline.run(clip, tmp_path, report=True)
    report = result.outputs["report"]
    assert report == tmp_path / "face_report.html" and report.exists()
    sidecar = json.loads(Path(f"{report}.json").read_text())
    assert sidecar["output"]["name"] == report.name and sidecar["input"]["name"] == "face.mp4"
    page = report.read_text()
    # one figure per section drawn from the job: midline strip, measures, scores; and pictures of the key frames
    assert len(re.findall(r'<img[^>]+class="plot"', page)) >= 3
    assert 1 <= page.count('class="keyframe"') <= pipeline.measures.key_frames
    assert len(re.findall(r'<img[^>]+class="face"', page)) == 4 * page.count('class="keyframe"')
    for name in NAMES:  # every measure in the summary table, with the job's own rest values
        assert name in page
    rest = result.video_summary["measures"][0]["rest_left"]
    assert f"{rest:.2f}" in page
    assert f"tracked: {CLIP_FRAMES} frames (100.0%)" in page  # the midline's statuses, in words
    assert "bs_mouthSmileLeft" in page  # the mirrored faces' blendshapes
    assert "iris diameter 11.77 mm over its median" in page and "may read up to ~10% low" in page  # scale, caveat


def test_the_report_is_not_written_unless_asked_and_the_cli_asks(clip: Path, tmp_path: Path) -> None:
    result = Pipeline(outputs=Outputs(quality="fast", debug_video=False), progress=False).run(clip, tmp_path / "a")
    assert "report" not in result.outputs and not (tmp_path / "a" / "face_report.html").exists()
    assert result.measures is not None and result.measures.key_frames == []  # only the report shows them
    out = CliRunner().invoke(cli, ["--quiet", "run", str(clip), "-o", str(tmp_path / "b"), "--report"])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "b" / "face_report.html").stat().st_size > 10_000
