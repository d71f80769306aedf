"""Damaged inputs: a packet the decoder rejects is skipped; every later frame keeps its true timestamp; losses are told.

The real videos of ../shared/media are damaged at a fixed byte offset inside
one video packet (its middle packet, found from the packets' positions), and
compared frame by frame with the undamaged file.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from facemirror.errors import UnreadableVideoError
from facemirror.video import DecodeReport, VideoReader
from video_fixtures import damage_packets, shared_media, video_packets


def read_all(path: Path) -> tuple[list[tuple[int, int, float, np.ndarray]], VideoReader]:
    """(index, pts, timestamp, image) of every frame, and the reader (for its report)."""
    with VideoReader(path) as reader:
        frames = [(f.index, f.pts, f.timestamp, f.image) for f in reader]
    return frames, reader


@pytest.mark.parametrize(("name", "frames"), [("single_face.mp4", 72), ("face_noface.mov", 169)])
def test_one_damaged_packet_loses_one_frame_and_keeps_the_rest_with_true_timestamps(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str, frames: int
) -> None:
    source = shared_media(name)
    middle = len(video_packets(source)) // 2
    ((_, _, lost_pts),) = damage_packets(source, tmp_path / f"damaged{source.suffix}", [middle])
    whole, whole_reader = read_all(source)
    with caplog.at_level(logging.WARNING, logger="facemirror.video.reader"):
        damaged, reader = read_all(tmp_path / f"damaged{source.suffix}")

    assert len(whole) == frames and whole_reader.decode_report == DecodeReport(frames)
    # the middle packet holds a frame no other frame refers to: exactly that frame is lost, every other one is intact
    kept = [f for f in whole if f[1] != lost_pts]
    assert len(damaged) == frames - 1 == len(kept)
    assert [f[0] for f in damaged] == list(range(frames - 1))  # index counts decoded frames
    assert [f[1] for f in damaged] == [f[1] for f in kept]
    assert [f[2] for f in damaged] == [f[2] for f in kept]  # true timestamps: the gap shows
    assert all(np.array_equal(a[3], b[3]) for a, b in zip(damaged, kept))

    lost_time = next(f[2] for f in whole if f[1] == lost_pts)
    report = reader.decode_report
    assert report == DecodeReport(frames - 1, (lost_time,), None)
    assert not reader.truncated
    assert f"1 frame could not be decoded (damaged data) at {lost_time:.2f} s" in caplog.text


def test_damaged_tail_is_reported_as_truncated(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    source = shared_media("single_face.mp4")
    n = len(video_packets(source))
    damage_packets(source, tmp_path / "tail.mp4", list(range(n - 3, n)))
    whole, _ = read_all(source)
    with caplog.at_level(logging.WARNING, logger="facemirror.video.reader"):
        damaged, reader = read_all(tmp_path / "tail.mp4")
    report = reader.decode_report
    assert report is not None and reader.truncated
    # the last frame that decoded is where the file stops being decodable; every frame after it is listed as lost
    assert report.truncated_at == damaged[-1][2]
    assert report.frames == len(damaged) and report.lost == len(whole) - len(damaged) >= 3
    assert report.lost_times == tuple(f[2] for f in whole[len(damaged) :])
    assert [f[2] for f in damaged] == [f[2] for f in whole[: len(damaged)]]
    assert f"the file is truncated at {report.truncated_at:.2f} s" in caplog.text


def test_damaged_first_keyframe_loses_its_group_of_pictures_not_the_video(tmp_path: Path) -> None:
    # face_noface.mov has a keyframe every 30 frames: the first GOP cannot decode, the next ones can
    source = shared_media("face_noface.mov")
    damage_packets(source, tmp_path / "first.mov", [0])
    whole, _ = read_all(source)
    damaged, reader = read_all(tmp_path / "first.mov")
    report = reader.decode_report
    assert report is not None and report.lost > 0 and report.truncated_at is None
    assert [f[1] for f in damaged] == [f[1] for f in whole[report.lost :]]
    # timestamps stay on the video's clock: the first kept frame is not renumbered to 0 s
    assert damaged[0][2] == whole[report.lost][2] > 0
    assert report.lost_times == tuple(f[2] for f in whole[: report.lost])


def test_nothing_decodable_is_still_an_error(tmp_path: Path) -> None:
    # single_face.mp4 has one keyframe: without it no frame decodes
    damage_packets(shared_media("single_face.mp4"), tmp_path / "nokey.mp4", [0])
    with pytest.raises(UnreadableVideoError, match=r"nokey\.mp4: no video frame could be decoded"):
        read_all(tmp_path / "nokey.mp4")


def test_report_is_none_until_the_video_was_read_to_its_end() -> None:
    with VideoReader(shared_media("single_face.mp4")) as reader:
        next(iter(reader))
    assert reader.decode_report is None


def test_report_text_and_record() -> None:
    report = DecodeReport(100, tuple(i / 10 for i in range(7)), 4.5)
    assert report.lost == 7 and report.damaged
    assert report.describe() == (
        "7 frames could not be decoded (damaged data) between 0.00 s and 0.60 s; "
        "the file is truncated at 4.50 s: nothing after it decodes; kept 100 frames, each with its own timestamp"
    )
    assert report.lost_times_text() == "0.000;0.100;0.200;0.300;0.400;0.500;0.600"
    assert DecodeReport.from_dict(report.as_dict()) == report
    assert DecodeReport(5).describe() == "" and not DecodeReport(5).damaged
