"""Decode a video into upright BGR frames (and, on request, I420) with exact timestamps, on a background thread.

Damaged files: a file that opens but in which no frame decodes raises
:class:`~facemirror.errors.UnreadableVideoError`. Otherwise decoding goes
packet by packet (:mod:`facemirror.video.decode`): a damaged packet is
skipped, every frame that decodes is yielded with its own timestamp (so a gap
shows in the timestamps, and ``index`` counts decoded frames only), and after
iteration :attr:`VideoReader.decode_report` says which frames were lost and
where the file stops being decodable, also logged as a warning. A file that
ends early (a truncated copy) sets :attr:`VideoReader.truncated`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import av.video.frame
import cv2
import numpy as np

from facemirror.errors import UnreadableVideoError
from facemirror.timing import StageTimes
from facemirror.video import i420
from facemirror.video.decode import DecodeReport, PacketDecoder
from facemirror.video.probe import VideoInfo, open_input, probe, video_stream
from facemirror.video.stream import BackgroundIterator

log = logging.getLogger(__name__)

#: counter-clockwise display rotation -> the cv2.rotate code that makes the frame upright
_UPRIGHT = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame: ``image`` is upright BGR uint8 (H, W, 3).

    ``yuv`` is the same picture as the decoder's own I420 array (see
    :mod:`facemirror.video.i420`), when the reader was asked for it and the
    video has it (:attr:`VideoReader.yuv`); else None.

    ``index`` counts the frames that decoded (0, 1, 2, ...: a frame lost to
    damaged data takes no number). ``pts`` is in the stream's time base;
    ``time`` is ``pts * time_base`` seconds as an exact fraction;
    ``timestamp`` is seconds since the video's first frame, as a float (what
    OpenFace CSVs call ``timestamp``; a lost first frame still counts as 0).
    """

    index: int
    image: np.ndarray = field(repr=False)
    pts: int
    time: Fraction
    timestamp: float
    yuv: np.ndarray | None = field(default=None, repr=False)


class VideoReader:
    """Iterate the frames of a video file: ``with VideoReader(path) as reader: for frame in reader: ...``.

    Decoding runs with FFmpeg's own threads on a background thread that
    keeps at most ``queue_size`` frames ahead of the consumer. Rotation from
    the file's display matrix is applied, so portrait phone videos come out
    upright. A reader iterates once; closing it early stops the decoder.
    With ``times``, decoding is timed as the ``decode`` stage (on the decode
    thread) and queue waits as ``wait:get:decode`` / ``wait:put:decode``.
    ``yuv=True`` also gives each frame its I420 pixels when the video is
    4:2:0 of even size, 8-bit (uint8) or 10-bit (uint16) (``self.yuv`` says
    whether it is).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        queue_size: int = 8,
        threads: int = 0,
        times: StageTimes | None = None,
        yuv: bool = False,
    ) -> None:
        self.path = Path(path)
        self._times = times
        self.info: VideoInfo = probe(self.path)
        info = self.info
        self.yuv = yuv and info.pix_fmt in i420.FORMATS and info.width % 2 == 0 and info.height % 2 == 0
        self.truncated = self.info.truncated
        #: what decoding gave and lost; None until iteration has run to its end
        self.decode_report: DecodeReport | None = None
        self._queue_size = queue_size
        self._container = open_input(self.path)
        self._stream = video_stream(self._container, self.path)
        self._stream.thread_type = "AUTO"
        self._stream.thread_count = threads
        self._frames: BackgroundIterator[Frame] | None = None

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        if self._frames is not None:
            raise RuntimeError(f"{self.path}: a VideoReader can be iterated only once")
        times = self._times
        produce = self._decode if times is None else lambda: times.timed_iter(self._decode(), "decode")
        self._frames = BackgroundIterator(produce, maxsize=self._queue_size, name="facemirror-decode", times=times)
        return self._frames

    def close(self) -> None:
        """Stop decoding and release the file; safe to call twice."""
        if self._frames is not None:
            self._frames.close()
        self._container.close()

    def _decode(self) -> Iterator[Frame]:
        """Decode, convert and rotate frames (runs on the background thread); then report what was lost."""
        info = self.info
        decoder = PacketDecoder(self._container, self._stream)
        origin: int | None = None
        index = 0
        for av_frame in decoder:
            pts = av_frame.pts if av_frame.pts is not None else round(index / (info.fps * info.time_base))
            if origin is None:  # the earliest frame read, even if it did not decode: lost frames keep true times
                origin = pts if decoder.earliest_pts is None else min(pts, decoder.earliest_pts)
            yield Frame(
                index=index,
                image=self._to_image(av_frame),
                pts=pts,
                time=pts * info.time_base,
                timestamp=float((pts - origin) * info.time_base),
                yuv=self._to_yuv(av_frame) if self.yuv else None,
            )
            index += 1
        if origin is None:
            reason = decoder.first_error or decoder.read_error or "the file holds no video frames"
            raise UnreadableVideoError(self.path, f"no video frame could be decoded: {reason}")
        self.decode_report = report = decoder.report(index, origin, info.time_base, cut_short=info.truncated)
        self.truncated = report.truncated_at is not None
        if report.damaged:
            detail = f"FFmpeg: {cause}; " if (cause := decoder.read_error or decoder.first_error) else ""
            log.warning("%s: %s (%sabout %d frames expected)", self.path, report.describe(), detail, info.frame_count)

    def _to_image(self, av_frame: av.video.frame.VideoFrame) -> np.ndarray:
        image = av_frame.to_ndarray(format="bgr24")
        code = _UPRIGHT.get(self.info.rotation)
        return image if code is None else cv2.rotate(image, code)

    def _to_yuv(self, av_frame: av.video.frame.VideoFrame) -> np.ndarray:
        """The frame's own planes (a copy), upright; a frame in another format mid-stream is converted."""
        name, stream = av_frame.format.name, str(self.info.pix_fmt)  # one of i420.FORMATS, or self.yuv is False
        yuv = av_frame.to_ndarray(format=name if i420.FORMATS.get(name) == i420.FORMATS[stream] else stream)
        code = _UPRIGHT.get(self.info.rotation)
        return yuv if code is None else i420.rotate(yuv, code)
