"""What happened to each video of a batch, and the ``batch_summary.csv`` that lists it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from facemirror.errors import FaceMirrorError
from facemirror.tabular import CsvTableWriter
from facemirror.video.decode import DecodeReport

DONE, SKIPPED, FAILED = "done", "skipped", "failed"

#: the columns of batch_summary.csv (those about damaged inputs last, so older scripts' column positions hold)
COLUMNS = (
    "file",
    "status",
    "frames",
    "seconds",
    "fps",
    "error",
    "frames_lost",
    "lost_times",
    "truncated_at",
    "frames_without_face",
)

SUMMARY_NAME = "batch_summary.csv"


@dataclass
class VideoOutcome:
    """One video's result: ``done`` (processed now), ``skipped`` (done by an earlier run) or ``failed``."""

    #: the video's path relative to the input root, POSIX style
    file: str
    status: str
    frames: int | None = None
    #: wall time of the job; for a skipped video, none (nothing ran)
    seconds: float | None = None
    error: str = ""
    #: output name -> file written (absolute path)
    outputs: dict[str, str] = field(default_factory=dict)
    #: what the input lost to damaged data (None when the video failed)
    decode: DecodeReport | None = None
    #: frames in which the subject's face was not found (all of them for a video that failed with no face)
    frames_without_face: int | None = None

    @property
    def fps(self) -> float | None:
        """Frames per second of wall time, when the video was processed in this run."""
        return self.frames / self.seconds if self.frames is not None and self.seconds else None

    def row(self) -> dict[str, object]:
        """The video's line of batch_summary.csv."""
        return {
            "file": self.file,
            "status": self.status,
            "frames": self.frames,
            "seconds": self.seconds,
            "fps": self.fps,
            "error": self.error,
            "frames_lost": self.decode.lost if self.decode is not None else None,
            "lost_times": self.decode.lost_times_text() if self.decode is not None else None,
            "truncated_at": self.decode.truncated_at if self.decode is not None else None,
            "frames_without_face": self.frames_without_face,
        }


def error_message(exc: BaseException) -> str:
    """One line for the summary: a FaceMirrorError's own message, anything else prefixed with its type name."""
    text = str(exc) if isinstance(exc, FaceMirrorError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


def write_summary(path: Path, outcomes: Iterable[VideoOutcome]) -> Path:
    """Write (atomically replace) the summary CSV with one row per outcome."""
    with CsvTableWriter(path, COLUMNS, decimals=3) as table:
        for outcome in outcomes:
            table.write(outcome.row())
    return path


@dataclass
class BatchResult:
    """The outcome of every video of a batch, in input order, and where the summary was written."""

    out_dir: Path
    outcomes: list[VideoOutcome]
    summary_path: Path

    @property
    def counts(self) -> dict[str, int]:
        """Videos per status."""
        return dict(Counter(o.status for o in self.outcomes))

    @property
    def failed(self) -> list[VideoOutcome]:
        """The videos that failed."""
        return [o for o in self.outcomes if o.status == FAILED]

    @property
    def ok(self) -> bool:
        """True when no video failed."""
        return not self.failed

    def summary(self) -> str:
        """A few human-readable lines for the CLI."""
        c = self.counts
        lines = [
            f"{len(self.outcomes)} videos: {c.get(DONE, 0)} done, {c.get(SKIPPED, 0)} skipped (done before), "
            f"{c.get(FAILED, 0)} failed",
        ]
        lines += [f"  failed: {o.file}: {o.error}" for o in self.failed]
        lines += [
            f"  damaged input: {o.file}: {o.decode.describe()}" for o in self.outcomes if o.decode and o.decode.damaged
        ]
        lines.append(f"summary: {self.summary_path}")
        return "\n".join(lines)
