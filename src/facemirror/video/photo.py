"""Photos as one-frame inputs: recognised by their content (a JPEG named ``.mp4`` is a photo), read upright.

Clinics take standardised photos (rest, brow raise, eye closure, smile,
pucker). :class:`PhotoReader` reads one as a one-frame input with the same
interface as :class:`~facemirror.video.VideoReader`, so every job runs on it;
the jobs write PNG images where they write videos for a video
(:class:`PngWriter`). JPEG, PNG, BMP, TIFF and WebP are read by OpenCV, which
applies the EXIF orientation; iPhone HEIC/HEIF photos need the ``heic`` extra
(pillow-heif).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import cv2
import numpy as np

from facemirror.atomic import AtomicWriter, partial_path
from facemirror.errors import OutputError, UnreadableVideoError, VideoNotFoundError
from facemirror.optional import require
from facemirror.video.decode import DecodeReport
from facemirror.video.probe import ColorTags, VideoInfo
from facemirror.video.reader import Frame

#: HEIF brands of still images (an MP4 also starts with an ``ftyp`` box, with a video brand)
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif"}
#: file extensions of photos, for batch discovery
PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".bmp", ".tif", ".tiff")


def photo_format(path: str | Path) -> str | None:
    """The photo format of the file at ``path`` from its first bytes (``jpeg``, ``png``, ``heic``...), else None."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return None
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"BM"):
        return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "heic"
    return None


def is_photo(path: str | Path) -> bool:
    """Whether ``path`` holds a still image (by its content, whatever its name)."""
    return photo_format(path) is not None


def read_photo(path: str | Path) -> np.ndarray:
    """The photo as an upright BGR uint8 image (EXIF orientation applied); a clear error when it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise VideoNotFoundError(path, "no such file")
    kind = photo_format(path)
    if kind == "heic":
        return _read_heic(path)
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise UnreadableVideoError(path, f"not a readable {kind or 'image'} file (damaged or truncated)")
    return image


def _read_heic(path: Path) -> np.ndarray:
    heif = require("pillow_heif", "Reading HEIC/HEIF photos")
    from PIL import Image, ImageOps

    heif.register_heif_opener()
    try:
        with Image.open(path) as picture:
            rgb = np.asarray(ImageOps.exif_transpose(picture).convert("RGB"))
    except Exception as exc:  # pillow-heif raises several kinds on damaged files
        raise UnreadableVideoError(path, f"not a readable HEIC photo ({exc})") from exc
    return np.ascontiguousarray(rgb[..., ::-1])


class PhotoReader:
    """A photo read as a one-frame video (the interface of :class:`~facemirror.video.VideoReader`)."""

    def __init__(self, path: str | Path, **_: Any) -> None:
        self.path = Path(path)
        self.image = read_photo(self.path)
        height, width = self.image.shape[:2]
        one = Fraction(1)
        self.info = VideoInfo(
            path=self.path,
            width=width,
            height=height,
            coded_width=width,
            coded_height=height,
            rotation=0,
            fps=one,
            avg_fps=one,
            time_base=one,
            start_time=0.0,
            frame_count=1,
            duration=0.0,
            codec=photo_format(self.path) or "image",
            pix_fmt=None,
            has_audio=False,
            audio_codec=None,
            audio_sample_rate=None,
            audio_channels=None,
            container_format="photo",
            truncated=False,
            colors=ColorTags(),
        )
        self.yuv = False
        self.truncated = False
        self.decode_report: DecodeReport | None = DecodeReport(frames=1)

    def __enter__(self) -> PhotoReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __iter__(self) -> Any:
        return iter([Frame(index=0, image=self.image, pts=0, time=Fraction(0), timestamp=0.0)])

    def close(self) -> None:
        """Nothing is held open."""


class PngWriter(AtomicWriter):
    """One picture as a PNG, where a video job writes a video (the writing interface of VideoWriter)."""

    encoder = "png"
    encoder_report: dict[str, str] = {}

    def __init__(self, path: str | Path, *_: Any, **__: Any) -> None:
        self.path = Path(path)
        self.partial = partial_path(self.path)
        self._image: np.ndarray | None = None

    def write(self, image: np.ndarray, pts: int | None = None, copy: bool = True) -> None:
        """Keep ``image`` (BGR uint8) as the picture; a photo has one."""
        self._image = image.copy() if copy else image

    def _complete(self) -> None:
        if self._image is None:
            raise OutputError(self.path, "no picture was written")
        ok, data = cv2.imencode(".png", self._image)
        try:
            self.partial.write_bytes(data.tobytes())
        except OSError as exc:
            raise OutputError(self.path, f"writing the file failed: {exc.strerror or exc}") from exc
        if not ok:
            raise OutputError(self.path, "encoding the PNG failed")

    def _release(self) -> None:
        self._image = None
