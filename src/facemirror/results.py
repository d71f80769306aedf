"""What a job returns: the files it wrote, how it went, what ran (:class:`MirrorResult`, :class:`AUResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facemirror.video import DecodeReport, VideoInfo

if TYPE_CHECKING:
    from facemirror.measures import MeasureTable


@dataclass
class JobResult:
    """What a job wrote and how it went (base of :class:`MirrorResult` and :class:`AUResult`)."""

    input: Path
    outputs: dict[str, Path]
    frames: int
    #: frames per landmark source: detected / tracked / none
    landmark_sources: dict[str, int]
    #: frames per midline status: tracked / held / none / turned (empty for extract_aus)
    statuses: dict[str, int]
    #: model name -> what ran it (backend, provider, precision, device, file)
    engines: dict[str, dict[str, str]]
    timings: dict[str, dict[str, float]]
    video: VideoInfo
    au_model: str | None = None
    au_model_reason: str = ""
    encoder: str = ""
    #: encoders tried before the one used, and why each was skipped (recorded in the sidecar)
    encoder_skipped: dict[str, str] = field(default_factory=dict)
    #: thread name -> {stage: seconds} (for the profiler's busy time per thread)
    threads: dict[str, dict[str, float]] = field(default_factory=dict)
    #: the face tracker that ran and what it saw (faces seen, the primary-face rule, other faces ignored)
    face: str = ""
    face_report: dict[str, Any] = field(default_factory=dict)
    #: which part filled which AU CSV columns
    au_columns: dict[str, list[str]] = field(default_factory=dict)
    #: frames the input lost to damaged data, and where it stops being decodable
    decode: DecodeReport | None = None
    #: the clinical measures per frame (``measure()``/``run()``), in millimetres
    measures: MeasureTable | None = None
    #: the per-video summary (what ``{stem}_summary.json`` holds)
    video_summary: dict[str, Any] = field(default_factory=dict)

    @property
    def job(self) -> str:
        """The job's name, as the profiler and batch summaries call it."""
        return "job"

    @property
    def fps(self) -> float:
        """Frames processed per second of wall time."""
        total = self.timings.get("total", {}).get("seconds", 0.0)
        return self.frames / total if total else 0.0

    @property
    def frames_without_face(self) -> int:
        """Frames in which the subject's face was not found."""
        return int(self.landmark_sources.get("none", 0))

    def to_dataframe(self, which: str | None = None) -> Any:
        """An AU CSV as a pandas DataFrame: ``which`` is ``"left"``/``"right"`` for ``run()``, else the one CSV."""
        from facemirror.aus import read_csv

        key = "csv" if which is None else f"{which}_csv"
        if key not in self.outputs:
            raise KeyError(f"this job wrote no {key!r} (it wrote {', '.join(self.outputs)})")
        return read_csv(self.outputs[key])

    def summary(self) -> str:
        """A few human-readable lines for the CLI."""
        lines = [
            f"{self.input.name}: {self.frames} frames in {self.timings['total']['seconds']:.1f} s ({self.fps:.1f} fps)"
        ]
        lines += self._face_lines()
        if self.decode is not None and self.decode.damaged:
            lines.append(f"  damaged input: {self.decode.describe()}")
        if self.au_model:
            lines.append(f"  AU model: {self.au_model} ({self.au_model_reason})")
            for what, columns in self.au_columns.items():
                lines.append(f"    {what}: {_columns_text(columns)}")
        lines += [f"  wrote {p}" for p in self.outputs.values()]
        return "\n".join(lines)

    def _face_lines(self) -> list[str]:
        src = self.landmark_sources
        found = src.get("detected", 0) + src.get("tracked", 0)
        lines = [f"  face ({self.face}): {found} found, {src.get('none', 0)} without"]
        report = self.face_report
        size = report.get("face_size") or {}
        if size:
            small = f" (under {size['small_below_px']:g} px: less precise)" if size["small"] else ""
            lines.append(
                f"  face width {size['min_px']:.0f}-{size['max_px']:.0f} px, median {size['median_px']:.0f}{small}"
            )
        if report.get("faces_seen", 0) > 1:
            lines.append(
                f"  {report['faces_seen']} faces in view; following {report['primary_face_rule']}; other faces "
                f"ignored at {report['frames_with_other_faces_ignored']} detections"
            )
        return lines


def _columns_text(columns: list[str], show: int = 6) -> str:
    head = ", ".join(columns[:show])
    return head + (f" and {len(columns) - show} more" if len(columns) > show else "")


@dataclass
class MirrorResult(JobResult):
    """The result of ``mirror()``, of ``run()`` (which also wrote an AU CSV per mirrored face) and of ``measure()``."""

    @property
    def job(self) -> str:
        if "left_csv" in self.outputs:
            return "run"
        return "mirror" if "left" in self.outputs else "measure"

    def _face_lines(self) -> list[str]:
        lines = super()._face_lines()
        s = self.statuses
        if s:
            lines.insert(
                1,
                f"  midline: {s.get('tracked', 0)} tracked, {s.get('held', 0)} held (face lost), "
                f"{s.get('turned', 0)} turned too far, {s.get('none', 0)} none (frame not mirrored)",
            )
        return lines


@dataclass
class AUResult(JobResult):
    """The result of ``extract_aus()``: one AU CSV of the video's own face."""

    @property
    def job(self) -> str:
        return "extract_aus"
