"""What a video file holds (size, rotation, exact frame rate, audio), and opening one with clear errors.

:func:`open_input` is the one place where a path becomes a PyAV container: it
turns every way a file can be missing or broken into a
:mod:`facemirror.errors` exception that names the file, so no raw
``av.error`` reaches a user.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container
import av.stream
import av.video.stream

from facemirror.errors import NoVideoStreamError, UnreadableVideoError, VideoNotFoundError
from facemirror.video.decode import PacketDecoder


@dataclass(frozen=True)
class ColorTags:
    """How a stream's YUV numbers map to colours: matrix, range, primaries and transfer (FFmpeg's enum values)."""

    space: int = 2
    range: int = 0
    primaries: int = 2
    trc: int = 2


@dataclass(frozen=True)
class VideoInfo:
    """Facts about one video file; sizes are in pixels, times in seconds, rates exact.

    ``width``/``height`` are the display size (after ``rotation`` is applied);
    ``coded_width``/``coded_height`` the frame size as stored in the file.
    ``fps`` is the stream's nominal rate (FFmpeg's guessed ``r_frame_rate``:
    29.97 stays ``30000/1001``); ``avg_fps`` the average over the file, which
    differs for variable-frame-rate phone videos. ``frame_count`` is an
    estimate (the container's count, else duration x fps): a damaged file may
    decode fewer frames. ``truncated`` is true when the container's index
    points past the end of the file (a copy that stopped early). ``colors``
    are the stream's colour tags (FFmpeg's AVColorSpace, AVColorRange,
    AVColorPrimaries, AVColorTransferCharacteristic numbers; 2 = unspecified),
    which the mirrored videos carry over with the source's own YUV pixels.
    """

    path: Path
    width: int
    height: int
    coded_width: int
    coded_height: int
    rotation: int
    fps: Fraction
    avg_fps: Fraction | None
    time_base: Fraction
    start_time: float
    frame_count: int
    duration: float
    codec: str
    pix_fmt: str | None
    has_audio: bool
    audio_codec: str | None
    audio_sample_rate: int | None
    audio_channels: int | None
    container_format: str
    truncated: bool
    colors: ColorTags

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict: the path as a string, fractions as ``"num/den"``."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, Path):
                out[key] = str(value)
            elif isinstance(value, Fraction):
                out[key] = f"{value.numerator}/{value.denominator}"
        return out


def open_input(path: str | Path) -> av.container.InputContainer:
    """Open ``path`` for reading, raising a :class:`~facemirror.errors.VideoError` subclass on any failure."""
    path = Path(path)
    if not path.exists():
        raise VideoNotFoundError(path, "no such file")
    if path.is_dir():
        raise VideoNotFoundError(path, "is a directory, not a video file")
    if path.stat().st_size == 0:
        raise UnreadableVideoError(path, "the file is empty (0 bytes)")
    try:
        return av.open(str(path), mode="r")
    except av.error.PermissionError:
        raise UnreadableVideoError(path, "permission denied") from None
    except av.error.InvalidDataError:
        raise UnreadableVideoError(
            path, "not a readable video: FFmpeg found invalid data (not a video file, or a truncated/corrupt one)"
        ) from None
    except av.error.FFmpegError as exc:
        raise UnreadableVideoError(path, f"FFmpeg cannot open it: {exc.strerror}") from None


def video_stream(container: av.container.InputContainer, path: str | Path) -> av.video.stream.VideoStream:
    """The first real video stream of ``container`` (cover-art pictures do not count)."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    raise NoVideoStreamError(path, "the file has no video stream (audio only?)")


def first_frame_rotation(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, path: Path
) -> int:
    """Decode the first frame and return its display rotation, counter-clockwise degrees in {0, 90, 180, 270}.

    The rotation lives in the stream's display matrix, which FFmpeg attaches
    to every decoded frame; decoding one frame also proves the file decodes.
    Damaged packets before the first good frame are skipped, as the reader does.
    """
    decoder = PacketDecoder(container, stream)
    frame = next(iter(decoder), None)
    if frame is None:
        reason = decoder.first_error or decoder.read_error
        raise UnreadableVideoError(path, "no video frame could be decoded" + (f": {reason}" if reason else ""))
    return normalize_rotation(frame.rotation)


def normalize_rotation(degrees: float) -> int:
    """Round a display-matrix angle to the nearest quarter turn, in [0, 360)."""
    return round(degrees / 90.0) % 4 * 90


def is_truncated(container: av.container.InputContainer, path: Path) -> bool:
    """Whether the container's packet index points past the end of the file (only known for indexed formats)."""
    size = path.stat().st_size
    return any(entry.pos + entry.size > size for stream in container.streams for entry in stream.index_entries)


def probe(path: str | Path) -> VideoInfo:
    """Read the facts of a video file; raises a :class:`~facemirror.errors.VideoError` when it is not a usable video."""
    path = Path(path)
    with open_input(path) as container:
        stream = video_stream(container, path)
        rotation = first_frame_rotation(container, stream, path)
        info = _describe(container, stream, rotation, path)
    return info


def _describe(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, rotation: int, path: Path
) -> VideoInfo:
    """Build a :class:`VideoInfo` from an open container (rotation already read)."""
    codec = stream.codec_context
    time_base = stream.time_base or Fraction(1, 1_000_000)
    fps = stream.guessed_rate or stream.average_rate or stream.base_rate
    if not fps:
        raise UnreadableVideoError(path, "the video stream reports no frame rate")
    if stream.duration is not None:
        duration = float(stream.duration * time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    else:
        duration = 0.0
    frame_count = stream.frames or round(duration * fps)
    start_time = float(stream.start_time * time_base) if stream.start_time is not None else 0.0
    audio = next(iter(container.streams.audio), None)
    coded_w, coded_h = codec.width, codec.height
    width, height = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)
    return VideoInfo(
        path=path,
        width=width,
        height=height,
        coded_width=coded_w,
        coded_height=coded_h,
        rotation=rotation,
        fps=Fraction(fps),
        avg_fps=Fraction(stream.average_rate) if stream.average_rate else None,
        time_base=Fraction(time_base),
        start_time=start_time,
        frame_count=int(frame_count),
        duration=duration,
        codec=codec.codec.canonical_name,
        pix_fmt=codec.pix_fmt,
        has_audio=audio is not None,
        audio_codec=audio.codec_context.codec.canonical_name if audio is not None else None,
        audio_sample_rate=audio.codec_context.sample_rate if audio is not None else None,
        audio_channels=audio.codec_context.channels if audio is not None else None,
        container_format=container.format.name,
        truncated=is_truncated(container, path),
        colors=ColorTags(codec.colorspace, codec.color_range, codec.color_primaries, codec.color_trc),
    )
