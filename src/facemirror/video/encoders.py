"""Pick the H.264 encoder that works on this machine, fastest first, by trying each one.

An encoder listed by FFmpeg may still fail to open (no GPU, no driver, no
Media Engine), so each candidate is tried with a tiny real encode; the
first that succeeds is used, and why each earlier one was skipped is kept.
The choice is made once per process.
"""

from __future__ import annotations

import functools
from fractions import Fraction

import av
import av.codec
import numpy as np

from facemirror.errors import BackendUnavailable

#: hardware encoders first (macOS Media Engine, NVIDIA, Intel), then the software fallback
CANDIDATES: tuple[str, ...] = ("h264_videotoolbox", "h264_nvenc", "h264_qsv", "libx264")

#: default constant-quality level (x264 CRF scale: lower is better; 18 is visually lossless)
DEFAULT_QUALITY = 18

_PROBE_SIZE = 256  # hardware encoders reject very small frames
_PROBE_FRAMES = 3
_FF_QP2LAMBDA = 118  # FFmpeg's quantizer-to-lambda scale


def pixel_format(name: str) -> str:
    """The 4:2:0 8-bit input format ``name`` accepts: yuv420p where it can, else nv12 (QSV, VideoToolbox)."""
    formats = [f.name for f in (av.codec.Codec(name, "w").video_formats or ())]
    return "yuv420p" if not formats or "yuv420p" in formats else "nv12"


def configure(codec: av.CodecContext, name: str, quality: int = DEFAULT_QUALITY, preset: str | None = None) -> None:
    """Set options on ``codec`` (encoder ``name``) for roughly constant quality ``quality`` on the x264 CRF scale."""
    if name == "libx264":
        codec.options = {"crf": str(quality), "preset": preset or "veryfast"}
    elif name == "h264_nvenc":
        codec.options = {"rc": "vbr", "cq": str(quality), "preset": preset or "p4"}
    elif name == "h264_qsv":
        codec.options = {"global_quality": str(quality), "preset": preset or "medium"}
    elif name == "h264_videotoolbox":
        # VideoToolbox reads a 1-100 quality (higher is better) from global_quality in lambda units
        codec.qscale = True
        codec.options = {"global_quality": str(max(1, 100 - 2 * quality) * _FF_QP2LAMBDA), "allow_sw": "0"}


def try_encoder(name: str) -> None:
    """Encode a few tiny frames with ``name``; raises (any exception) if it cannot."""
    codec = av.CodecContext.create(name, "w")
    if not isinstance(codec, av.VideoCodecContext):
        raise TypeError(f"{name} is not a video encoder")
    codec.width = codec.height = _PROBE_SIZE
    codec.pix_fmt = pixel_format(name)
    codec.time_base = Fraction(1, 30)
    codec.framerate = Fraction(30)
    configure(codec, name)
    image = np.zeros((_PROBE_SIZE, _PROBE_SIZE, 3), np.uint8)
    packets = []
    for i in range(_PROBE_FRAMES):
        frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format=codec.pix_fmt)
        frame.pts = i
        packets += codec.encode(frame)
    packets += codec.encode(None)
    if not packets:
        raise RuntimeError("the encoder produced no output")


@functools.cache
def choose_encoder() -> tuple[str, dict[str, str]]:
    """The first working encoder of :data:`CANDIDATES`, and ``{skipped encoder: reason}``; cached per process.

    Raises :class:`~facemirror.errors.BackendUnavailable` (with every reason)
    when none works.
    """
    skipped: dict[str, str] = {}
    for name in CANDIDATES:
        if name not in av.codecs_available:
            skipped[name] = "not built into this FFmpeg"
            continue
        try:
            try_encoder(name)
        except Exception as exc:
            reason = exc.strerror if isinstance(exc, av.error.FFmpegError) else str(exc)
            skipped[name] = f"a test encode failed: {reason}"
            continue
        return name, skipped
    raise BackendUnavailable("no working H.264 encoder: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()), skipped)
