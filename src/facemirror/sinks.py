"""What a job does with each frame after the face stage: mirror it (``mirror``/``run``) or score its AUs.

The pipeline's one streaming loop feeds every job's frames, in order, to a
sink: ``push(face_frame)`` per frame, ``close()`` at the end, ``cancel()`` on
an error. :class:`MirrorSink` smooths the midline with a fixed look-ahead and
hands each final frame to the mirror stage on its own thread (reflection,
debug drawing, encoders, midline CSV, and the mirrored faces' AUs for ``run``);
:class:`AUSink` passes the video's own face to the AU stage.
"""

from __future__ import annotations

import os
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from facemirror.asymmetry import AsymmetryField
from facemirror.aus.extractor import AUExtractor, AUFace
from facemirror.aus.writer import AUCsvWriter
from facemirror.face_stage import FaceFrame
from facemirror.layouts import SIDES
from facemirror.measures import MeasureRecorder
from facemirror.mirror.debug import draw_debug
from facemirror.mirror.landmarks import mirrored_landmarks
from facemirror.mirror.midline import head_pose
from facemirror.mirror.midline_csv import midline_row
from facemirror.mirror.reflect import mirror_both, mirror_both_i420
from facemirror.mirror.smoothing import TRACKED, TURNED, SmoothedMidline, StreamingSmoother
from facemirror.settings import Mirroring, Outputs
from facemirror.tabular import CsvTableWriter
from facemirror.timing import StageTimes
from facemirror.video import VideoInfo, VideoWriter
from facemirror.video.photo import PngWriter
from facemirror.video.stream import BackgroundWorker


def au_face(ff: FaceFrame) -> AUFace | None:
    """The AU stage's view of a frame's face (None without one)."""
    if ff.face is None:
        return None
    return AUFace(ff.face.landmarks, ff.face.layout, ff.face.box, ff.face.confidence, ff.pose)


class AUSink:
    """``extract_aus``: each frame's own face to the AU CSV."""

    def __init__(self, extractor: AUExtractor) -> None:
        self.extractor = extractor

    def push(self, ff: FaceFrame) -> None:
        frame = ff.frame
        self.extractor.add("csv", frame.index + 1, frame.timestamp, frame.image, au_face(ff))

    def close(self) -> None:
        self.extractor.close()

    def cancel(self) -> None:
        self.extractor.cancel()


@dataclass
class MirrorTargets:
    """What the mirror stage feeds: video writers by output name, the midline table, the AU extractor (and its
    CSV writers by side), the measure recorder; any of them may be absent (``measure()`` writes no video)."""

    writers: dict[str, VideoWriter | PngWriter]
    midline: CsvTableWriter | None = None
    extractor: AUExtractor | None = None
    recorder: MeasureRecorder | None = None
    au_tables: dict[str, AUCsvWriter] = field(default_factory=dict)


class MirrorSink:
    """``mirror``/``run``: smooth the midline, then reflect, draw, encode and log each frame on a worker thread."""

    def __init__(
        self,
        targets: MirrorTargets,
        info: VideoInfo,
        mirroring: Mirroring,
        outputs: Outputs,
        selfie: bool,
        times: StageTimes,
    ) -> None:
        self.targets = targets
        self.info = info
        self.mirroring = mirroring
        self.outputs = outputs
        self.selfie = selfie
        self.times = times
        self.statuses: Counter[str] = Counter()
        self.status_by_frame: list[str] = []
        self._smoother = StreamingSmoother(mirroring.smoothing)
        self._waiting: deque[FaceFrame] = deque()
        self._worker: BackgroundWorker[tuple[FaceFrame, SmoothedMidline]] = BackgroundWorker(
            self._emit, maxsize=4, name="facemirror-mirror", times=times
        )
        # the measures run on a thread of their own, and their asymmetry fields (~90 ms of CPU a frame, each
        # independent of the others) on a pool of threads, unless the debug video draws the field (then the
        # mirror stage waits for it)
        self._measurer: BackgroundWorker[tuple[FaceFrame, SmoothedMidline, Future[Any] | None]] | None = None
        self._fields: ThreadPoolExecutor | None = None
        recorder = targets.recorder
        if recorder is not None and not (outputs.debug_heatmap and "debug" in targets.writers):
            self._measurer = BackgroundWorker(self._measure_queued, maxsize=4, name="facemirror-measures", times=times)
            if recorder.settings.flow:
                workers = recorder.settings.flow_threads or max(1, (os.cpu_count() or 1) // 2)
                self._fields = ThreadPoolExecutor(workers, thread_name_prefix="facemirror-field")

    def push(self, ff: FaceFrame) -> None:
        self._waiting.append(ff)
        for smoothed in self._smoother.push(ff.frame.timestamp, ff.midline):
            self._worker.put((self._waiting.popleft(), smoothed))

    def close(self) -> None:
        for smoothed in self._smoother.flush():
            self._worker.put((self._waiting.popleft(), smoothed))
        self._worker.finish()
        if self._measurer is not None:
            self._measurer.finish()
        if self._fields is not None:
            self._fields.shutdown()
        if self.targets.extractor is not None:
            self.targets.extractor.close()

    def cancel(self) -> None:
        self._worker.cancel()
        if self._measurer is not None:
            self._measurer.cancel()
        if self._fields is not None:
            self._fields.shutdown(cancel_futures=True)
        if self.targets.extractor is not None:
            self.targets.extractor.cancel()

    def _measured(self, ff: FaceFrame, smoothed: SmoothedMidline) -> bool:
        return ff.face is not None and smoothed.status == TRACKED

    def _start_field(self, ff: FaceFrame, smoothed: SmoothedMidline) -> Future[Any] | None:
        """Start the frame's asymmetry field on the pool (None where the frame has none to make)."""
        if self._fields is None or not self._measured(ff, smoothed):
            return None
        recorder, face = self.targets.recorder, ff.face
        assert recorder is not None and face is not None
        yaw = ff.pose.yaw if ff.pose is not None else 0.0

        def make() -> AsymmetryField | None:
            with self.times.measure("asymmetry_field"):
                return recorder.field_for(ff.frame.image, face.landmarks, smoothed.midline, yaw)

        return self._fields.submit(make)

    def _measure_queued(self, job: tuple[FaceFrame, SmoothedMidline, Future[Any] | None]) -> None:
        """The measures thread: measure a frame once its field (if it has one) is made."""
        ff, smoothed, pending = job
        field = None
        if pending is not None:
            with self.times.measure("wait:get:asymmetry_field"):
                field = pending.result()
        self._measure(ff, smoothed, field)

    def _measure(
        self, ff: FaceFrame, smoothed: SmoothedMidline, field: AsymmetryField | None = None
    ) -> AsymmetryField | None:
        """Measure one frame (on the measures thread, or on the mirror stage's when the debug video shows the field)."""
        recorder, face = self.targets.recorder, ff.face
        assert recorder is not None
        measured = self._measured(ff, smoothed)
        with self.times.measure("measures"):
            return recorder.add(
                ff.frame.index + 1,
                ff.frame.timestamp,
                ff.frame.image,
                face.landmarks if face is not None and measured else None,
                face.layout if face is not None else None,
                smoothed.midline if measured else None,
                ff.pose.yaw if ff.pose is not None else 0.0,
                field,
            )

    def _emit(self, item: tuple[FaceFrame, SmoothedMidline]) -> None:
        """Mirror stage: reflect, measure, draw, encode and log one frame (runs on the worker thread)."""
        ff, smoothed = item
        frame, face, pose = ff.frame, ff.face, ff.pose
        status = smoothed.status
        if status == TRACKED and pose is not None and abs(pose.yaw) > self.mirroring.max_yaw_deg:
            status = TURNED
        targets = self.targets
        mirrored: dict[str, Any] = {}
        if SIDES[0] in targets.writers or targets.extractor is not None:
            source, mirror = (frame.image, mirror_both) if frame.yuv is None else (frame.yuv, mirror_both_i420)
            with self.times.measure("reflection"):
                if smoothed.midline is not None:
                    reflected = mirror(source, smoothed.midline, self.mirroring.feather_px, self.selfie)
                    mirrored = dict(zip(SIDES, reflected))
                else:
                    mirrored = {side: source for side in SIDES}
        asymmetry = None
        if self._measurer is not None:
            self._measurer.put((ff, smoothed, self._start_field(ff, smoothed)))
        elif targets.recorder is not None:
            asymmetry = self._measure(ff, smoothed)
        # fresh arrays (or the decoded frame, which nothing changes): no copy needed to hand them over
        for side in SIDES:
            if side in targets.writers:
                targets.writers[side].write(mirrored[side], frame.pts, copy=False)
        if "debug" in targets.writers:
            with self.times.measure("debug"):
                scale = self.outputs.debug_scale
                debug = draw_debug(
                    frame.image,
                    ff.landmarks,
                    smoothed.midline,
                    face.box if face is not None else None,
                    frame.index + 1,
                    pose,
                    status,
                    scale=scale,
                )
                if asymmetry is not None and face is not None and targets.recorder is not None:
                    debug = targets.recorder.heatmap(debug, asymmetry, face.landmarks, scale)
            targets.writers["debug"].write(debug, frame.pts, copy=False)
        if targets.midline is not None:
            targets.midline.write(
                midline_row(
                    frame.index + 1,
                    frame.timestamp,
                    smoothed,
                    status,
                    face.confidence if face is not None else None,
                    ff.source,
                    pose,
                    self.info.height,
                    self.info.width,
                    face.box if face is not None else None,
                )
            )
        if targets.extractor is not None:
            self._add_aus(targets.extractor, ff, smoothed, mirrored, frame.yuv is not None)
        self.statuses[status] += 1
        self.status_by_frame.append(status)

    def _add_aus(
        self, extractor: AUExtractor, ff: FaceFrame, smoothed: SmoothedMidline, mirrored: dict[str, Any], yuv: bool
    ) -> None:
        """Queue both mirrored faces for the AU CSVs, with the landmarks mirrored like the image (I420 if ``yuv``)."""
        face, frame = ff.face, ff.frame
        for side in SIDES:
            side_face = None
            if face is not None and smoothed.midline is not None:
                keep_left = (side == "left") != self.selfie
                landmarks = mirrored_landmarks(face.landmarks, smoothed.midline, keep_left, face.layout)
                pose = head_pose(landmarks, face.layout)
                side_face = AUFace(landmarks, face.layout, face.box_of(landmarks), face.confidence, pose)
            extractor.add(side, frame.index + 1, frame.timestamp, mirrored[side], side_face, yuv=yuv)
