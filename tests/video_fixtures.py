"""Small synthetic media for the video tests, made with PyAV so the tests need no ffmpeg binary."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

SHARED_MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"


def shared_media(name: str) -> Path:
    """A file of ../shared/media, or skip the test with the reason when it is absent."""
    import pytest

    path = SHARED_MEDIA / name
    if not path.is_file():
        pytest.skip(f"shared test media not found: {path} (the ../shared folder beside the checkout)")
    return path


def pattern(index: int, width: int, height: int) -> np.ndarray:
    """A BGR frame that changes with ``index`` and has a red block in its top-left corner."""
    yy, xx = np.mgrid[0:height, 0:width]
    image = np.stack([(xx * 3 + index * 7) % 256, (yy * 3) % 256, np.full_like(xx, 128)], axis=-1).astype(np.uint8)
    image[: height // 4, : width // 4] = (0, 0, 255)
    return image


def make_clip(
    path: Path,
    frames: int = 10,
    width: int = 64,
    height: int = 48,
    fps: Fraction | int = 30,
    rotation: int = 0,
    audio: bool = False,
    pix_fmt: str = "yuv420p",
) -> Path:
    """Encode ``frames`` pattern frames (H.264, pts = index in 1/fps), optionally with display rotation and AAC."""
    fps = Fraction(fps)
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        if rotation:
            video.set_display_rotation(rotation)
        sound = out.add_stream("aac", rate=44100, layout="mono") if audio else None
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(pattern(i, width, height), format="bgr24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            _write_tone(out, sound, seconds=float(frames / fps))
    return path


def make_audio_only(path: Path, seconds: float = 0.5) -> Path:
    """An AAC-only .m4a file."""
    with av.open(str(path), "w") as out:
        _write_tone(out, out.add_stream("aac", rate=44100, layout="mono"), seconds)
    return path


def _write_tone(out: av.container.OutputContainer, stream: av.AudioStream, seconds: float) -> None:
    samples = np.sin(np.arange(int(44100 * seconds)) * 0.05).astype(np.float32) * 0.2
    for start in range(0, samples.size, 1024):
        chunk = samples[start : start + 1024][None]
        frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
        frame.sample_rate, frame.pts = 44100, start
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def video_packets(path: Path) -> list[tuple[int, int, int]]:
    """(byte position, size, pts) of every video packet, in file order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [(p.pos, p.size, p.pts) for p in container.demux(stream) if p.size and p.pos is not None]


def damage_packets(source: Path, target: Path, indices: list[int]) -> list[tuple[int, int, int]]:
    """Copy ``source`` to ``target`` with the first 4 bytes of each video packet in ``indices`` set to 0xFF.

    Those bytes are the packet's first NAL unit length, so the decoder rejects
    exactly that packet (as a bad sector or an interrupted copy makes it do);
    the container is untouched. Returns the damaged packets (position, size, pts).
    """
    packets = video_packets(source)
    data = bytearray(source.read_bytes())
    for i in indices:
        pos = packets[i][0]
        data[pos : pos + 4] = b"\xff" * 4
    target.write_bytes(bytes(data))
    return [packets[i] for i in indices]


#: an iPhone's default recording: BT.2020 matrix, limited range, BT.2020 primaries, HLG transfer (FFmpeg's numbers)
HLG_COLORS = (9, 1, 9, 18)


def bgr_to_bt2020_10bit(image: np.ndarray) -> np.ndarray:
    """A BGR uint8 image as a 10-bit I420 array (uint16, FFmpeg's yuv420p10le layout): BT.2020 matrix, limited range.

    The image's values are taken as the HLG signal itself (what the camera would have written).
    """
    rgb = image[..., ::-1].astype(np.float64) / 255.0
    y = rgb @ np.array([0.2627, 0.6780, 0.0593])
    h, w = y.shape
    half = (w // 2, h // 2)
    cb = cv2.resize((rgb[..., 2] - y) / 1.8814, half, interpolation=cv2.INTER_AREA)
    cr = cv2.resize((rgb[..., 0] - y) / 1.4746, half, interpolation=cv2.INTER_AREA)
    planes = [64 + 876 * y, 512 + 896 * cb, 512 + 896 * cr]
    return np.concatenate([np.round(p).reshape(-1) for p in planes]).reshape(h * 3 // 2, w).astype(np.uint16)


def make_hlg_clip(path: Path, image: np.ndarray, frames: int = 10, fps: int = 30) -> Path:
    """An iPhone-style clip of ``image``: HEVC Main 10 (libx265, yuv420p10le, 'hvc1'), tagged BT.2020 / HLG."""
    height, width = image.shape[:2]
    yuv = bgr_to_bt2020_10bit(image)
    space, color_range, primaries, trc = HLG_COLORS
    with av.open(str(path), "w") as out:
        options = {"preset": "ultrafast", "crf": "12", "x265-params": "log-level=error"}
        video = out.add_stream("libx265", rate=fps, options=options)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p10le"
        video.codec_tag = "hvc1"
        context = video.codec_context
        context.colorspace, context.color_range = space, color_range
        context.color_primaries, context.color_trc = primaries, trc
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p10le")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    return path
