"""VideoWriter: round trips keep frames, timestamps, rate and audio; temp-file discipline; output errors."""

from __future__ import annotations

import itertools
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from facemirror.errors import OutputError
from facemirror.video import CANDIDATES, VideoReader, VideoWriter, choose_encoder, probe
from video_fixtures import make_audio_only, make_clip, pattern, shared_media


def _audio_packets(path) -> list[tuple[int, int]]:
    """(pts, size) of every audio packet, in the stream's time base."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return [(p.pts, p.size) for p in container.demux(stream) if p.size]


def _copy(src, dst, size: tuple[int, int] | None = None) -> list[int]:
    """Decode src and encode it to dst with its own pts and audio; returns the pts written."""
    written = []
    with VideoReader(src) as reader:
        info = reader.info
        width, height = size or (info.width, info.height)
        with VideoWriter(
            dst, width, height, info.fps, time_base=info.time_base, audio_from=src, preset="ultrafast"
        ) as w:
            for frame in reader:
                image = frame.image if size is None else cv2.resize(frame.image, size, interpolation=cv2.INTER_AREA)
                w.write(image, frame.pts)
                written.append(frame.pts)
    return written


def test_round_trip_keeps_frames_timestamps_rate_and_audio(tmp_path) -> None:
    src = shared_media("single_face.mp4")
    out = tmp_path / "copy.mp4"
    written = _copy(src, out)
    before, after = probe(src), probe(out)
    assert after.codec == "h264" and after.pix_fmt == "yuv420p"
    assert (after.width, after.height, after.fps, after.frame_count) == (640, 360, Fraction(30), 72)
    assert after.audio_codec == before.audio_codec and after.audio_sample_rate == before.audio_sample_rate
    assert _audio_packets(out) == _audio_packets(src)  # copied, not re-encoded
    with VideoReader(out) as reader:
        frames = list(reader)
    tick = float(after.time_base)
    assert len(frames) == len(written) == 72
    for frame, pts in zip(frames, written):
        assert abs(float(frame.time - pts * before.time_base)) <= tick
    with VideoReader(src) as reader:
        first = next(iter(reader)).image
    assert np.abs(frames[0].image.astype(int) - first).mean() < 3  # CRF 18: close to the source


def test_variable_frame_rate_keeps_the_real_timestamps(tmp_path) -> None:
    src = shared_media("face_noface.mov")
    out = tmp_path / "vfr.mp4"
    written = _copy(src, out, size=(240, 136))  # small frames keep the test fast; timing is what is checked
    with VideoReader(out) as reader:
        times = [f.time for f in reader]
    time_base = probe(src).time_base
    assert len(times) == len(written) == 169
    assert all(abs(t - p * time_base) <= time_base for t, p in zip(times, written))
    steps = {b - a for a, b in itertools.pairwise(times)}
    assert Fraction(512, 15360) in steps and Fraction(640, 15360) in steps  # 30 fps part and 24 fps part
    assert probe(out).has_audio and len(_audio_packets(out)) == len(_audio_packets(src))


def test_ntsc_rate_stays_30000_over_1001(tmp_path) -> None:
    src = make_clip(tmp_path / "ntsc.mp4", frames=12, fps=Fraction(30000, 1001), audio=True)
    out = tmp_path / "copy.mp4"
    _copy(src, out)
    info = probe(out)
    assert info.fps == Fraction(30000, 1001) and info.avg_fps == Fraction(30000, 1001)
    assert info.frame_count == 12 and info.has_audio


def test_default_pts_follow_the_frame_rate(tmp_path) -> None:
    out = tmp_path / "plain.mp4"
    with VideoWriter(out, 64, 48, Fraction(30000, 1001)) as writer:
        for i in range(5):
            writer.write(pattern(i, 64, 48))
    with VideoReader(out) as reader:
        times = [f.time for f in reader]
    assert times == [Fraction(1001 * i, 30000) for i in range(5)]
    assert probe(out).fps == Fraction(30000, 1001)


def test_odd_size_is_padded_by_repeating_the_edge(tmp_path) -> None:
    out = tmp_path / "odd.mp4"
    image = pattern(0, 63, 47)
    with VideoWriter(out, 63, 47, 25) as writer:
        writer.write(image)
    with VideoReader(out) as reader:
        decoded = next(iter(reader)).image
    assert decoded.shape == (48, 64, 3)
    assert np.abs(decoded[:47, :63].astype(int) - image).mean() < 4
    assert np.abs(decoded[:, 63].astype(int) - decoded[:, 62]).mean() < 4
    assert np.abs(decoded[47].astype(int) - decoded[46]).mean() < 4


def test_partial_file_is_renamed_only_on_close(tmp_path) -> None:
    out = tmp_path / "out.mp4"
    writer = VideoWriter(out, 64, 48, 30)
    writer.write(pattern(0, 64, 48))
    # a hidden temporary name unique to this writer (pid and token): two writers of out.mp4 never share it
    assert writer.partial.parent == tmp_path and writer.partial.name.startswith(".out.")
    assert writer.partial.name.endswith(".partial.mp4") and writer.partial.exists() and not out.exists()
    assert writer.close() == out
    assert out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_exception_inside_the_block_leaves_no_file(tmp_path) -> None:
    out = tmp_path / "out.mp4"
    with pytest.raises(KeyError), VideoWriter(out, 64, 48, 30) as writer:
        writer.write(pattern(0, 64, 48))
        raise KeyError("stop")
    assert list(tmp_path.iterdir()) == []


def test_abort_leaves_no_file(tmp_path) -> None:
    writer = VideoWriter(tmp_path / "out.mp4", 64, 48, 30)
    for i in range(3):
        writer.write(pattern(i, 64, 48))
    writer.abort()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError):
        writer.write(pattern(0, 64, 48))


def test_closing_without_frames_is_an_error_and_leaves_no_file(tmp_path) -> None:
    writer = VideoWriter(tmp_path / "out.mp4", 64, 48, 30)
    with pytest.raises(OutputError, match="no frames"):
        writer.close()
    assert list(tmp_path.iterdir()) == []


def test_missing_output_folder(tmp_path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        VideoWriter(tmp_path / "nowhere" / "out.mp4", 64, 48, 30)
    assert list(tmp_path.iterdir()) == []


def test_output_folder_that_is_a_file(tmp_path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        VideoWriter(tmp_path / "file" / "out.mp4", 64, 48, 30)


def test_bad_frames_are_refused(tmp_path) -> None:
    with VideoWriter(tmp_path / "out.mp4", 64, 48, 30) as writer:
        writer.write(pattern(0, 64, 48), pts=10)
        with pytest.raises(ValueError, match="pts must increase"):
            writer.write(pattern(1, 64, 48), pts=10)
        with pytest.raises(ValueError, match="shape"):
            writer.write(pattern(1, 32, 48), pts=11)


def test_audio_from_a_file_without_audio_gives_a_silent_video(tmp_path) -> None:
    silent = make_clip(tmp_path / "silent.mp4", frames=3)
    out = tmp_path / "out.mp4"
    with VideoWriter(out, 64, 48, 30, audio_from=silent) as writer:
        writer.write(pattern(0, 64, 48))
    assert not probe(out).has_audio


def test_audio_only_source_is_copied(tmp_path) -> None:
    voice = make_audio_only(tmp_path / "voice.m4a", seconds=0.3)
    out = tmp_path / "out.mp4"
    with VideoWriter(out, 64, 48, 30, audio_from=voice) as writer:
        for i in range(9):
            writer.write(pattern(i, 64, 48))
    assert probe(out).audio_codec == "aac"
    assert _audio_packets(out) == _audio_packets(voice)


def test_encoder_choice_reports_why_others_were_skipped() -> None:
    name, skipped = choose_encoder()
    assert name in CANDIDATES
    assert list(skipped) == list(CANDIDATES[: CANDIDATES.index(name)])
    assert all(reason for reason in skipped.values())
    assert choose_encoder() is choose_encoder()  # cached per process


def test_writer_records_the_encoder(tmp_path) -> None:
    with VideoWriter(tmp_path / "out.mp4", 64, 48, 30) as writer:
        writer.write(pattern(0, 64, 48))
    assert (writer.encoder, writer.encoder_report) == choose_encoder()


def test_unknown_encoder_is_an_output_error(tmp_path) -> None:
    with pytest.raises(OutputError, match="no_such_encoder"):
        VideoWriter(tmp_path / "out.mp4", 64, 48, 30, encoder="no_such_encoder")
    assert list(tmp_path.iterdir()) == []


def test_fast_colour_conversion_matches_ffmpeg() -> None:
    from facemirror.video.writer import _to_video_frame

    image = pattern(5, 64, 48)
    ours = _to_video_frame(image, "yuv420p").to_ndarray()
    ffmpeg = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p").to_ndarray()
    assert ours.shape == ffmpeg.shape and np.abs(ours.astype(int) - ffmpeg).max() <= 2
