"""Write BGR (or I420) frames to an MP4 with their own timestamps, copying the source's audio untouched.

8-bit frames are encoded as H.264, 10-bit I420 frames as 10-bit HEVC (see :mod:`facemirror.video.encoders`).

The file is written under a hidden temporary name in the same folder, unique
to the writer (``.name.<pid>-<token>.partial.mp4``,
:func:`~facemirror.atomic.partial_path`), completed there by
:meth:`~facemirror.atomic.AtomicWriter.finish` and renamed to its final name
only by :meth:`~facemirror.atomic.AtomicWriter.commit` (``close()`` does
both); an error or ``abort()`` removes it, so a half-written video never
carries the final name.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.packet
import av.stream
import av.video.stream
import cv2
import numpy as np

from facemirror.atomic import AtomicWriter, partial_path
from facemirror.errors import BackendUnavailable, OutputError
from facemirror.timing import StageTimes
from facemirror.video import i420
from facemirror.video.encoders import DEFAULT_QUALITY, choose_encoder, configure, pixel_format
from facemirror.video.probe import ColorTags, open_input
from facemirror.video.stream import BackgroundWorker

log = logging.getLogger(__name__)

#: the sample layout PyAV is given for I420 frames of each bit depth (full range is a tag, not a format)
_I420_FRAME_FORMAT = {8: "yuv420p", 10: "yuv420p10le"}


class VideoWriter(AtomicWriter):
    """Encode frames to ``path`` (4:2:0 H.264, or HEVC for 10-bit I420; MP4, MOV when ``path`` ends in ``.mov``).

    ``write(image, pts)`` takes a BGR uint8 (height, width, 3) image and its
    presentation time in ``time_base`` units (default ``1/fps``, where
    ``pts`` may be left out: frame i gets ``pts = i``). Passing the input's
    own pts and time base keeps variable-frame-rate timing exactly.

    yuv420p needs even sizes: an odd ``width``/``height`` is padded by one
    pixel on the right/bottom, repeating the edge pixels.

    ``i420_colors`` switches the input to I420 arrays (the decoder's own YUV,
    :mod:`facemirror.video.i420`; even sizes only) of pixel format
    ``i420_format`` (uint16 arrays for ``yuv420p10le``): they are encoded as
    they are, at their own bit depth (10-bit as HEVC Main 10, tagged ``hvc1``
    so Apple players open it), and the file is tagged with these colours, the
    source's, so pixels a job did not change come out as they went in.

    BGR frames are converted with the BT.601 matrix to limited range, and the
    file says so; ``source_colors`` names the primaries and transfer of the
    video they were decoded from, which that decoding kept (it undoes only the
    matrix), so an HLG or BT.709 source's debug video is tagged as such.

    ``encoder="auto"`` uses :func:`~facemirror.video.encoders.choose_encoder`
    (hardware first, libx264, or libx265 for 10-bit, last); ``encoder_report``
    says why skipped encoders were skipped. ``quality`` is on x264's CRF scale
    (lower is better). ``audio_from`` names a file whose first audio stream is copied
    (remuxed, not re-encoded) with its original timestamps.

    Encoding runs on a background thread behind a queue of ``queue_size``
    frames. Use as a context manager: leaving the block normally closes
    (and renames) the file; an exception aborts it. With ``times``, encoding
    is timed as stage ``stage`` (on thread ``facemirror-<stage>``), the copy
    made by :meth:`write` as ``frame_copy``, and queue waits as
    ``wait:put:<stage>`` / ``wait:get:<stage>``.
    """

    def __init__(
        self,
        path: str | Path,
        width: int,
        height: int,
        fps: Fraction | int,
        *,
        time_base: Fraction | None = None,
        audio_from: str | Path | None = None,
        encoder: str = "auto",
        quality: int = DEFAULT_QUALITY,
        preset: str | None = None,
        queue_size: int = 8,
        times: StageTimes | None = None,
        stage: str = "encode",
        i420_colors: ColorTags | None = None,
        i420_format: str = "yuv420p",
        source_colors: ColorTags | None = None,
    ) -> None:
        self.path = Path(path)
        self._times = times
        self._stage = stage
        if width <= 0 or height <= 0:
            raise ValueError(f"{self.path}: frame size must be positive, got {width}x{height}")
        if i420_colors is not None and (width % 2 or height % 2):
            raise ValueError(f"{self.path}: I420 input needs an even frame size, got {width}x{height}")
        if i420_format not in i420.FORMATS:
            raise ValueError(f"{self.path}: I420 format must be one of {', '.join(i420.FORMATS)}, not {i420_format!r}")
        self.width, self.height = width, height
        self.yuv = i420_colors is not None
        self._shape = (height * 3 // 2, width) if self.yuv else (height, width, 3)
        self._dtype = np.dtype(i420.FORMATS[i420_format] if self.yuv else np.uint8)
        #: bits per sample of the encoded video
        self.bits = 8 if self._dtype == np.uint8 else 10
        self.fps = Fraction(fps)
        self.time_base = Fraction(time_base) if time_base is not None else 1 / self.fps
        self.encoder, self.encoder_report = self._pick_encoder(encoder)
        self.frames_written = 0
        self._last_pts: int | None = None
        self._audio: AudioCopy | None = None
        self.partial = partial_path(self.path if self.path.suffix else self.path.with_suffix(".mp4"))
        self._check_folder()
        self._container = self._open_output()
        try:
            self._video = self._add_video_stream(quality, preset, i420_colors or bgr_colors(source_colors))
            self._audio = open_audio_copy(self._container, Path(audio_from)) if audio_from is not None else None
        except BaseException:
            self.abort()
            raise
        self._worker: BackgroundWorker[tuple[np.ndarray, int]] = BackgroundWorker(
            self._timed_encode,
            maxsize=queue_size,
            name=f"facemirror-{stage}",
            times=times,
        )

    # --- public -------------------------------------------------------------

    def write(self, image: np.ndarray, pts: int | None = None, *, copy: bool = True) -> None:
        """Queue one BGR (or, with ``i420_colors``, I420) frame; ``pts`` (time-base units) must increase.

        The frame is encoded later on the encoder thread, so it is copied first;
        ``copy=False`` skips that (a memory-bandwidth cost at 1080p) for a caller
        that will never change ``image`` again.
        """
        if not self.is_open:
            raise RuntimeError(f"{self.path}: write() after finish(), close() or abort()")
        if image.shape != self._shape or image.dtype != self._dtype:
            kind = "I420 frame" if self.yuv else "image"
            raise ValueError(
                f"{self.path}: expected a {self._dtype} {kind} of shape {self._shape}, got {image.dtype} {image.shape}"
            )
        if pts is None:
            pts = round(self.frames_written / (self.fps * self.time_base))
        if self._last_pts is not None and pts <= self._last_pts:
            raise ValueError(f"{self.path}: pts must increase; got {pts} after {self._last_pts}")
        self._last_pts = pts
        if copy or not image.flags.c_contiguous:
            with self._measure("frame_copy"):
                image = np.array(image, order="C", copy=True)
        self._worker.put((image, pts))
        self.frames_written += 1

    def _complete(self) -> None:
        """Finish encoding and add the rest of the audio: the whole file, still under its temporary name."""
        self._worker.finish()
        if self.frames_written == 0:
            raise OutputError(self.path, "no frames were written; nothing to save")
        with self._measure(f"{self._stage}-flush"):
            self._finish_container()

    def _release(self) -> None:
        """Stop encoding and close the files without finishing them."""
        worker = getattr(self, "_worker", None)
        if worker is not None:
            worker.cancel()
        if self._audio is not None:
            self._audio.close()
        try:
            self._container.close()
        except (av.error.FFmpegError, OSError) as exc:
            log.debug("%s: closing an aborted output: %s", self.path, exc)

    # --- setup --------------------------------------------------------------

    def _pick_encoder(self, encoder: str) -> tuple[str, dict[str, str]]:
        if encoder != "auto":
            return encoder, {}
        try:
            return choose_encoder(self.bits)
        except BackendUnavailable as exc:
            raise OutputError(self.path, str(exc)) from None

    def _check_folder(self) -> None:
        folder = self.path.parent
        if not folder.exists():
            raise OutputError(self.path, f"the output folder {folder} does not exist")
        if not folder.is_dir():
            raise OutputError(self.path, f"the output folder {folder} is not a folder")
        if self.path.is_dir():
            raise OutputError(self.path, "is a directory; give a file name")

    def _open_output(self) -> av.container.OutputContainer:
        fmt = "mov" if self.path.suffix.lower() == ".mov" else "mp4"
        try:
            self.partial.touch()  # FFmpeg creates the file only at the first packet: find a bad folder now
            return av.open(str(self.partial), mode="w", format=fmt, options={"movflags": "+faststart"})
        except (OSError, av.error.FFmpegError) as exc:
            self.partial.unlink(missing_ok=True)
            raise OutputError(self.path, f"cannot create the output file: {_reason(exc)}") from None

    def _add_video_stream(self, quality: int, preset: str | None, colors: ColorTags) -> av.video.stream.VideoStream:
        try:
            stream = self._container.add_stream(self.encoder, rate=self.fps)
            if not isinstance(stream, av.video.stream.VideoStream):
                raise ValueError("not a video encoder")
            stream.width = self.width + self.width % 2
            stream.height = self.height + self.height % 2
            stream.pix_fmt = pixel_format(self.encoder, self.bits)
            if stream.codec_context.codec.canonical_name == "hevc":
                stream.codec_tag = "hvc1"  # FFmpeg's default hev1 is refused by QuickTime and iOS
            stream.time_base = self.time_base
            stream.thread_type = "AUTO"
            context = stream.codec_context
            context.time_base = self.time_base
            context.colorspace, context.color_range = colors.space, colors.range
            context.color_primaries, context.color_trc = colors.primaries, colors.trc
            configure(context, self.encoder, quality, preset)
            context.open()
        except (av.error.FFmpegError, ValueError) as exc:
            raise OutputError(self.path, f"the encoder {self.encoder!r} cannot start: {_reason(exc)}") from None
        return stream

    # --- encoding (background thread) ----------------------------------------

    def _measure(self, stage: str) -> contextlib.AbstractContextManager[None]:
        return self._times.measure(stage) if self._times is not None else contextlib.nullcontext()

    def _timed_encode(self, item: tuple[np.ndarray, int]) -> None:
        with self._measure(self._stage):
            self._encode(item)

    def _encode(self, item: tuple[np.ndarray, int]) -> None:
        image, pts = item
        if self.yuv:
            frame = av.VideoFrame.from_ndarray(image, format=_I420_FRAME_FORMAT[self.bits])
        else:
            if image.shape[0] % 2 or image.shape[1] % 2:
                pad = (image.shape[0] % 2, image.shape[1] % 2)
                image = cv2.copyMakeBorder(image, 0, pad[0], 0, pad[1], cv2.BORDER_REPLICATE)
            frame = _to_video_frame(image, self._video.pix_fmt)
        frame.pts = pts
        frame.time_base = self.time_base
        self._mux_video(frame)
        if self._audio is not None:
            self._mux(self._audio.packets_until(pts * self.time_base))

    def _mux_video(self, frame: av.VideoFrame | None) -> None:
        try:
            packets = self._video.encode(frame)
        except av.error.FFmpegError as exc:
            raise OutputError(self.path, f"encoding failed: {_reason(exc)}") from None
        self._mux(packets)

    def _mux(self, packets: Iterator[av.packet.Packet] | list[av.packet.Packet]) -> None:
        try:
            for packet in packets:
                self._container.mux(packet)
        except av.error.FFmpegError as exc:
            audio = f" (audio codec {self._audio.codec})" if self._audio is not None else ""
            raise OutputError(self.path, f"writing the file failed{audio}: {_reason(exc)}") from None

    # --- teardown -------------------------------------------------------------

    def _finish_container(self) -> None:
        self._mux_video(None)
        if self._audio is not None:
            self._mux(self._audio.packets_until(None))
            self._audio.close()
        try:
            self._container.close()
        except av.error.FFmpegError as exc:
            raise OutputError(self.path, f"finishing the file failed: {_reason(exc)}") from None


def open_audio_copy(output: av.container.OutputContainer, source: Path) -> AudioCopy | None:
    """An :class:`AudioCopy` of the first audio stream of ``source``, or None (logged) when it has none."""
    container = open_input(source)
    stream = next(iter(container.streams.audio), None)
    if stream is None:
        container.close()
        log.info("%s has no audio stream; the output will be silent", source)
        return None
    return AudioCopy(output, container, stream)


class AudioCopy:
    """One audio stream of an open input, remuxed packet by packet into ``output`` (no re-encoding)."""

    def __init__(
        self, output: av.container.OutputContainer, container: av.container.InputContainer, stream: av.AudioStream
    ) -> None:
        self._input = container
        self.codec = stream.codec_context.codec.canonical_name
        self._stream = output.add_stream_from_template(stream)
        self._packets = container.demux(stream)
        self._pending: av.packet.Packet | None = None

    def packets_until(self, time: Fraction | None) -> Iterator[av.packet.Packet]:
        """Yield the source packets that start at or before ``time`` seconds (all that remain when None)."""
        while True:
            packet = self._pending or next(self._packets, None)
            self._pending = None
            if packet is None:
                return
            start = packet.pts if packet.pts is not None else packet.dts
            if packet.size == 0 or start is None:
                continue
            if time is not None and start * packet.time_base > time:
                self._pending = packet
                return
            packet.stream = self._stream
            yield packet

    def close(self) -> None:
        """Release the source file."""
        self._input.close()


def bgr_colors(source: ColorTags | None) -> ColorTags:
    """Tags of video encoded from BGR frames: BT.601 matrix (AVCOL_SPC_SMPTE170M) and limited range, as
    :func:`_to_video_frame` converts; the primaries and transfer of ``source``, the video the BGR was decoded from.
    """
    source = source or ColorTags()
    return replace(source, space=6, range=1)


def _to_video_frame(image: np.ndarray, pix_fmt: str | None) -> av.VideoFrame:
    """A PyAV frame of an even-sized BGR image, converted to yuv420p by OpenCV (4x faster than swscale here).

    Both use BT.601 limited range, FFmpeg's default for untagged video. Other
    formats (nv12) are left to the encoder's own conversion.
    """
    if pix_fmt != "yuv420p":
        return av.VideoFrame.from_ndarray(image, format="bgr24")
    yuv = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420), dtype=np.uint8)
    return av.VideoFrame.from_ndarray(yuv, format="yuv420p")


def _reason(exc: BaseException) -> str:
    """The human part of an FFmpeg/OS error."""
    return getattr(exc, "strerror", None) or str(exc)
