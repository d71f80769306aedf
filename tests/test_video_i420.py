"""I420 frames end to end: layout helpers, the reader's YUV, the writer's passthrough, mirroring of planes."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from custom_parts import KnownFace, six_points
from facemirror import Outputs
from facemirror.mirror.midline import Midline
from facemirror.mirror.reflect import mirror_both, mirror_both_i420
from facemirror.video import VideoReader, VideoWriter, i420, probe
from facemirror.video.encoders import CANDIDATES_10BIT, choose_encoder
from facemirror.video.probe import ColorTags
from video_fixtures import HLG_COLORS, bgr_to_bt2020_10bit, make_clip, make_hlg_clip, pattern, shared_media


def _yuv(image: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420))


@pytest.mark.parametrize("height", [48, 50])  # 50: the U plane ends mid-row
def test_planes_are_views_in_ffmpeg_order(height: int) -> None:
    yuv = _yuv(pattern(3, 64, height))
    y, u, v = i420.planes(yuv)
    assert i420.size(yuv) == (64, height)
    assert (y.shape, u.shape, v.shape) == ((height, 64), (height // 2, 32), (height // 2, 32))
    frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
    for ours, plane in zip((y, u, v), frame.planes):
        theirs = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]
        assert np.array_equal(ours, theirs)
    u[0, 0] = 7
    assert yuv[height, 0] == 7  # a view, not a copy
    with pytest.raises(ValueError, match="even"):
        i420.empty(63, 48)


@pytest.mark.parametrize("code", [cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_180, cv2.ROTATE_90_COUNTERCLOCKWISE])
def test_rotating_planes_equals_rotating_the_picture(code: int) -> None:
    image = pattern(1, 64, 50)
    turned = i420.rotate(_yuv(image), code)
    assert i420.size(turned) == cv2.rotate(image, code).shape[1::-1]
    # the chroma planes turn about their own centre: equal up to the 4:2:0 rounding of a conversion
    assert np.abs(i420.to_bgr(turned).astype(int) - cv2.rotate(image, code)).mean() < 3


def test_reader_gives_the_decoders_own_planes_upright(tmp_path) -> None:
    clip = make_clip(tmp_path / "c.mp4", frames=3, width=64, height=48)
    with av.open(str(clip)) as container:
        decoded = [f.to_ndarray() for f in container.decode(video=0)]
    with VideoReader(clip, yuv=True) as reader:
        assert reader.yuv
        frames = list(reader)
    assert all(f.yuv is not None and np.array_equal(f.yuv, d) for f, d in zip(frames, decoded))
    rotated = make_clip(tmp_path / "r.mp4", frames=2, width=64, height=48, rotation=90)
    with VideoReader(rotated, yuv=True) as reader:
        frame = next(iter(reader))
    assert frame.yuv is not None and i420.size(frame.yuv) == (48, 64)
    assert np.abs(i420.to_bgr(frame.yuv).astype(int) - frame.image).mean() < 3


def test_reader_gives_bgr_only_unless_asked_and_the_video_is_420(tmp_path) -> None:
    clip = make_clip(tmp_path / "c.mp4", frames=2, width=64, height=48)
    with VideoReader(clip) as reader:
        assert not reader.yuv and next(iter(reader)).yuv is None
    full_chroma = make_clip(tmp_path / "444.mp4", frames=2, width=64, height=48, pix_fmt="yuv444p")
    with VideoReader(full_chroma, yuv=True) as reader:
        assert not reader.yuv and next(iter(reader)).yuv is None


def test_writer_passes_i420_through_and_tags_the_sources_colours(tmp_path) -> None:
    frames = [_yuv(pattern(i, 64, 48)) for i in range(4)]
    colors = ColorTags(space=1, range=1, primaries=1, trc=1)  # BT.709, limited range
    out = tmp_path / "o.mp4"
    with VideoWriter(out, 64, 48, 30, quality=0, preset="ultrafast", i420_colors=colors) as writer:
        for yuv in frames:
            writer.write(yuv)
    assert probe(out).colors == colors
    with av.open(str(out)) as container:
        decoded = [f.to_ndarray() for f in container.decode(video=0)]
    assert len(decoded) == 4 and all(np.array_equal(a, b) for a, b in zip(decoded, frames))  # CRF 0 is lossless


def test_writer_refuses_the_wrong_kind_of_frame(tmp_path) -> None:
    with pytest.raises(ValueError, match="even"):
        VideoWriter(tmp_path / "odd.mp4", 63, 48, 30, i420_colors=ColorTags())
    with VideoWriter(tmp_path / "o.mp4", 64, 48, 30, i420_colors=ColorTags()) as writer:
        with pytest.raises(ValueError, match="I420 frame of shape"):
            writer.write(pattern(0, 64, 48))
        writer.write(_yuv(pattern(0, 64, 48)))


def _smooth_picture(h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([128 + 90 * np.cos(xx / 9 + yy / 31), 128 + 80 * np.sin(yy / 13), 128 + 60 * np.cos(xx / 17)], -1)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("angle", "selfie"), [(0.0, False), (9.0, False), (-23.0, True)])
def test_mirroring_planes_matches_mirroring_bgr(angle: float, selfie: bool) -> None:
    image = _smooth_picture(118, 160)  # 118 rows: U and V start mid-row
    midline = Midline.from_angle((81.3, 57.9), angle)
    ours = mirror_both_i420(_yuv(image), midline, feather_px=4.0, selfie=selfie)
    theirs = mirror_both(image, midline, feather_px=4.0, selfie=selfie)
    round_trip = np.abs(i420.to_bgr(_yuv(image)).astype(int) - image).mean()
    for a, b in zip(ours, theirs):
        assert np.abs(i420.to_bgr(a).astype(int) - b).mean() < round_trip + 0.5


def test_kept_half_is_the_sources_luma_and_the_other_half_its_flip() -> None:
    rng = np.random.default_rng(0)
    yuv = rng.integers(0, 256, size=(180, 200), dtype=np.uint8)
    midline = Midline.from_angle((100.0, 60.0), 0.0)  # vertical through the centre; subject's left = image right
    left, right = mirror_both_i420(yuv, midline, feather_px=2.0)
    y, flipped = i420.planes(yuv)[0], i420.planes(yuv)[0][:, ::-1]
    assert np.array_equal(i420.planes(left)[0][:, 101:], y[:, 101:])
    assert np.array_equal(i420.planes(left)[0][:, :99], flipped[:, :99])
    assert np.array_equal(i420.planes(right)[0][:, :99], y[:, :99])
    assert np.array_equal(i420.planes(right)[0][:, 101:], flipped[:, 101:])
    # chroma away from the seam: the kept side untouched
    assert np.array_equal(i420.planes(left)[1][:, 52:], i420.planes(yuv)[1][:, 52:])


def test_mirror_outputs_keep_the_sources_colour_tags(tmp_path) -> None:
    from facemirror import Pipeline

    video = shared_media("face_noface.mov")  # BT.709-tagged
    result = Pipeline(outputs=Outputs(quality="fast", debug_video=False), progress=False).mirror(video, tmp_path / "a")
    source = probe(video).colors
    assert source.space == 1
    assert probe(result.outputs["left"]).colors == source
    assert probe(result.outputs["right"]).colors == source
    # a 4:4:4 source goes the BGR way: BT.601 limited range, as the conversion made it (a pattern with no face:
    # a tracker that 'finds' one in the middle of the frame)
    clip = make_clip(tmp_path / "444.mp4", frames=3, width=64, height=48, pix_fmt="yuv444p")
    tracker = KnownFace(six_points(32.0, 24.0, 0.0) * [0.3, 0.3] + [22.4, 16.8])
    pipeline = Pipeline(tracker, outputs=Outputs(quality="fast", debug_video=False), progress=False)
    result = pipeline.mirror(clip, tmp_path / "b")
    assert probe(result.outputs["left"]).colors == ColorTags(space=6, range=1)


def test_full_range_video_stays_full_range(tmp_path) -> None:
    from facemirror import Pipeline

    clip = make_clip(tmp_path / "j.mp4", frames=3, width=64, height=48, pix_fmt="yuvj420p")  # JPEG range
    with VideoReader(clip, yuv=True) as reader:
        assert reader.yuv
        source = next(iter(reader)).yuv
    tracker = KnownFace(six_points(32.0, 24.0, 0.0) * [0.3, 0.3] + [22.4, 16.8])  # a 'face' about x = 32
    pipeline = Pipeline(tracker, outputs=Outputs(quality="fast", debug_video=False), progress=False)
    result = pipeline.mirror(clip, tmp_path / "out")
    assert probe(result.outputs["left"]).colors.range == 2
    with av.open(str(result.outputs["left"])) as container:
        first = next(container.decode(video=0)).to_ndarray()
    # the kept half (the image right) keeps its numbers full range (x264 at CRF 20 moves them a little)
    assert source is not None and np.abs(first[:48, 40:].astype(int) - source[:48, 40:]).mean() < 2


def test_a_region_converts_like_the_whole_frame() -> None:
    rng = np.random.default_rng(2)
    yuv = rng.integers(0, 256, size=(75, 64), dtype=np.uint8)  # 64x50
    whole = i420.to_bgr(yuv)
    for box in [(0, 0, 64, 50), (3, 5, 40, 31), (1, 1, 2, 2), (62, 48, 64, 50), (7, 0, 63, 49)]:
        x1, y1, x2, y2 = box
        assert np.array_equal(i420.region_to_bgr(yuv, *box), whole[y1:y2, x1:x2])
    with pytest.raises(ValueError, match="not inside"):
        i420.region_to_bgr(yuv, 10, 10, 65, 20)


# --- 10-bit (iPhone HEVC Main 10) -----------------------------------------------------------


def test_reader_gives_10_bit_video_as_uint16_planes(tmp_path) -> None:
    clip = make_hlg_clip(tmp_path / "hlg.mp4", pattern(0, 64, 48), frames=2)
    with av.open(str(clip)) as container:
        decoded = [f.to_ndarray() for f in container.decode(video=0)]
    with VideoReader(clip, yuv=True) as reader:
        assert reader.yuv
        frames = list(reader)
    assert all(
        f.yuv is not None and f.yuv.dtype == np.uint16 and np.array_equal(f.yuv, d) for f, d in zip(frames, decoded)
    )
    assert decoded[0].max() > 255  # really 10-bit numbers, not 8-bit ones in 16-bit words


def test_10_bit_planes_mirror_and_convert_like_8_bit_ones() -> None:
    image = _smooth_picture(118, 160)
    yuv8 = _yuv(image)
    yuv10 = yuv8.astype(np.uint16) * 4  # the same picture in 10 bits
    midline = Midline.from_angle((81.3, 57.9), 9.0)
    for a, b in zip(mirror_both_i420(yuv10, midline), mirror_both_i420(yuv8, midline)):
        assert a.dtype == np.uint16
        assert np.abs(a.astype(int) - 4 * b.astype(int)).max() <= 4  # one 8-bit step of rounding in the seam
    assert np.array_equal(i420.to_bgr(yuv10), i420.to_bgr(yuv8))
    assert np.array_equal(i420.region_to_bgr(yuv10, 3, 5, 40, 31), i420.to_bgr(yuv8)[5:31, 3:40])


def test_writer_encodes_10_bit_i420_as_hevc_main_10_with_the_tags(tmp_path) -> None:
    frames = [bgr_to_bt2020_10bit(pattern(i, 64, 48)) for i in range(4)]
    colors = ColorTags(*HLG_COLORS)
    out = tmp_path / "o.mp4"
    with VideoWriter(out, 64, 48, 30, i420_colors=colors, i420_format="yuv420p10le") as writer:
        with pytest.raises(ValueError, match="uint16 I420 frame"):
            writer.write(frames[0].astype(np.uint8))
        for yuv in frames:
            writer.write(yuv)
    info = probe(out)
    assert (info.codec, info.pix_fmt, info.colors) == ("hevc", "yuv420p10le", colors)
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_tag == "hvc1"
        decoded = [f.to_ndarray() for f in container.decode(video=0)]
    assert all(np.abs(a.astype(int) - b).mean() < 4 for a, b in zip(decoded, frames))  # of 1023
    name, skipped = choose_encoder(10)
    assert (
        name in CANDIDATES_10BIT
        and writer.encoder == name
        and list(skipped) == list(CANDIDATES_10BIT[: CANDIDATES_10BIT.index(name)])
    )


def test_bgr_videos_keep_the_sources_primaries_and_transfer(tmp_path) -> None:
    """BGR decoded from a tagged video keeps its primaries and transfer; the writer's own conversion is BT.601."""
    out = tmp_path / "o.mp4"
    with VideoWriter(out, 64, 48, 30, source_colors=ColorTags(*HLG_COLORS)) as writer:
        writer.write(pattern(0, 64, 48))
    assert probe(out).colors == ColorTags(space=6, range=1, primaries=9, trc=18)
