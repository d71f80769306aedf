"""Pick the video encoder that works on this machine, fastest first, by trying each one.

8-bit video is encoded as H.264; 10-bit video (an iPhone's HEVC Main 10 HLG)
as HEVC Main 10, which players decode in hardware where H.264 High 10 is
rarely supported. An encoder listed by FFmpeg may still fail to open (no GPU,
no driver, no Media Engine), so each candidate is tried with a tiny real
encode; the first that succeeds is used, and why each earlier one was skipped
is kept. The choice is made once per process and bit depth.
"""

from __future__ import annotations

import functools
from fractions import Fraction

import av
import av.codec
import numpy as np

from facemirror.errors import BackendUnavailable

#: H.264 encoders for 8-bit video: hardware first (macOS Media Engine, NVIDIA, Intel), then the software fallback
CANDIDATES: tuple[str, ...] = ("h264_videotoolbox", "h264_nvenc", "h264_qsv", "libx264")
#: HEVC encoders for 10-bit video, in the same order
CANDIDATES_10BIT: tuple[str, ...] = ("hevc_videotoolbox", "hevc_nvenc", "hevc_qsv", "libx265")

#: default constant-quality level (x264 CRF scale: lower is better; 18 is visually lossless)
DEFAULT_QUALITY = 18

_PROBE_SIZE = 256  # hardware encoders reject very small frames
_PROBE_FRAMES = 3
_FF_QP2LAMBDA = 118  # FFmpeg's quantizer-to-lambda scale


def pixel_format(name: str, bits: int = 8) -> str:
    """The 4:2:0 input format of ``bits`` per sample that ``name`` accepts, planar where it can.

    8-bit: yuv420p, else nv12 (QSV, VideoToolbox); 10-bit: yuv420p10le, else p010le.
    """
    planar, packed = ("yuv420p", "nv12") if bits == 8 else ("yuv420p10le", "p010le")
    formats = [f.name for f in (av.codec.Codec(name, "w").video_formats or ())]
    return planar if not formats or planar in formats else packed


def configure(codec: av.CodecContext, name: str, quality: int = DEFAULT_QUALITY, preset: str | None = None) -> None:
    """Set options on ``codec`` (encoder ``name``) for roughly constant quality ``quality`` on the x264 CRF scale.

    x265 gets the same CRF number, which by x265's own scale is a little better quality than x264's.
    """
    family = name.split("_")[-1]  # x264/x265 by name, the hardware encoders by API (nvenc, qsv, videotoolbox)
    if name in ("libx264", "libx265"):
        quiet = {"x265-params": "log-level=error"} if name == "libx265" else {}  # x265 logs to stderr itself
        codec.options = {"crf": str(quality), "preset": preset or "veryfast", **quiet}
    elif family == "nvenc":
        codec.options = {"rc": "vbr", "cq": str(quality), "preset": preset or "p4"}
    elif family == "qsv":
        codec.options = {"global_quality": str(quality), "preset": preset or "medium"}
    elif family == "videotoolbox":
        # VideoToolbox reads a 1-100 quality (higher is better) from global_quality in lambda units
        codec.qscale = True
        codec.options = {"global_quality": str(max(1, 100 - 2 * quality) * _FF_QP2LAMBDA), "allow_sw": "0"}


def try_encoder(name: str, bits: int = 8) -> None:
    """Encode a few tiny frames of ``bits`` per sample with ``name``; raises (any exception) if it cannot."""
    codec = av.CodecContext.create(name, "w")
    if not isinstance(codec, av.VideoCodecContext):
        raise TypeError(f"{name} is not a video encoder")
    codec.width = codec.height = _PROBE_SIZE
    codec.pix_fmt = pixel_format(name, bits)
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
def choose_encoder(bits: int = 8) -> tuple[str, dict[str, str]]:
    """The first working encoder for ``bits`` per sample (8: :data:`CANDIDATES`, 10: :data:`CANDIDATES_10BIT`).

    Returns it with ``{skipped encoder: reason}``; cached per process. Raises
    :class:`~facemirror.errors.BackendUnavailable` (with every reason) when none works.
    """
    candidates, codec = (CANDIDATES, "H.264") if bits == 8 else (CANDIDATES_10BIT, "10-bit HEVC")
    skipped: dict[str, str] = {}
    for name in candidates:
        if name not in av.codecs_available:
            skipped[name] = "not built into this FFmpeg"
            continue
        try:
            try_encoder(name, bits)
        except Exception as exc:
            reason = exc.strerror if isinstance(exc, av.error.FFmpegError) else str(exc)
            skipped[name] = f"a test encode failed: {reason}"
            continue
        return name, skipped
    raise BackendUnavailable(
        f"no working {codec} encoder: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()), skipped
    )
