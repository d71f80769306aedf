"""Decode a video stream packet by packet, skipping damaged data as FFmpeg's command line does, and say what was lost.

``container.decode(stream)`` ends at the first packet the decoder rejects, so
one damaged packet in the middle of a recording (a bad SD card, an
interrupted copy) silently cuts the video short. :class:`PacketDecoder` sends
packets one at a time; a rejected packet is skipped and decoding goes on with
the next, so every later frame comes out with its own timestamp.

What was lost is counted by timestamp, not by error: the presentation times
of all packets read, minus those of the frames that came out. Errors are not a
count of lost frames: with frame threading the decoder reports a damaged
packet a few packets later, and a frame whose reference was lost may be
dropped without an error (HEVC does this).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import av.container
import av.packet
import av.video.frame
import av.video.stream

#: lost times listed one by one in the one-line description before it only gives their range
_LISTED = 5


@dataclass(frozen=True)
class DecodeReport:
    """What decoding one video gave: frames decoded, frames lost to damaged data, and where it stopped early.

    Times are seconds on the clock of :attr:`Frame.timestamp
    <facemirror.video.reader.Frame.timestamp>` (0 = the video's first frame).
    ``lost_times``: the frames the file holds but that could not be decoded.
    ``truncated_at``: set when the file stops being decodable before its end
    (cut short, or damaged to the end): the time of the last frame that
    decoded; None when the file decodes to its end.
    """

    frames: int
    lost_times: tuple[float, ...] = ()
    truncated_at: float | None = None

    @property
    def lost(self) -> int:
        """How many frames could not be decoded (that the file shows it holds)."""
        return len(self.lost_times)

    @property
    def damaged(self) -> bool:
        """True when anything was lost or the file ends early."""
        return bool(self.lost_times) or self.truncated_at is not None

    def lost_times_text(self) -> str:
        """The lost times for a CSV cell: ``"1.133;2.267"`` (seconds, 3 decimals; empty when none)."""
        return ";".join(f"{t:.3f}" for t in self.lost_times)

    def describe(self) -> str:
        """One line for logs and summaries ("" when nothing was lost)."""
        parts = []
        if self.lost_times:
            times = self.lost_times
            where = (
                "at " + ", ".join(f"{t:.2f} s" for t in times)
                if len(times) <= _LISTED
                else f"between {times[0]:.2f} s and {times[-1]:.2f} s"
            )
            plural = "s" if len(times) > 1 else ""
            parts.append(f"{len(times)} frame{plural} could not be decoded (damaged data) {where}")
        if self.truncated_at is not None:
            parts.append(f"the file is truncated at {self.truncated_at:.2f} s: nothing after it decodes")
        if not parts:
            return ""
        return "; ".join(parts) + f"; kept {self.frames} frames, each with its own timestamp"

    def as_dict(self) -> dict[str, object]:
        """The report for JSON records (sidecars, batch done-markers), with units in the names."""
        return {
            "frames_decoded": self.frames,
            "frames_lost": self.lost,
            "lost_times_s": [round(t, 6) for t in self.lost_times],
            "truncated_at_s": self.truncated_at,
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> DecodeReport:
        """Read back :meth:`as_dict`."""
        truncated = record.get("truncated_at_s")
        return cls(
            int(record.get("frames_decoded") or 0),
            tuple(float(t) for t in record.get("lost_times_s") or ()),
            None if truncated is None else float(truncated),
        )


class PacketDecoder:
    """The decoded frames of one video stream, in presentation order; a damaged packet is skipped, not fatal.

    Iterate it once. Afterwards :meth:`report` says what was lost.
    ``read_error`` is set when the container itself could not be read on (the
    rest of the file is unreachable); ``first_error`` is the decoder's message for
    the first packet it rejected. The decoder is flushed once, at the end, so the
    frames it still holds come out too.
    """

    def __init__(self, container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> None:
        self._container = container
        self._stream = stream
        #: presentation times (stream time base) of every frame the packets read so far hold
        self.packet_pts: set[int] = set()
        self.decoded_pts: set[int] = set()
        #: the earliest presentation time read so far (the video's start, once its first frame is out)
        self.earliest_pts: int | None = None
        #: frames that came out without a pts: then losses cannot be told by time and none are claimed
        self.untimed = 0
        self.first_error = ""
        self.read_error = ""
        self._flushed = False

    def __iter__(self) -> Iterator[av.video.frame.VideoFrame]:
        try:
            for packet in self._container.demux(self._stream):
                if packet.size == 0:  # the demuxer's end-of-stream marker (the decoder is flushed below)
                    continue
                self._note(packet)
                yield from self._decode(packet)
        except av.error.FFmpegError as exc:
            self.read_error = exc.strerror or str(exc)
        yield from self._decode(None)

    def _note(self, packet: av.packet.Packet) -> None:
        """Remember a packet's frame time (packets the container marks to discard, as edit lists do, hold none)."""
        if packet.pts is None or packet.is_discard:
            return
        self.packet_pts.add(packet.pts)
        if self.earliest_pts is None or packet.pts < self.earliest_pts:
            self.earliest_pts = packet.pts

    def _decode(self, packet: av.packet.Packet | None) -> Iterator[av.video.frame.VideoFrame]:
        """Decode one packet (None: flush, once); a rejected packet is skipped (its frames count as lost)."""
        if packet is None:
            if self._flushed:
                return
            self._flushed = True
        try:
            frames = self._stream.decode(packet)
        except av.error.FFmpegError as exc:
            self.first_error = self.first_error or exc.strerror or str(exc)
            return
        for frame in frames:
            if frame.pts is None:
                self.untimed += 1
            else:
                self.decoded_pts.add(frame.pts)
            yield frame

    def report(self, frames: int, origin: int, time_base: Fraction, cut_short: bool) -> DecodeReport:
        """What was lost, on a clock that starts at pts ``origin``; ``cut_short``: the file is known to end early."""
        lost = [] if self.untimed else sorted(self.packet_pts - self.decoded_pts)
        last = max(self.decoded_pts) if self.decoded_pts else None
        tail_lost = last is not None and bool(lost) and lost[-1] > last
        truncated_at = None
        if last is not None and (cut_short or self.read_error or tail_lost):
            truncated_at = float((last - origin) * time_base)
        return DecodeReport(frames, tuple(float((p - origin) * time_base) for p in lost), truncated_at)
