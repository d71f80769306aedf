"""iPhone videos (HEVC 10-bit, BT.2020, HLG) keep their own colour system through ``mirror()``.

The mirrored videos are 10-bit HEVC with the source's colour tags, made from the decoder's own
10-bit planes; the debug video is 8-bit H.264 tagged for what it holds (the source's primaries and
transfer, converted with the BT.601 matrix).
"""

from __future__ import annotations

import csv
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from facemirror import Outputs, Pipeline
from facemirror.video import probe
from facemirror.video.probe import ColorTags
from video_fixtures import HLG_COLORS, make_hlg_clip

FACE = Path(__file__).resolve().parent / "data" / "single_face.jpg"
SIZE = 320
FACE_ROWS = slice(100, 200)  # the face of single_face.jpg at 320x320 (forehead to chin)


@pytest.fixture(scope="module")
def hlg_result(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path], float]:
    """(source clip, outputs of mirror(), the midline's x on the face rows in the first frame)."""
    folder = tmp_path_factory.mktemp("hlg")
    image = cv2.resize(cv2.imread(str(FACE)), (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    clip = make_hlg_clip(folder / "iphone.mp4", image, frames=8)
    result = Pipeline(outputs=Outputs(quality="fast"), progress=False).mirror(clip, folder / "out")
    with open(result.outputs["midline_csv"], newline="") as f:
        first = next(csv.DictReader(f))
    assert first["status"] == "tracked"  # the face was found: the videos are really mirrored
    return clip, result.outputs, float(first["midline_x"])


def _first_frame(path: Path) -> av.VideoFrame:
    with av.open(str(path)) as container:
        return next(container.decode(video=0))


def _rgb(frame: av.VideoFrame) -> np.ndarray:
    """RGB as a player decodes it: by the frame's own matrix and range tags, in 16 bits (0..1 floats)."""
    return frame.to_ndarray(format="rgb48le").astype(np.float64) / 65535.0


def test_mirrored_videos_are_10_bit_hevc_with_the_sources_colour_tags(hlg_result) -> None:
    clip, outputs, _ = hlg_result
    assert probe(clip).colors == ColorTags(*HLG_COLORS)
    for side in ("left", "right"):
        info = probe(outputs[side])
        assert (info.codec, info.pix_fmt) == ("hevc", "yuv420p10le")
        assert info.colors == ColorTags(*HLG_COLORS)
        with av.open(str(outputs[side])) as container:
            assert container.streams.video[0].codec_tag == "hvc1"  # the HEVC tag QuickTime and iOS play
        frame = _first_frame(outputs[side])
        assert frame.format.name == "yuv420p10le"
        assert (frame.colorspace, frame.color_range, frame.color_primaries, frame.color_trc) == HLG_COLORS


def test_debug_video_is_tagged_for_what_it_holds(hlg_result) -> None:
    """8-bit H.264 made from BGR (BT.601 matrix, limited range) of the source's BT.2020 / HLG colours."""
    _, outputs, _ = hlg_result
    info = probe(outputs["debug"])
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")
    assert info.colors == ColorTags(space=6, range=1, primaries=9, trc=18)


def test_mirrored_face_keeps_the_sources_colours(hlg_result) -> None:
    """Decoded as a player would (each file by its own tags), the mirrored faces have the source's colours."""
    clip, outputs, midline_x = hlg_result
    source = _rgb(_first_frame(clip))
    x = round(midline_x)
    face = (FACE_ROWS, slice(x - 48, x + 48))
    # the subject's left half is on the image right: it is kept as it is in the left-mirrored video
    kept = {"left": (FACE_ROWS, slice(x + 8, x + 48)), "right": (FACE_ROWS, slice(x - 48, x - 8))}
    for side in ("left", "right"):
        mirrored = _rgb(_first_frame(outputs[side]))
        # the kept half is the source's own pixels, through one more encode
        assert np.abs(mirrored[kept[side]].mean(axis=(0, 1)) - source[kept[side]].mean(axis=(0, 1))).max() < 0.005
        # the whole mirrored face: two copies of one half of the same face, lit a little differently
        assert np.abs(mirrored[face].mean(axis=(0, 1)) - source[face].mean(axis=(0, 1))).max() < 0.05
