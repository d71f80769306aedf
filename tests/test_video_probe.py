"""probe() and `facemirror info` against what ffprobe reports for the shared media, and on made clips."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from facemirror.cli import cli
from facemirror.video import probe
from video_fixtures import make_clip, shared_media

# Measured with ffprobe 8.1 on this machine:
#   ffprobe -show_entries stream=codec_name,width,height,r_frame_rate,avg_frame_rate,time_base,nb_frames,duration,...
#   ffprobe -count_frames -show_entries stream=nb_read_frames  (decodable frames)
FFPROBE = {
    "single_face.mp4": dict(
        width=640, height=360, codec="h264", fps=Fraction(30), avg_fps=Fraction(30), time_base=Fraction(1, 15360),
        frame_count=72, duration=2.4, audio_codec="mp3", audio_sample_rate=44100, audio_channels=2,
    ),
    "face_noface.mov": dict(
        width=960, height=540, codec="hevc", fps=Fraction(30), avg_fps=Fraction(519168, 19667),
        time_base=Fraction(1, 15360), frame_count=169, duration=6.402018, audio_codec="aac",
        audio_sample_rate=44100, audio_channels=2,
    ),
    "no_face.mp4": dict(
        width=960, height=540, codec="h264", fps=Fraction(24), avg_fps=Fraction(150528, 6359),
        time_base=Fraction(1, 12288), frame_count=98, duration=3.944987, audio_codec="aac",
        audio_sample_rate=44100, audio_channels=2,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(FFPROBE))
def test_probe_matches_ffprobe(name: str) -> None:
    expected = FFPROBE[name]
    info = probe(shared_media(name))
    for key, value in expected.items():
        actual = getattr(info, key)
        if isinstance(value, float):
            assert actual == pytest.approx(value, abs=1e-6), key
        else:
            assert actual == value, key
    assert info.has_audio
    assert info.rotation == 0
    assert (info.coded_width, info.coded_height) == (info.width, info.height)
    assert info.pix_fmt == "yuv420p"
    assert info.container_format.startswith("mov,mp4")
    assert not info.truncated


def test_probe_keeps_ntsc_rate_exact(tmp_path) -> None:
    info = probe(make_clip(tmp_path / "ntsc.mp4", frames=6, fps=Fraction(30000, 1001)))
    assert info.fps == Fraction(30000, 1001)
    assert info.frame_count == 6
    assert not info.has_audio and info.audio_codec is None


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_probe_reports_rotation_and_display_size(tmp_path, rotation: int) -> None:
    info = probe(make_clip(tmp_path / "rot.mp4", frames=2, width=64, height=48, rotation=rotation))
    assert info.rotation == rotation
    assert (info.coded_width, info.coded_height) == (64, 48)
    assert (info.width, info.height) == ((48, 64) if rotation != 180 else (64, 48))


def test_info_cli_text_and_json(tmp_path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=5, fps=Fraction(30000, 1001), rotation=90, audio=True)
    runner = CliRunner()
    text = runner.invoke(cli, ["info", str(clip)])
    assert text.exit_code == 0, text.output
    assert "48x64" in text.output and "rotated 90" in text.output
    assert "30000/1001" in text.output and "aac" in text.output
    as_json = runner.invoke(cli, ["info", str(clip), "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["fps"] == "30000/1001"
    assert (data["width"], data["height"], data["rotation"]) == (48, 64, 90)
    assert data["has_audio"] is True and data["frame_count"] == 5


def test_info_faces_reports_where_the_face_is_found_and_its_width() -> None:
    """Issue 17: `facemirror info --faces` says in how many frames the subject is found, and the face width range."""
    example = Path(__file__).resolve().parents[1] / "examples" / "single_face.mp4"
    runner = CliRunner()
    text = runner.invoke(cli, ["-q", "info", str(example), "--faces"])
    assert text.exit_code == 0, text.output
    assert "faces:      found in 72 of 72 frames (mediapipe)" in text.output
    width = next(line for line in text.output.splitlines() if line.startswith("face width: "))
    low, high = (float(v) for v in width.split()[2].split("-"))
    assert 140 <= low <= high <= 160 and "less precise" not in width  # the example's face is ~150 px wide
    group = runner.invoke(cli, ["-q", "info", str(shared_media("multi_face.jpg")), "--faces", "--json"])
    assert group.exit_code == 0, group.output
    faces = json.loads(group.output)["faces"]
    assert faces["frames"] == faces["frames_with_face"] == 1 and faces["faces_seen"] >= 3
    assert faces["face_size"]["small"] == (faces["face_size"]["median_px"] < 100)
    assert not (example.parent / "single_face_facemirror").exists()  # nothing written


@pytest.mark.parametrize("name", sorted(FFPROBE))
def test_info_cli_on_shared_media(name: str) -> None:
    result = CliRunner().invoke(cli, ["info", str(shared_media(name)), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    expected = FFPROBE[name]
    assert Fraction(data["fps"]) == expected["fps"]
    assert data["frame_count"] == expected["frame_count"]
    assert data["codec"] == expected["codec"]


def test_info_cli_reports_a_bad_file_in_one_line(tmp_path, capsys) -> None:
    from facemirror.cli import main

    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["info", str(bad)])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("facemirror: error:") and "notes.mp4" in err and "\n" not in err
