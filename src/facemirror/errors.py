"""The one exception hierarchy of facemirror.

Every error a user can cause (a bad video, a missing weight file, a backend
that cannot load) is raised as a subclass of :class:`FaceMirrorError`, with a
message that names the file and says what is wrong and, where there is one,
the command that fixes it. Code that calls facemirror catches
``FaceMirrorError``; anything else escaping is a bug.
"""

from __future__ import annotations

from pathlib import Path


class FaceMirrorError(Exception):
    """Base class of every error facemirror raises on purpose."""


# --- video -----------------------------------------------------------------


class VideoError(FaceMirrorError):
    """A problem with an input or output video."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class VideoNotFoundError(VideoError):
    """The input path does not exist or is not a regular file."""


class UnreadableVideoError(VideoError):
    """The file exists but FFmpeg cannot open or decode it (empty, truncated, not a video)."""


class NoVideoStreamError(VideoError):
    """The container opens but holds no video stream (for example an audio-only file)."""


class OutputError(FaceMirrorError):
    """An output cannot be written (folder missing or not writable, encoder failure)."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class OutputBusyError(OutputError):
    """Another process is writing the same outputs (it holds their lock): nothing was written.

    ``holder`` is what the other process recorded in the lock file (pid, host,
    start time), empty when it could not be read.
    """

    def __init__(self, path: str | Path, problem: str, holder: dict[str, object] | None = None) -> None:
        self.holder = dict(holder or {})
        super().__init__(path, problem)


# --- backends --------------------------------------------------------------


class BackendUnavailable(FaceMirrorError):
    """A requested inference backend cannot load here; ``reasons`` says why for each one tried."""

    def __init__(self, message: str, reasons: dict[str, str] | None = None) -> None:
        self.reasons = dict(reasons or {})
        super().__init__(message)


class NotApplicable(BackendUnavailable):
    """The backend runs here but has no model in its format for this network (e.g. no .tflite): a quiet fallback."""


class MissingExtraError(FaceMirrorError):
    """An optional dependency is not installed; the message names the pip extra that provides it."""

    def __init__(self, module: str, extra: str, purpose: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(
            f"{purpose} needs the '{module}' package, which is not installed. "
            f"Install it with: pip install 'facemirror[{extra}]'"
        )


# --- conversion ------------------------------------------------------------


class ConversionError(FaceMirrorError):
    """A network could not be converted (ONNX export, fp16 rewrite, CoreML conversion) or read back."""


# --- weights ---------------------------------------------------------------


class WeightsError(FaceMirrorError):
    """A weight file is missing, corrupt or does not match the network it is loaded into."""


class WeightsMissingError(WeightsError):
    """A weight file the manifest knows is not in the cache (or at the given path)."""


class WeightsCorruptError(WeightsError):
    """A weight file's size or sha256 does not match the manifest, or it cannot be parsed."""


# --- faces -----------------------------------------------------------------


class NoFaceError(FaceMirrorError):
    """A step that needs a face found none: a single image, or a whole video (``frames``: how many it had)."""

    def __init__(self, message: str, frames: int | None = None) -> None:
        self.frames = frames
        super().__init__(message)


# --- batch -----------------------------------------------------------------


class BatchError(FaceMirrorError):
    """A batch cannot start: its inputs are missing or hold no videos."""
