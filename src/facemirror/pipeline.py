"""``Pipeline``: a face tracker, an AU model and settings, composed into the jobs ``mirror``, ``extract_aus``, ``run``.

Every job streams the video once through one loop: the decode thread feeds
the face stage (the tracker's face, head pose, raw midline) on the caller's
thread, which feeds the job's sink (:mod:`facemirror.sinks`): for
``mirror``/``run`` a streaming smoother with a fixed look-ahead and the mirror
stage on its own thread feeding three encoders (their own threads); for
``extract_aus`` the AU stage. AU crops are batched through the AU model on yet
another thread. Every queue is bounded, so memory does not grow with the
video's length. Parts are built once per ``Pipeline`` and reused for every
video it processes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tqdm import tqdm

from facemirror import registry
from facemirror.atomic import OutputGroup, check_writable_dir
from facemirror.aus.extractor import AUExtractor
from facemirror.aus.schema import au_columns, column_sources
from facemirror.aus.writer import AUCsvWriter
from facemirror.backends.base import Engine
from facemirror.blinks.series import EyeSeries
from facemirror.errors import NoFaceError
from facemirror.face.base import FaceTracker
from facemirror.face_stage import FaceStage
from facemirror.layouts import SIDES, LandmarkLayout
from facemirror.locks import locked_outputs
from facemirror.measures import MeasureRecorder
from facemirror.mirror.midline_csv import COLUMNS as MIDLINE_COLUMNS
from facemirror.mirror.smoothing import SmoothingParams
from facemirror.models.base import AUModel
from facemirror.optional import require
from facemirror.provenance import build_provenance, model_record, output_record, write_sidecar
from facemirror.report import write_report
from facemirror.report.from_job import job_report
from facemirror.results import AUResult, JobResult, MirrorResult
from facemirror.settings import QUALITY, Measures, Mirroring, Outputs, PipelineConfig, Runtime, Tracking
from facemirror.sinks import AUSink, MirrorSink, MirrorTargets
from facemirror.summary import AUSeries, au_summary_columns, read_au_series, summary_files, video_summary
from facemirror.tabular import CsvTableWriter
from facemirror.timing import StageTimes
from facemirror.video import Frame, VideoInfo, VideoReader, VideoWriter
from facemirror.video.photo import PhotoReader, PngWriter, is_photo

if TYPE_CHECKING:
    from facemirror.batch.summary import BatchResult

log = logging.getLogger(__name__)
#: the kind of result a job returns
ResultT = TypeVar("ResultT", bound=JobResult)

__all__ = [
    "QUALITY",
    "AUResult",
    "JobResult",
    "MirrorResult",
    "Pipeline",
    "default_out_dir",
    "describe",
    "output_paths",
]

#: the keyword arguments Pipeline took before the settings were grouped -> (group, field)
LEGACY_KEYWORDS = {
    "backend": ("runtime", "backend"),
    "threads": ("runtime", "threads"),
    "au_batch_size": ("runtime", "au_batch_size"),
    "mtl_weights": ("runtime", "weights"),
    "redetect_seconds": ("tracking", "redetect_seconds"),
    "symmetric_landmarks": ("tracking", "symmetric_landmarks"),
    "flip_every": ("tracking", "flip_every"),
    "hold_seconds": ("mirroring", "hold_seconds"),
    "max_yaw_deg": ("mirroring", "max_yaw_deg"),
    "feather_px": ("mirroring", "feather_px"),
    "debug_video": ("outputs", "debug_video"),
    "debug_scale": ("outputs", "debug_scale"),
    "quality": ("outputs", "quality"),
    "encoder": ("outputs", "encoder"),
    "copy_audio": ("outputs", "copy_audio"),
}


def output_paths(out_dir: Path, stem: str, photo: bool = False) -> dict[str, Path]:
    """Every file the jobs write for ``stem``, named as the prior tool named the videos so lab scripts keep working.

    For a photo the mirrored faces and the debug picture are PNG images.
    """
    picture = ".png" if photo else ".mp4"
    return {
        "left": out_dir / f"{stem}_left_mirrored{picture}",
        "right": out_dir / f"{stem}_right_mirrored{picture}",
        "debug": out_dir / f"{stem}_debug{picture}",
        "midline_csv": out_dir / f"{stem}_midline.csv",
        "left_csv": out_dir / f"{stem}_left_mirrored.csv",
        "right_csv": out_dir / f"{stem}_right_mirrored.csv",
        **eye_and_summary_paths(out_dir, stem),
        "measures_csv": out_dir / f"{stem}_measures.csv",
        "report": out_dir / f"{stem}_report.html",
    }


def eye_and_summary_paths(out_dir: Path, stem: str) -> dict[str, Path]:
    """The blinks and the per-video summary, which every job writes beside its outputs."""
    return {
        "blinks_csv": out_dir / f"{stem}_blinks.csv",
        "summary_json": out_dir / f"{stem}_summary.json",
        "summary_csv": out_dir / f"{stem}_summary.csv",
    }


def stem_family(out_dir: Path, stem: str) -> list[Path]:
    """Every file any job may write for ``stem`` in ``out_dir`` (videos or pictures, AU CSV, profile), so the job
    holding the stem's lock can remove what a killed job of another kind left there."""
    return [
        *output_paths(out_dir, stem).values(),
        *output_paths(out_dir, stem, photo=True).values(),
        out_dir / f"{stem}.csv",
        out_dir / f"{stem}.profile.txt",
        out_dir / f"{stem}.profile.json",
    ]


#: what each mirror-stage job writes (keys of :func:`output_paths`)
JOB_OUTPUTS = {
    "mirror": ("left", "right", "debug", "midline_csv"),
    "run": ("left", "right", "debug", "midline_csv", "left_csv", "right_csv", "measures_csv", "blinks_csv",
            "summary_json", "summary_csv", "report"),
    "measure": ("measures_csv", "blinks_csv", "summary_json", "summary_csv"),
}  # fmt: skip


def default_out_dir(video: Path) -> Path:
    """Where outputs go when no folder is given: ``<video folder>/<stem>_facemirror``."""
    return video.parent / f"{video.stem}_facemirror"


def describe(part: object) -> str:
    """A part as provenance names it: its registered name, or ``module.Class`` of an instance."""
    if isinstance(part, str):
        return part
    return f"{type(part).__module__}.{type(part).__qualname__}"


class Pipeline:
    """Mirror face videos and extract their action units, from swappable parts; one instance builds them once.

    ``face``: the face tracker, a registered name (``"mediapipe"``, the
    embedded default; ``"openface3"``, RetinaFace + STAR with the user's
    OpenFace 3.0 weights) or any :class:`~facemirror.face.FaceTracker`.
    ``au_model``: ``"auto"`` (OpenFace 3.0's MTL when its weights are
    installed, else the embedded blendshapes), ``"openface3"``,
    ``"blendshapes"`` or any :class:`~facemirror.models.AUModel`.
    ``selfie=True`` is for recordings the camera app mirrored (it swaps which
    image side is the subject's left). Settings come grouped:
    :class:`~facemirror.settings.Runtime` (backend, threads, weights),
    :class:`~facemirror.settings.Tracking`, :class:`~facemirror.settings.Mirroring`,
    :class:`~facemirror.settings.Outputs` and :class:`~facemirror.settings.Measures`. ``profile=True`` writes
    ``<stem>.profile.txt``/``.json`` (where the time went) beside each job's outputs.

    The keyword arguments of earlier releases (``backend=``, ``quality=``,
    ``hold_seconds=``, ``smoothing=``, ...) still work for this release, with
    a DeprecationWarning naming the setting that replaces each.
    """

    def __init__(
        self,
        face: str | FaceTracker = "mediapipe",
        au_model: str | AUModel = "auto",
        *,
        selfie: bool = False,
        runtime: Runtime | None = None,
        tracking: Tracking | None = None,
        mirroring: Mirroring | None = None,
        outputs: Outputs | None = None,
        measures: Measures | None = None,
        progress: bool = True,
        profile: bool = False,
        **legacy: Any,
    ) -> None:
        old_backend = isinstance(face, (list, tuple)) or (isinstance(face, str) and face not in registry.FACE_TRACKERS)
        if old_backend and _is_backend(face):
            warnings.warn(
                "Pipeline(backend) as the first argument is deprecated: use Pipeline(runtime=Runtime(backend=...))",
                DeprecationWarning,
                stacklevel=2,
            )
            legacy["backend"], face = face, "mediapipe"
        groups = _apply_legacy(
            legacy,
            {
                "runtime": runtime or Runtime(),
                "tracking": tracking or Tracking(),
                "mirroring": mirroring or Mirroring(),
                "outputs": outputs or Outputs(),
                "measures": measures or Measures(),
            },
        )
        if isinstance(face, str):
            if face not in registry.FACE_TRACKERS:
                raise ValueError(f"unknown face tracker {face!r}; registered: {', '.join(registry.FACE_TRACKERS)}")
        elif not isinstance(face, FaceTracker):
            raise TypeError(f"face must be a face tracker name or a FaceTracker, not {type(face).__name__}")
        if isinstance(au_model, str) and au_model != "auto" and au_model not in registry.AU_MODELS:
            raise ValueError(f"unknown AU model {au_model!r}; registered: auto, {', '.join(registry.AU_MODELS)}")
        if not isinstance(au_model, (str, AUModel)):
            raise TypeError(f"au_model must be an AU model name or an AUModel, not {type(au_model).__name__}")
        self.face = face
        self.au_model = au_model
        self.selfie = selfie
        self.runtime: Runtime = groups["runtime"]
        self.tracking: Tracking = groups["tracking"]
        self.mirroring: Mirroring = groups["mirroring"]
        self.outputs: Outputs = groups["outputs"]
        self.measures: Measures = groups["measures"]
        self.progress = progress
        self.profile = profile
        self._tracker: FaceTracker | None = face if isinstance(face, FaceTracker) else None
        self._au_models: dict[str, tuple[AUModel, str, str]] = {}

    def __getstate__(self) -> dict[str, Any]:
        """For pickling (batch workers): user instances travel, parts built from names are rebuilt there."""
        state = dict(self.__dict__)
        state["_au_models"] = {}
        if isinstance(self.face, str):
            state["_tracker"] = None
        return state

    @classmethod
    def from_config(cls, config: PipelineConfig, *, progress: bool = True, profile: bool = False) -> Pipeline:
        """The pipeline a :class:`~facemirror.settings.PipelineConfig` describes (what batch workers build)."""
        return cls(
            config.face,
            config.au_model,
            selfie=config.selfie,
            runtime=config.runtime,
            tracking=config.tracking,
            mirroring=config.mirroring,
            outputs=config.outputs,
            measures=config.measures,
            progress=progress,
            profile=profile,
        )

    @property
    def built_from_names(self) -> bool:
        """Whether every part is a registered name (then :attr:`config` rebuilds it anywhere)."""
        return isinstance(self.face, str) and isinstance(self.au_model, str)

    @property
    def config(self) -> PipelineConfig:
        """This pipeline as plain data; an instance part appears as ``module.Class`` (not rebuildable from it)."""
        return PipelineConfig(
            describe(self.face),
            describe(self.au_model),
            self.selfie,
            self.runtime,
            self.tracking,
            self.mirroring,
            self.outputs,
            self.measures,
        )

    def parameters(self) -> dict[str, Any]:
        """Every setting of this pipeline, for provenance sidecars."""
        return {**self.config.to_dict(), "smoothing": dataclasses.asdict(self.mirroring.smoothing)}

    # --- parts, built once ----------------------------------------------------

    @property
    def face_tracker(self) -> FaceTracker:
        """The face tracker, built on first use."""
        if self._tracker is None:
            self._tracker = registry.face_tracker(self.face, self.runtime, self.tracking)
        return self._tracker

    def au_model_for(self, requested: str | AUModel | None = None) -> AUModel:
        """The AU model a job runs (``requested`` overrides the pipeline's), built once per name."""
        return self._au(requested)[0]

    def _au(self, requested: str | AUModel | None) -> tuple[AUModel, str, str]:
        """(model, its name, why it was chosen) for ``requested`` or the pipeline's AU model."""
        spec = self.au_model if requested is None else requested
        layout = self.face_tracker.layout
        if isinstance(spec, AUModel):
            return registry.au_model(spec, self.runtime, layout)
        if spec not in self._au_models:  # by the name asked for, so each name keeps its own reason
            self._au_models[spec] = registry.au_model(spec, self.runtime, layout)
        model, name, reason = self._au_models[spec]
        log.info("AU model: %s (%s)", name, reason)
        return model, name, reason

    # --- jobs -------------------------------------------------------------------

    def mirror(self, video: str | Path, out_dir: str | Path | None = None) -> MirrorResult:
        """Write the left- and right-mirrored videos, the debug video and the midline CSV of ``video``."""
        return self._mirror_job("mirror", Path(video), out_dir)

    def run(
        self,
        video: str | Path,
        out_dir: str | Path | None = None,
        au_model: str | AUModel | None = None,
        *,
        report: bool | None = None,
    ) -> MirrorResult:
        """``mirror()``, an AU CSV for each mirrored face, the clinical measures, blinks and summary, in one pass.

        The AU crops come from the mirrored frames with the box of the
        mirrored landmarks (no second decode, no second face search).
        ``report`` (default: ``outputs.report``) also writes ``{stem}_report.html``.
        """
        with_report = self.outputs.report if report is None else report
        if with_report:
            require("matplotlib", "the HTML report")  # before the video, not after it
        return self._mirror_job("run", Path(video), out_dir, au=self._au(au_model), report=with_report)

    def measure(self, video: str | Path, out_dir: str | Path | None = None) -> MirrorResult:
        """The clinical measures of ``video``'s face per frame and side in millimetres, its blinks and the summary.

        Writes ``{stem}_measures.csv``, ``{stem}_blinks.csv`` and ``{stem}_summary.json``/``.csv`` (docs/measures.md).
        """
        return self._mirror_job("measure", Path(video), out_dir)

    def scan_faces(self, video: str | Path) -> dict[str, Any]:
        """Where the face tracker finds the subject in ``video``, writing nothing: the frames with a face, the face's
        width range (and whether it is small enough that numbers are less precise), and the faces seen.

        What ``facemirror info --faces`` prints; a quick check of a recording before a long job.
        """
        video = Path(video)
        tracker = self.face_tracker.for_job(needs_midline=False)
        stage = FaceStage(tracker, StageTimes(), midline=False)
        frames = found = 0
        with (PhotoReader if is_photo(video) else VideoReader)(video) as reader:
            for frame in self._progress(reader, reader.info):
                frames += 1
                found += stage(frame).face is not None
            decode = reader.decode_report
        return {
            "face": tracker.name,
            "frames": frames,
            "frames_with_face": found,
            "face_size": stage.face_size(),
            **tracker.report(),
            **({"damaged_input": decode.describe()} if decode is not None and decode.damaged else {}),
        }

    def extract_aus(
        self, video: str | Path, csv_path: str | Path | None = None, au_model: str | AUModel | None = None
    ) -> AUResult:
        """Per-frame AUs of the face in ``video``, written to ``csv_path`` (default ``<video folder>/<stem>.csv``),
        with its blinks (``<stem>_blinks.csv``) and the eyes' summary (``<stem>_summary.json``/``.csv``) beside it."""
        video = Path(video)
        tracker = self.face_tracker.for_job(needs_midline=False)
        model, name, reason = self._au(au_model)
        times = StageTimes()  # after building the parts: the timings are the video's
        photo = is_photo(video)
        with (PhotoReader if photo else VideoReader)(video, times=times) as reader:
            info = reader.info
            csv_file = Path(csv_path) if csv_path is not None else video.with_suffix(".csv")
            paths = {"csv": csv_file, **eye_and_summary_paths(csv_file.parent, csv_file.stem)}
            if photo:  # a photo has no blinks
                del paths["blinks_csv"]
            columns = au_columns(model, openface=self.outputs.openface_columns)
            with locked_outputs(paths.values(), csv_file.stem, stem_family(csv_file.parent, csv_file.stem)) as group:
                writer = group.add(AUCsvWriter(csv_file, columns))
                # the face stage has time to spare for AU preprocessing; the AU thread then only runs the network
                extractor = self._extractor({"csv": writer}, model, times, preprocess_on_add=True)
                eyes = EyeSeries(float(info.fps), self.selfie, self.measures)
                stage = FaceStage(tracker, times, midline=False)
                frames, sources = self._stream(reader, info, stage, AUSink(extractor), eyes)
                _check_some_face(video, frames, sources)
                group.finish()
                result = self._result(AUResult, video, paths, frames, sources, times, reader, stage, tracker, model)
                result.au_model, result.au_model_reason = name, reason
                self._summarise(group, paths, result, eyes)
                self._finish(result, self._provenance(result, tracker, model), group)
        return result

    def run_many(
        self, inputs: str | Path | Sequence[str | Path], out_dir: str | Path, job: str = "run", **options: Any
    ) -> BatchResult:
        """Run ``job`` on many videos: resumable, failures isolated, in parallel (see ``facemirror.batch``)."""
        from facemirror.batch.runner import run_batch

        return run_batch(self, inputs, out_dir, job=job, **options)

    # --- internals ------------------------------------------------------------

    def _stream(
        self, reader: Iterable[Frame], info: VideoInfo, stage: FaceStage, sink: Any, eyes: EyeSeries | None = None
    ) -> tuple[int, Counter[str]]:
        """The loop every job shares: each decoded frame through the face stage into the job's sink (and the eyes)."""
        sources: Counter[str] = Counter()
        frames = 0
        try:
            for frame in self._progress(reader, info):
                ff = stage(frame)
                sources[ff.source] += 1
                if eyes is not None:
                    eyes.add(frame.timestamp, ff.landmarks, ff.face.layout if ff.face is not None else None)
                sink.push(ff)
                frames += 1
            sink.close()
        except BaseException:
            sink.cancel()
            raise
        return frames, sources

    def _result(
        self,
        kind: type[ResultT],
        video: Path,
        paths: dict[str, Path],
        frames: int,
        sources: Mapping[str, int],
        times: StageTimes,
        reader: PhotoReader | VideoReader,
        stage: FaceStage,
        tracker: FaceTracker,
        model: AUModel | None,
    ) -> ResultT:
        """What every job returns about its video, its face and the parts that ran (the job adds its own)."""
        return kind(
            input=video,
            outputs=dict(paths),
            frames=frames,
            landmark_sources=dict(sources),
            statuses={},
            engines=self._engines(tracker, model),
            timings=times.as_dict(),
            video=reader.info,
            threads=times.threads(),
            face=tracker.name,
            face_report={**tracker.report(), "face_size": stage.face_size()},
            au_columns=column_sources(model, **_landmark_columns(tracker.layout)) if model is not None else {},
            decode=reader.decode_report,
        )

    def _extractor(
        self, writers: dict[str, AUCsvWriter], model: AUModel, times: StageTimes, preprocess_on_add: bool
    ) -> AUExtractor:
        batch = self.runtime.au_batch_size if model.inputs == "crops" else 1
        return AUExtractor(writers, model, batch_size=batch, times=times, preprocess_on_add=preprocess_on_add)

    def _progress(self, reader: Iterable[Frame], info: VideoInfo) -> Iterator[Any]:
        # leave=None: the bar stays when it is the only one, and is cleared under a batch's bar
        with tqdm(
            total=info.frame_count, unit="frame", desc=info.path.name, disable=not self.progress, leave=None
        ) as bar:
            for frame in reader:
                yield frame
                bar.update(1)
            bar.total = bar.n  # the container's frame count is an estimate: end at the frames decoded

    def _mirror_job(
        self,
        job: str,
        video: Path,
        out_dir: str | Path | None,
        au: tuple[AUModel, str, str] | None = None,
        report: bool = False,
    ) -> MirrorResult:
        """``mirror``, ``run`` or ``measure``: the face stage, the smoothed midline, then the mirror stage's work."""
        tracker = self.face_tracker.for_job(needs_midline=True)
        model = au[0] if au is not None else None
        photo = is_photo(video)
        wanted = set(JOB_OUTPUTS[job]) - ({"debug"} if not self.outputs.debug_video else set())
        wanted -= ({"report"} if not report else set()) | ({"blinks_csv"} if photo else set())
        times = StageTimes()  # after building the parts: the timings are the video's
        # mirrored videos are made from the decoder's own YUV where the video has it (no BGR round trip)
        with (PhotoReader if photo else VideoReader)(video, times=times, yuv="left" in wanted) as reader:
            info = reader.info
            folder = check_writable_dir(out_dir if out_dir is not None else default_out_dir(video))
            paths = {k: v for k, v in output_paths(folder, video.stem, photo).items() if k in wanted}
            measured = "measures_csv" in paths
            recorder = (
                MeasureRecorder(
                    self.measures,
                    self.selfie,
                    self.mirroring.max_yaw_deg,
                    self.mirroring.feather_px,
                    key_frames=None if "report" in paths else 0,  # only the report shows them
                )
                if measured
                else None
            )
            eyes = EyeSeries(float(info.fps), self.selfie, self.measures) if measured else None
            with locked_outputs(paths.values(), video.stem, stem_family(folder, video.stem)) as group:
                with self._mirror_outputs(group, paths, info, model, recorder, times, yuv=reader.yuv) as targets:
                    # the mirror stage is busy: AU preprocessing runs on the AU thread
                    sink = MirrorSink(targets, info, self.mirroring, self.outputs, self.selfie, times)
                    stage = FaceStage(tracker, times)
                    frames, sources = self._stream(reader, info, stage, sink, eyes)
                    _check_some_face(video, frames, sources)
                left = targets.writers.get("left")
                result = self._result(MirrorResult, video, paths, frames, sources, times, reader, stage, tracker, model)
                result.statuses = dict(sink.statuses)
                if au is not None:
                    result.au_model, result.au_model_reason = au[1], au[2]
                if left is not None:
                    result.encoder, result.encoder_skipped = left.encoder, left.encoder_report
                aus = None
                if eyes is not None:
                    result.measures = recorder.finish() if recorder is not None else None
                    aus = self._summarise(group, paths, result, eyes, targets.au_tables, model)
                provenance = self._provenance(result, tracker, model)
                if "report" in paths:
                    traces = aus.series if aus is not None else {}
                    data = job_report(result, provenance, sink.status_by_frame, traces, self.measures)
                    write_report(paths["report"], data, group)
                self._finish(result, provenance, group)
        return result

    def _summarise(
        self,
        group: OutputGroup,
        paths: dict[str, Path],
        result: JobResult,
        eyes: EyeSeries,
        au_tables: dict[str, AUCsvWriter] | None = None,
        model: AUModel | None = None,
    ) -> AUSeries | None:
        """The measures CSV, the blinks CSV and the per-video summary, as members of the job's output group.

        Returns the mirrored faces' AU series the summary read (None without AU CSVs)."""
        table = result.measures
        if table is not None:
            group.add(table.to_csv(paths["measures_csv"]))
        if "blinks_csv" in paths:
            group.add(eyes.table(str(paths["blinks_csv"])))
        aus = None
        if model is not None and au_tables:
            columns = au_summary_columns(model.columns())
            aus = read_au_series(au_tables["left"].partial, au_tables["right"].partial, columns)
        result.video_summary = video_summary(result, eyes, self.measures, aus)
        for output in summary_files(paths["summary_json"], paths["summary_csv"], result.video_summary):
            group.add(output)
        group.finish()
        return aus

    def _engines(self, tracker: FaceTracker, model: AUModel | None) -> dict[str, dict[str, str]]:
        """What ran each network of the job: ``{network: EngineInfo as a dict}``."""
        return {name: engine.info.as_dict() for name, engine in _job_engines(tracker, model).items()}

    def _provenance(self, result: JobResult, tracker: FaceTracker, model: AUModel | None) -> dict[str, Any]:
        """What every output's sidecar records: the input, the models and what ran them, the settings, timings."""
        records = [
            model_record(name, e.info.weights or e.info.source or None, e.info)
            for name, e in _job_engines(tracker, model).items()
        ]
        records += [
            {"name": getattr(p, "name", describe(p)), "class": describe(p)} for p in _plain_parts(tracker, model)
        ]
        parameters = {
            **self.parameters(),
            "face_used": result.face,
            "face_report": result.face_report,
            "au_model_used": result.au_model,
            "au_model_reason": result.au_model_reason,
            "au_columns_filled_by": result.au_columns,
            "encoder_used": result.encoder,
            "encoders_skipped": result.encoder_skipped,
            "frames_without_face": result.frames_without_face,
        }
        return build_provenance(
            result.input,
            result.video.to_dict(),
            records,
            parameters,
            result.timings,
            list(result.outputs.values()),
            decoding=result.decode.as_dict() if result.decode is not None else None,
        )

    def _finish(self, result: JobResult, provenance: dict[str, Any], group: OutputGroup) -> None:
        """A provenance JSON beside every output (``<output>.json``), then the profile when asked for.

        Both join the job's output group: they are renamed into place with the outputs, or removed with them.
        """
        finished = {member.path: member.partial for member in group.members}
        for path in result.outputs.values():
            write_sidecar(path, {**provenance, "output": output_record(path, finished.get(path))}, group)
        if self.profile:
            from facemirror.profiling import write_profile

            result.outputs.update(write_profile(result, group))

    @contextlib.contextmanager
    def _mirror_outputs(
        self,
        group: OutputGroup,
        paths: dict[str, Path],
        info: VideoInfo,
        model: AUModel | None,
        recorder: MeasureRecorder | None,
        times: StageTimes,
        yuv: bool,
    ) -> Iterator[MirrorTargets]:
        """Open the writers of the outputs in ``paths`` as members of ``group``; finish them all at the end.

        The group renames them together, or removes every one if anything fails.
        With ``yuv`` the mirrored videos take I420 frames (8- or 10-bit) and keep the source's colour tags.
        """
        crf, preset = QUALITY[self.outputs.quality]
        audio = info.path if (self.outputs.copy_audio and info.has_audio) else None
        encoder = self.outputs.encoder
        common: dict[str, Any] = dict(
            fps=info.fps, time_base=info.time_base, encoder=encoder, quality=crf, preset=preset, times=times
        )
        common["source_colors"] = info.colors  # BGR-made videos (debug) keep the source's primaries and transfer
        yuv_frames: dict[str, Any] = dict(i420_colors=info.colors, i420_format=info.pix_fmt) if yuv else {}
        writers: dict[str, Any] = {}
        # a photo's mirrored faces and debug picture are PNG images
        picture: Any = PngWriter if any(p.suffix == ".png" for p in paths.values()) else VideoWriter
        for side in (s for s in SIDES if s in paths):
            writers[side] = group.add(
                picture(
                    paths[side],
                    info.width,
                    info.height,
                    audio_from=audio,
                    stage=f"encode-{side}",
                    **yuv_frames,
                    **common,
                )
            )
        if "debug" in paths:
            scale = self.outputs.debug_scale
            w, h = (max(1, round(d * scale)) for d in (info.width, info.height))  # as draw_debug
            writers["debug"] = group.add(picture(paths["debug"], w, h, stage="encode-debug", **common))
        midline = group.add(CsvTableWriter(paths["midline_csv"], MIDLINE_COLUMNS)) if "midline_csv" in paths else None
        extractor, au_tables = None, {}
        if model is not None:
            columns = au_columns(model, openface=self.outputs.openface_columns)
            au_tables = {side: group.add(AUCsvWriter(paths[f"{side}_csv"], columns)) for side in SIDES}
            extractor = self._extractor(au_tables, model, times, preprocess_on_add=False)
        yield MirrorTargets(writers, midline, extractor, recorder, au_tables)
        group.finish()


def _check_some_face(video: Path, frames: int, sources: Counter[str]) -> None:
    """A NoFaceError (and so no outputs) when no frame of the video had a face: its outputs would mean nothing."""
    if frames and sources.get("none", 0) == frames:
        raise NoFaceError(
            f"{video}: no face found in any of its {frames} frames; nothing was written "
            "(a face farther than a few metres, turned away or covered is not found: docs/outputs.md)",
            frames,
        )


def _landmark_columns(layout: LandmarkLayout) -> dict[str, bool]:
    """Which of the columns computed from landmarks ``layout`` can fill: blink needs an eye ring, pose its points."""
    return {"blink": bool(layout.eyes), "pose": layout.has_pose}


def _job_engines(tracker: FaceTracker, model: AUModel | None) -> dict[str, Engine]:
    engines = dict(tracker.engines())
    engine = getattr(model, "engine", None)
    if model is not None and isinstance(engine, Engine):
        engines[getattr(engine.info, "model", "") or model.name] = engine
    return engines


def _plain_parts(tracker: FaceTracker, model: AUModel | None) -> list[object]:
    """The parts that run no engine of facemirror's (a user's own classes), for provenance."""
    parts: list[object] = [] if tracker.engines() else [tracker]
    if model is not None and not isinstance(getattr(model, "engine", None), Engine):
        parts.append(model)
    return parts


def _is_backend(value: object) -> bool:
    from facemirror.backends.base import registered_backends

    names = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
    return bool(names) and all(str(n).strip() in ("auto", *registered_backends()) for n in names)


def _apply_legacy(legacy: dict[str, Any], groups: dict[str, Any]) -> dict[str, Any]:
    """Fold the keyword arguments of earlier releases into the setting groups, each with a DeprecationWarning."""
    smoothing: SmoothingParams | None = legacy.pop("smoothing", None)
    unknown = set(legacy) - set(LEGACY_KEYWORDS)
    if unknown:
        raise TypeError(f"Pipeline() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
    changes: dict[str, dict[str, Any]] = {name: {} for name in groups}
    if smoothing is not None:
        warnings.warn(
            "Pipeline(smoothing=...) is deprecated: use Pipeline(mirroring=Mirroring(...))", DeprecationWarning, 3
        )
        held = legacy.get("hold_seconds", smoothing.hold_seconds)
        if held != smoothing.hold_seconds:
            raise ValueError(
                f"hold_seconds={held} and smoothing.hold_seconds={smoothing.hold_seconds} disagree: give it once, "
                "as Mirroring(hold_seconds=...)"
            )
        changes["mirroring"].update(dataclasses.asdict(smoothing))
    for key, value in legacy.items():
        group, name = LEGACY_KEYWORDS[key]
        warnings.warn(
            f"Pipeline({key}=...) is deprecated: use Pipeline({group}={type(groups[group]).__name__}({name}=...))",
            DeprecationWarning,
            3,
        )
        if key == "mtl_weights":
            value = {**groups["runtime"].weights, "mtl": str(value)} if value is not None else groups["runtime"].weights
        changes[group][name] = value
    return {
        name: dataclasses.replace(group, **changes[name]) if changes[name] else group for name, group in groups.items()
    }
