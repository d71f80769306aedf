"""``Pipeline``: the stages composed into the three jobs — ``mirror``, ``extract_aus`` and ``run`` (both at once).

Every job streams the video once. The decode thread feeds the face stage
(landmarks, per-frame midline) on the caller's thread. ``mirror`` and ``run``
pass frames through a streaming smoother with a fixed look-ahead, which
releases each frame with its final midline to the mirror stage (reflection,
debug drawing; its own thread) feeding three encoders (their own threads).
AU crops are batched through the AU network on yet another thread. Every
queue is bounded, so memory does not grow with the video's length. Models
are loaded once per ``Pipeline`` and reused for every video it processes.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from facemirror.atomic import check_writable_dir
from facemirror.aus.extractor import AUExtractor, choose_au_model
from facemirror.aus.schema import columns_for
from facemirror.aus.writer import AUCsvWriter
from facemirror.backends.onnx_engine import default_threads
from facemirror.face_stage import FaceFollower, FaceFrame
from facemirror.mirror.debug import draw_debug
from facemirror.mirror.landmarks import mirrored_landmarks
from facemirror.mirror.midline import MAX_VALID_YAW_DEG, head_pose
from facemirror.mirror.midline_csv import COLUMNS as MIDLINE_COLUMNS
from facemirror.mirror.midline_csv import midline_row
from facemirror.mirror.reflect import mirror_both, mirror_both_i420
from facemirror.mirror.smoothing import TRACKED, TURNED, SmoothedMidline, SmoothingParams, StreamingSmoother
from facemirror.models.face_landmarker import FaceLandmarker, check_flip_every
from facemirror.models.facemesh import FaceMesh
from facemirror.models.mtl import BATCH_SIZE
from facemirror.provenance import build_provenance, model_record, write_sidecar
from facemirror.tabular import CsvTableWriter
from facemirror.timing import StageTimes
from facemirror.video import VideoInfo, VideoReader, VideoWriter
from facemirror.video.stream import BackgroundWorker

if TYPE_CHECKING:
    from facemirror.batch import BatchResult

log = logging.getLogger(__name__)

#: ``quality`` name -> (x264 CRF, x264 preset) of the written videos
QUALITY = {"fast": (20, "ultrafast"), "balanced": (18, "veryfast"), "archive": (16, "medium")}
SIDES = ("left", "right")


def output_paths(out_dir: Path, stem: str) -> dict[str, Path]:
    """The files ``mirror()``/``run()`` write, named as the prior tool named them so lab scripts keep working."""
    return {
        "left": out_dir / f"{stem}_left_mirrored.mp4",
        "right": out_dir / f"{stem}_right_mirrored.mp4",
        "debug": out_dir / f"{stem}_debug.mp4",
        "midline_csv": out_dir / f"{stem}_midline.csv",
        "left_csv": out_dir / f"{stem}_left_mirrored.csv",
        "right_csv": out_dir / f"{stem}_right_mirrored.csv",
    }


def pipeline_threads() -> int:
    """Intra-op threads per engine inside a job: half the cores, since the face and AU networks run at once.

    ``FACEMIRROR_THREADS`` overrides it. On the 2-core benchmark machine one
    thread each made extract_aus() 15% faster than two (benchmarks/README.md).
    """
    return default_threads(sharing=2)


def default_out_dir(video: Path) -> Path:
    """Where outputs go when no folder is given: ``<video folder>/<stem>_facemirror``."""
    return video.parent / f"{video.stem}_facemirror"


@dataclass
class JobResult:
    """What a job wrote and how it went."""

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
    encoder_skipped: dict[str, str] = field(default_factory=dict)
    #: thread name -> {stage: seconds} (for the profiler's busy time per thread)
    threads: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def fps(self) -> float:
        """Frames processed per second of wall time."""
        total = self.timings.get("total", {}).get("seconds", 0.0)
        return self.frames / total if total else 0.0

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
        s, src = self.statuses, self.landmark_sources
        if s:
            lines.append(
                f"  midline: {s.get('tracked', 0)} tracked, {s.get('held', 0)} held, "
                f"{s.get('turned', 0)} turned too far, {s.get('none', 0)} without a face"
            )
        else:
            lines.append(
                f"  face: {src.get('detected', 0) + src.get('tracked', 0)} found, {src.get('none', 0)} without"
            )
        if self.au_model:
            lines.append(f"  AU model: {self.au_model} ({self.au_model_reason})")
        lines += [f"  wrote {p}" for p in self.outputs.values()]
        return "\n".join(lines)


#: kept for readers of the mirroring issue's API: ``mirror()`` returns a JobResult
MirrorResult = JobResult


class Pipeline:
    """Mirror face videos and extract their action units; one instance loads its models once.

    ``backend`` picks the inference backend (``"auto"``, ``"onnx"``, ``"litert"``
    (the embedded face networks only), ``"torch"``, ``"coreml"`` or a list to
    try in order); ``threads`` sets each engine's intra-op threads (default: half the
    cores, :func:`pipeline_threads`).
    ``selfie=True`` is for recordings that were mirrored by the camera app
    (it swaps which image side is the subject's left).
    ``au_model`` is ``"openface3"`` (needs the OpenFace 3.0 weights),
    ``"blendshapes"`` (embedded) or ``"auto"`` (OpenFace 3.0 when installed).
    ``profile=True`` writes ``<stem>.profile.txt``/``.json`` (where the time
    went, see :mod:`facemirror.profiling`) beside each job's outputs.
    ``symmetric_landmarks`` runs the face mesh on each crop and its mirror and
    averages them (cancels the mesh's left/right bias; twice the mesh's cost):
    ``None`` does it where the midline needs it (``mirror``/``run``) and not in
    ``extract_aus``, which only needs the face box and eyes. ``flip_every=k``
    runs that mirrored crop only on every k-th frame and holds its correction
    in between: a speed setting (k=2: ~0.75x the mesh's CPU, smoothed midline
    ~0.03 px off on average, up to ~0.1 px; benchmarks/results/flip_every.md).
    """

    def __init__(
        self,
        backend: str | list[str] = "auto",
        *,
        threads: int | None = None,
        selfie: bool = False,
        hold_seconds: float = 0.5,
        smoothing: SmoothingParams | None = None,
        symmetric_landmarks: bool | None = None,
        flip_every: int = 1,
        redetect_seconds: float | None = 2.0,
        max_yaw_deg: float = MAX_VALID_YAW_DEG,
        feather_px: float = 4.0,
        debug_video: bool = True,
        debug_scale: float = 0.5,
        quality: str = "balanced",
        encoder: str = "auto",
        copy_audio: bool = True,
        au_model: str = "auto",
        au_batch_size: int = BATCH_SIZE,
        mtl_weights: str | Path | None = None,
        progress: bool = True,
        profile: bool = False,
    ) -> None:
        #: the constructor's arguments, so worker processes can build the same pipeline
        self.init_options = {k: v for k, v in locals().items() if k != "self"}
        if quality not in QUALITY:
            raise ValueError(f"quality must be one of {', '.join(QUALITY)}, not {quality!r}")
        check_flip_every(flip_every)
        self.backend = backend
        self.threads = threads
        self.selfie = selfie
        base = smoothing or SmoothingParams()
        self.smoothing = SmoothingParams(**{**base.__dict__, "hold_seconds": hold_seconds})
        self.symmetric_landmarks = symmetric_landmarks
        self.flip_every = flip_every
        self.redetect_seconds = redetect_seconds
        self.max_yaw_deg = max_yaw_deg
        self.feather_px = feather_px
        self.debug_video = debug_video
        self.debug_scale = debug_scale
        self.quality = quality
        self.encoder = encoder
        self.copy_audio = copy_audio
        self.au_model = au_model
        self.au_batch_size = au_batch_size
        self.mtl_weights = mtl_weights
        self.progress = progress
        self.profile = profile
        self._landmarker: FaceLandmarker | None = None
        self._plain_landmarker: FaceLandmarker | None = None
        self._au_models: dict[str, Any] = {}

    def parameters(self) -> dict[str, Any]:
        """Every setting of this pipeline, for provenance sidecars."""
        out = {k: v for k, v in self.__dict__.items() if not k.startswith("_") and k != "init_options"}
        out["smoothing"] = dict(self.smoothing.__dict__)
        return out

    # --- models, loaded once ------------------------------------------------

    def _engine_options(self) -> dict[str, Any]:
        return {"threads": self.threads or pipeline_threads()}

    @property
    def landmarker(self) -> FaceLandmarker:
        """The embedded face model (MediaPipe Face Landmarker) as the mirror jobs run it, loaded on first use."""
        if self._landmarker is None:
            self._landmarker = FaceLandmarker.from_weights(
                backend=self.backend,
                symmetric=self.symmetric_landmarks is not False,
                flip_every=self.flip_every,
                with_blendshapes=False,
                **self._engine_options(),
            )
        return self._landmarker

    def _aus_landmarker(self) -> FaceLandmarker:
        """The face model as ``extract_aus`` runs it: the same engines, the mesh flip-averaged only if asked."""
        base = self.landmarker
        if base.mesh.symmetric == bool(self.symmetric_landmarks):
            return base
        if self._plain_landmarker is None:
            mesh = FaceMesh(base.mesh.engine, symmetric=bool(self.symmetric_landmarks))
            self._plain_landmarker = FaceLandmarker(base.detector, mesh, None, base.min_presence, self.flip_every)
        return self._plain_landmarker

    def _load_au_model(self, name: str) -> Any:
        """The network behind AU model ``name`` (MTL for openface3, the blendshape net for blendshapes)."""
        if name not in self._au_models:
            if name == "openface3":
                from facemirror.models.mtl import MTL

                self._au_models[name] = MTL.from_weights(
                    self.mtl_weights, self.backend, batch_size=self.au_batch_size, **self._engine_options()
                )
            else:
                from facemirror.models.blendshapes import Blendshapes

                self._au_models[name] = Blendshapes.from_weights(None, self.backend, **self._engine_options())
        return self._au_models[name]

    def _au_stage(self, requested: str | None) -> tuple[str, str, Any]:
        name, reason = choose_au_model(requested or self.au_model)
        log.info("AU model: %s (%s)", name, reason)
        return name, reason, self._load_au_model(name)

    def _models_record(self, au_name: str | None = None) -> tuple[dict[str, dict[str, str]], list[dict[str, Any]]]:
        """(engines by model name, provenance records) of the networks a job used."""
        engines = {"face_detector": self.landmarker.detector.engine, "face_landmarks": self.landmarker.mesh.engine}
        if au_name is not None:
            engines["mtl" if au_name == "openface3" else "face_blendshapes"] = self._load_au_model(au_name).engine
        infos = {name: e.info.as_dict() for name, e in engines.items()}
        records = [model_record(name, e.info.weights or e.info.source or None, e.info) for name, e in engines.items()]
        return infos, records

    # --- jobs -----------------------------------------------------------------

    def mirror(self, video: str | Path, out_dir: str | Path | None = None) -> JobResult:
        """Write the left- and right-mirrored videos, the debug video and the midline CSV of ``video``."""
        return self._mirror_job(Path(video), out_dir, with_aus=False)

    def run(self, video: str | Path, out_dir: str | Path | None = None, au_model: str | None = None) -> JobResult:
        """``mirror()`` plus an AU CSV for each mirrored face, in one pass over the video.

        The AU crops come from the mirrored frames with the box of the
        mirrored landmarks (no second decode, no second face search).
        """
        return self._mirror_job(Path(video), out_dir, with_aus=True, au_model=au_model)

    def extract_aus(
        self, video: str | Path, csv_path: str | Path | None = None, au_model: str | None = None
    ) -> JobResult:
        """Per-frame AUs of the face in ``video``, written to ``csv_path`` (default ``<video folder>/<stem>.csv``)."""
        video = Path(video)
        au_name, reason, model = self._au_stage(au_model)
        landmarker = self._aus_landmarker()
        times = StageTimes()  # after loading the models: the timings are the video's
        with VideoReader(video, times=times) as reader:
            info = reader.info
            csv_file = Path(csv_path) if csv_path is not None else video.with_suffix(".csv")
            follower = FaceFollower(landmarker, self.redetect_seconds, times, midline=False)
            sources: Counter[str] = Counter()
            frames = 0
            with AUCsvWriter(csv_file, columns_for(au_name)) as writer:
                # the face stage has time to spare for AU preprocessing; the AU thread then only runs the network
                extractor = self._extractor({"csv": writer}, au_name, model, times, preprocess_on_add=True)
                try:
                    for frame in self._progress(reader, info):
                        ff = follower(frame)
                        sources[ff.source] += 1
                        confidence = ff.face.presence if ff.face is not None else 0.0
                        extractor.add(
                            "csv", frame.index + 1, frame.timestamp, frame.image, ff.landmarks, confidence, ff.pose
                        )
                        frames += 1
                    extractor.close()
                except BaseException:
                    extractor.cancel()
                    raise
        engines, records = self._models_record(au_name)
        outputs = {"csv": csv_file}
        result = JobResult(
            video,
            outputs,
            frames,
            dict(sources),
            {},
            engines,
            times.as_dict(),
            info,
            au_name,
            reason,
            threads=times.threads(),
        )
        self._write_sidecars(result, records)
        self._write_profile(result)
        return result

    def run_many(
        self, inputs: str | Path | Sequence[str | Path], out_dir: str | Path, job: str = "run", **options: Any
    ) -> BatchResult:
        """Run ``job`` on many videos: resumable, failures isolated, in parallel (:func:`facemirror.batch.run_many`)."""
        from facemirror.batch import run_many

        return run_many(self.init_options, inputs, out_dir, job=job, pipeline=self, **options)

    # --- internals ------------------------------------------------------------

    def _extractor(
        self, writers: dict[str, AUCsvWriter], au_name: str, model: Any, times: StageTimes, preprocess_on_add: bool
    ) -> AUExtractor:
        mtl = model if au_name == "openface3" else None
        blend = model if au_name == "blendshapes" else None
        return AUExtractor(
            writers,
            mtl=mtl,
            blendshapes=blend,
            batch_size=self.au_batch_size,
            times=times,
            preprocess_on_add=preprocess_on_add,
        )

    def _progress(self, reader: VideoReader, info: VideoInfo) -> Iterator[Any]:
        # leave=None: the bar stays when it is the only one, and is cleared under a batch's bar
        with tqdm(
            total=info.frame_count, unit="frame", desc=info.path.name, disable=not self.progress, leave=None
        ) as bar:
            for frame in reader:
                yield frame
                bar.update(1)
            bar.total = bar.n  # the container's frame count is an estimate: end at the frames decoded

    def _mirror_job(
        self, video: Path, out_dir: str | Path | None, *, with_aus: bool, au_model: str | None = None
    ) -> JobResult:
        au = self._au_stage(au_model) if with_aus else None
        landmarker = self.landmarker
        times = StageTimes()  # after loading the models: the timings are the video's
        # mirrored videos are made from the decoder's own YUV where the video has it (no BGR round trip)
        with VideoReader(video, times=times, yuv=True) as reader:
            info = reader.info
            folder = check_writable_dir(out_dir if out_dir is not None else default_out_dir(video))
            paths = output_paths(folder, video.stem)
            if not self.debug_video:
                del paths["debug"]
            if not with_aus:
                del paths["left_csv"], paths["right_csv"]
            outputs = self._mirror_outputs(paths, info, au[0] if au else None, times, yuv=reader.yuv)
            with outputs as (writers, midline_table, au_tables):
                # the mirror stage is busy: AU preprocessing runs on the AU thread
                extractor = self._extractor(au_tables, au[0], au[2], times, preprocess_on_add=False) if au else None
                job = _MirrorJob(self, info, writers, midline_table, extractor, times)
                job.run(FaceFollower(landmarker, self.redetect_seconds, times), self._progress(reader, info))
            encoder, skipped = writers["left"].encoder, writers["left"].encoder_report
        engines, records = self._models_record(au[0] if au else None)
        result = JobResult(
            video,
            paths,
            job.frames,
            dict(job.sources),
            dict(job.statuses),
            engines,
            times.as_dict(),
            info,
            au[0] if au else None,
            au[1] if au else "",
            encoder,
            skipped,
            threads=times.threads(),
        )
        self._write_sidecars(result, records)
        self._write_profile(result)
        return result

    def _write_sidecars(self, result: JobResult, records: list[dict[str, Any]]) -> None:
        """A provenance JSON beside every output (``<output>.json``)."""
        parameters = {
            **self.parameters(),
            "au_model_used": result.au_model,
            "au_model_reason": result.au_model_reason,
            "encoder_used": result.encoder,
        }
        provenance = build_provenance(
            result.input,
            result.video.to_dict(),
            records,
            parameters,
            result.timings,
            list(result.outputs.values()),
        )
        for path in result.outputs.values():
            write_sidecar(path, provenance)

    def _write_profile(self, result: JobResult) -> None:
        """With ``profile=True``: the profile report beside the outputs, listed in ``result.outputs``."""
        if self.profile:
            from facemirror.profiling import write_profile

            result.outputs.update(write_profile(result))

    @contextlib.contextmanager
    def _mirror_outputs(
        self, paths: dict[str, Path], info: VideoInfo, au_name: str | None, times: StageTimes, yuv: bool
    ) -> Iterator[tuple[dict[str, VideoWriter], CsvTableWriter, dict[str, AUCsvWriter]]]:
        """Open the video, midline and AU (by side) writers; close (rename) all on success, abort all on failure.

        With ``yuv`` the mirrored videos take I420 frames (8- or 10-bit) and keep the source's colour tags.
        """
        crf, preset = QUALITY[self.quality]
        audio = info.path if (self.copy_audio and info.has_audio) else None
        common: dict[str, Any] = dict(
            fps=info.fps, time_base=info.time_base, encoder=self.encoder, quality=crf, preset=preset, times=times
        )
        common["source_colors"] = info.colors  # BGR-made videos (debug) keep the source's primaries and transfer
        yuv_frames: dict[str, Any] = dict(i420_colors=info.colors, i420_format=info.pix_fmt) if yuv else {}
        writers: dict[str, VideoWriter] = {}
        tables: dict[str, CsvTableWriter | AUCsvWriter] = {}
        au_tables: dict[str, AUCsvWriter] = {}
        try:
            for side in SIDES:
                writers[side] = VideoWriter(
                    paths[side],
                    info.width,
                    info.height,
                    audio_from=audio,
                    stage=f"encode-{side}",
                    **yuv_frames,
                    **common,
                )
            if "debug" in paths:
                w, h = (max(1, round(d * self.debug_scale)) for d in (info.width, info.height))  # as draw_debug
                writers["debug"] = VideoWriter(paths["debug"], w, h, stage="encode-debug", **common)
            midline_table = tables["midline_csv"] = CsvTableWriter(paths["midline_csv"], MIDLINE_COLUMNS)
            if au_name is not None:
                for side in SIDES:
                    au_tables[side] = tables[f"{side}_csv"] = AUCsvWriter(paths[f"{side}_csv"], columns_for(au_name))
            yield writers, midline_table, au_tables
        except BaseException:
            for writer in writers.values():
                writer.abort()
            for table in tables.values():
                table.abort()
            raise
        for writer in writers.values():
            writer.close()
        for table in tables.values():
            table.close()


class _MirrorJob:
    """One ``mirror()``/``run()`` call: the face stage on the caller's thread, the mirror stage on a worker."""

    def __init__(
        self,
        pipeline: Pipeline,
        info: VideoInfo,
        writers: dict[str, VideoWriter],
        table: CsvTableWriter,
        extractor: AUExtractor | None,
        times: StageTimes,
    ) -> None:
        self.p = pipeline
        self.info = info
        self.writers = writers
        self.table = table
        self.extractor = extractor
        self.times = times
        self.frames = 0
        self.sources: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()

    def run(self, follower: FaceFollower, frames: Iterator[Any]) -> None:
        smoother = StreamingSmoother(self.p.smoothing)
        waiting: deque[FaceFrame] = deque()
        worker: BackgroundWorker[tuple[FaceFrame, SmoothedMidline]] = BackgroundWorker(
            self._emit, maxsize=4, name="facemirror-mirror", times=self.times
        )
        try:
            for frame in frames:
                ff = follower(frame)
                self.sources[ff.source] += 1
                waiting.append(ff)
                for smoothed in smoother.push(frame.timestamp, ff.midline):
                    worker.put((waiting.popleft(), smoothed))
            for smoothed in smoother.flush():
                worker.put((waiting.popleft(), smoothed))
            worker.finish()
            if self.extractor is not None:
                self.extractor.close()
        except BaseException:
            worker.cancel()
            if self.extractor is not None:
                self.extractor.cancel()
            raise

    def _emit(self, item: tuple[FaceFrame, SmoothedMidline]) -> None:
        """Mirror stage: reflect, draw, encode and log one frame (runs on the worker thread)."""
        ff, smoothed = item
        frame, face, pose = ff.frame, ff.face, ff.pose
        status = smoothed.status
        if status == TRACKED and pose is not None and abs(pose.yaw) > self.p.max_yaw_deg:
            status = TURNED
        image = frame.image
        source, mirror = (image, mirror_both) if frame.yuv is None else (frame.yuv, mirror_both_i420)
        with self.times.measure("reflection"):
            if smoothed.midline is not None:
                mirrored = dict(zip(SIDES, mirror(source, smoothed.midline, self.p.feather_px, self.p.selfie)))
            else:
                mirrored = {side: source for side in SIDES}
        # fresh arrays (or the decoded frame, which nothing changes): no copy needed to hand them over
        for side in SIDES:
            self.writers[side].write(mirrored[side], frame.pts, copy=False)
        if "debug" in self.writers:
            with self.times.measure("debug"):
                debug = draw_debug(
                    image,
                    ff.landmarks,
                    smoothed.midline,
                    face.box if face is not None else None,
                    frame.index + 1,
                    pose,
                    status,
                    scale=self.p.debug_scale,
                )
            self.writers["debug"].write(debug, frame.pts, copy=False)
        self.table.write(
            midline_row(
                frame.index + 1,
                frame.timestamp,
                smoothed,
                status,
                face.presence if face is not None else None,
                ff.source,
                pose,
                self.info.height,
                self.info.width,
            )
        )
        if self.extractor is not None:
            self._add_aus(self.extractor, ff, smoothed, mirrored, frame.yuv is not None)
        self.statuses[status] += 1
        self.frames += 1

    def _add_aus(
        self, extractor: AUExtractor, ff: FaceFrame, smoothed: SmoothedMidline, mirrored: dict[str, Any], yuv: bool
    ) -> None:
        """Queue both mirrored faces for the AU CSVs, with the landmarks mirrored like the image (I420 if ``yuv``)."""
        face, frame = ff.face, ff.frame
        for side in SIDES:
            landmarks, side_pose = None, None
            if face is not None and smoothed.midline is not None:
                keep_mesh_left = (side == "left") != self.p.selfie
                landmarks = mirrored_landmarks(face.landmarks, smoothed.midline, keep_mesh_left)
                side_pose = head_pose(landmarks)
            confidence = face.presence if face is not None else 0.0
            extractor.add(
                side, frame.index + 1, frame.timestamp, mirrored[side], landmarks, confidence, side_pose, yuv=yuv
            )
