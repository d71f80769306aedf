"""VideoReader: frame counts and timestamps equal ffprobe's, upright rotation, early close, background decoding."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from facemirror.video import VideoReader
from video_fixtures import make_clip, pattern, shared_media

# per-frame pts from ffprobe (command in the file)
FFPROBE_PTS = json.loads((Path(__file__).parent / "data" / "video_ffprobe_pts.json").read_text())


@pytest.mark.parametrize("name", ["single_face.mp4", "face_noface.mov", "no_face.mp4"])
def test_frames_and_timestamps_match_ffprobe(name: str) -> None:
    expected = FFPROBE_PTS[name]
    with VideoReader(shared_media(name)) as reader:
        info = reader.info
        frames = [(f.index, f.pts, f.time, f.timestamp, f.image.shape, f.image.dtype) for f in reader]
    assert [f[1] for f in frames] == expected  # face_noface.mov: variable rate (30 fps, then 24 fps) kept exactly
    assert [f[0] for f in frames] == list(range(len(expected)))
    for _, pts, time, timestamp, shape, dtype in frames:
        assert time == pts * info.time_base
        assert timestamp == pytest.approx(float((pts - expected[0]) * info.time_base))
        assert shape == (info.height, info.width, 3) and dtype == np.uint8
    assert not reader.truncated


def test_pixels_match_what_was_encoded(tmp_path) -> None:
    clip = make_clip(tmp_path / "c.mp4", frames=4, width=64, height=48)
    with VideoReader(clip) as reader:
        images = [f.image for f in reader]
    assert len(images) == 4
    for i, image in enumerate(images):
        assert np.abs(image.astype(int) - pattern(i, 64, 48)).mean() < 4


@pytest.mark.parametrize(("rotation", "corner"), [(90, (-1, 0)), (180, (-1, -1)), (270, (0, -1))])
def test_rotation_makes_frames_upright(tmp_path, rotation: int, corner: tuple[int, int]) -> None:
    # the stored frame has its red block top-left; displayed rotated counter-clockwise it moves to `corner`
    clip = make_clip(tmp_path / "r.mp4", frames=2, width=64, height=48, rotation=rotation)
    with VideoReader(clip) as reader:
        image = next(iter(reader)).image
    assert image.shape == ((64, 48, 3) if rotation != 180 else (48, 64, 3))
    y = 2 if corner[0] == 0 else image.shape[0] - 3
    x = 2 if corner[1] == 0 else image.shape[1] - 3
    assert _is_red(image[y, x])
    assert not _is_red(image[2, 2])


def _is_red(pixel: np.ndarray) -> bool:
    b, g, r = pixel.astype(int)
    return r > 200 and g < 60 and b < 60


@pytest.mark.skipif(not Path("/usr/bin/ffmpeg").exists(), reason="needs the ffmpeg CLI as a reference decoder")
def test_rotation_agrees_with_ffmpeg_autorotate(tmp_path) -> None:
    import subprocess

    clip = make_clip(tmp_path / "r.mp4", frames=1, width=64, height=48, rotation=90)
    raw = subprocess.run(
        ["/usr/bin/ffmpeg", "-v", "error", "-i", str(clip), "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    with VideoReader(clip) as reader:
        ours = next(iter(reader)).image
    reference = np.frombuffer(raw, np.uint8).reshape(ours.shape)
    assert np.abs(ours.astype(int) - reference).max() <= 2


def test_closing_early_stops_the_decoder_thread(tmp_path) -> None:
    clip = make_clip(tmp_path / "long.mp4", frames=60, width=64, height=48)
    before = {t.name for t in threading.enumerate()}
    assert "facemirror-decode" not in before
    with VideoReader(clip, queue_size=2) as reader:
        for frame in reader:
            if frame.index == 3:
                break
        assert any(t.name == "facemirror-decode" for t in threading.enumerate())
    assert all(t.name != "facemirror-decode" for t in threading.enumerate())


def test_reader_iterates_once(tmp_path) -> None:
    with VideoReader(make_clip(tmp_path / "c.mp4", frames=2)) as reader:
        assert len(list(reader)) == 2
        with pytest.raises(RuntimeError, match="only once"):
            iter(reader)
