"""Bad inputs raise facemirror.errors exceptions that name the file; no raw av.error escapes."""

from __future__ import annotations

import logging

import av
import pytest

from facemirror.errors import NoVideoStreamError, UnreadableVideoError, VideoNotFoundError
from facemirror.video import VideoReader, VideoWriter, probe
from video_fixtures import make_audio_only, make_clip, pattern


@pytest.mark.parametrize("opener", [probe, VideoReader])
def test_missing_file(tmp_path, opener) -> None:
    with pytest.raises(VideoNotFoundError, match=r"missing\.mp4: no such file"):
        opener(tmp_path / "missing.mp4")


@pytest.mark.parametrize("opener", [probe, VideoReader])
def test_directory(tmp_path, opener) -> None:
    with pytest.raises(VideoNotFoundError, match="is a directory"):
        opener(tmp_path)


def test_empty_file(tmp_path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(UnreadableVideoError, match=r"empty\.mp4: the file is empty"):
        probe(empty)


@pytest.mark.parametrize("opener", [probe, VideoReader])
def test_text_file_named_mp4(tmp_path, opener) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("these are notes, not a video\n" * 50)
    with pytest.raises(UnreadableVideoError, match=r"notes\.mp4: not a readable video"):
        opener(text)


def test_audio_only_file(tmp_path) -> None:
    audio = make_audio_only(tmp_path / "voice.m4a")
    with pytest.raises(NoVideoStreamError, match=r"voice\.m4a: the file has no video stream"):
        probe(audio)
    with pytest.raises(NoVideoStreamError):
        VideoReader(audio)


def test_truncated_file_with_index_at_the_end_is_unreadable(tmp_path) -> None:
    # PyAV writes the index (moov) last, as phones do; a copy cut short loses it
    clip = make_clip(tmp_path / "whole.mp4", frames=20)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    with pytest.raises(UnreadableVideoError, match=r"cut\.mp4"):
        probe(cut)


def test_truncated_file_with_index_first_yields_what_decodes_and_warns(tmp_path, caplog) -> None:
    # VideoWriter writes the index first (faststart): a cut copy opens, and its first part decodes
    whole = tmp_path / "whole.mp4"
    with VideoWriter(whole, 64, 48, 30) as writer:
        for i in range(30):
            writer.write(pattern(i, 64, 48))
    with av.open(str(whole)) as container:
        packet_15 = container.streams.video[0].index_entries[15].pos
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[:packet_15])
    info = probe(cut)
    assert info.truncated and info.frame_count == 30
    with caplog.at_level(logging.WARNING, logger="facemirror.video.reader"), VideoReader(cut) as reader:
        frames = list(reader)
    assert 0 < len(frames) <= 15
    assert [f.index for f in frames] == list(range(len(frames)))
    assert reader.truncated
    assert any("truncated" in r.getMessage() and "cut.mp4" in r.getMessage() for r in caplog.records)


def test_file_whose_first_frame_cannot_decode_is_unreadable(tmp_path) -> None:
    # keep the container structure but overwrite all frame data with zeros
    clip = make_clip(tmp_path / "whole.mp4", frames=5)
    data = bytearray(clip.read_bytes())
    start = data.index(b"mdat") + 4
    end = data.index(b"moov")
    data[start : end - 8] = bytes(end - 8 - start)
    broken = tmp_path / "zeroed.mp4"
    broken.write_bytes(bytes(data))
    with pytest.raises(UnreadableVideoError, match=r"zeroed\.mp4: no video frame could be decoded"):
        probe(broken)
