"""The AU stage: per-frame faces in, OpenFace-style CSV rows out, AU crops batched through the AU model.

Frames arrive in order with their face (or None when no face was found),
each for one of the extractor's CSVs (``run()`` writes one per mirrored
side). Cheap per-frame work (blink, head pose, a landmark-input model such as
the blendshapes, the crop) happens in ``add``; crops of every CSV share one
batch, which a crop-input model runs on one worker thread, so it overlaps
decoding, the face stage and the mirror stage, and one set of network
activations is alive at a time. A model with the batched split
(``preprocess_crop`` + ``predict_inputs``) has each crop preprocessed either
in ``add`` or on the worker, whichever thread has time to spare. Rows are
written strictly in frame order, one per frame and CSV.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from facemirror.aus.blink import layout_ear
from facemirror.aus.schema import FrameOutputs, row_for_frame
from facemirror.aus.writer import AUCsvWriter
from facemirror.layouts import LandmarkLayout
from facemirror.mirror.midline import HeadPose
from facemirror.models.base import AUModel
from facemirror.openface_angles import openface_pose
from facemirror.timing import StageTimes
from facemirror.video.stream import BackgroundWorker


@dataclass
class AUFace:
    """One face for the AU stage: landmarks in ``layout``, the crop ``box``, the tracker's confidence, head pose."""

    landmarks: np.ndarray
    layout: LandmarkLayout
    box: np.ndarray
    confidence: float
    pose: HeadPose | None = None


@dataclass
class _Pending:
    """One frame waiting for its batch: its CSV, what the row needs, and where its crop sits in the batch."""

    stream: str
    frame: int
    timestamp: float
    outputs: FrameOutputs | None
    crop_index: int | None


def _has_split(model: AUModel | None) -> bool:
    """Whether the model offers the batched split (``preprocess_crop`` + ``predict_inputs``)."""
    return callable(getattr(model, "preprocess_crop", None)) and callable(getattr(model, "predict_inputs", None))


class AUExtractor:
    """Turns per-frame faces into rows of AU CSVs (``writers``: stream name -> CSV).

    ``model`` (any :class:`~facemirror.models.base.AUModel`, or None for blink
    and pose only) scores face crops in batches of ``batch_size``, or each
    face's landmarks as it arrives (``model.inputs == "landmarks"``). Blink
    (eye aspect ratio) and head pose come from the landmarks. Call
    :meth:`close` at the end: it runs the last batch and waits for the writes.

    ``preprocess_on_add`` makes each crop's network input in :meth:`add`, on
    the caller's thread, instead of on the AU thread before each batch: pick
    the less busy one (``extract_aus`` calls from the face stage, which has
    time to spare; ``run`` from the mirror stage, which has none).
    """

    def __init__(
        self,
        writers: Mapping[str, AUCsvWriter],
        model: AUModel | None = None,
        *,
        batch_size: int | None = None,
        times: StageTimes | None = None,
        name: str = "aus",
        preprocess_on_add: bool = False,
    ) -> None:
        if not writers:
            raise ValueError("AUExtractor needs at least one CSV writer")
        self.writers = dict(writers)
        self.model = model
        self.uses_crops = model is not None and model.inputs == "crops"
        self.batch_size = max(1, batch_size or getattr(model, "batch_size", 4))
        self.times = times or StageTimes()
        self.split = _has_split(model)
        self.preprocess_on_add = preprocess_on_add and self.split
        self._pending: list[_Pending] = []
        self._crops: list[np.ndarray] = []
        self._worker: BackgroundWorker[tuple[list[_Pending], list[np.ndarray]]] = BackgroundWorker(
            self._run_batch, maxsize=2, name=f"facemirror-{name}", times=self.times
        )

    def add(
        self,
        stream: str,
        frame: int,
        timestamp: float,
        image: np.ndarray | None,
        face: AUFace | None,
        *,
        yuv: bool = False,
    ) -> None:
        """Queue frame number ``frame`` (from 1) of CSV ``stream``; ``face`` None means no face in it.

        ``image`` is BGR, or I420 with ``yuv=True`` (only the face crop is converted); it may be None when
        the model reads landmarks only.
        """
        if stream not in self.writers:
            raise KeyError(f"no AU CSV called {stream!r} (have {', '.join(self.writers)})")
        if face is None:
            self._pending.append(_Pending(stream, frame, timestamp, None, None))
        else:
            outputs = FrameOutputs(
                confidence=float(face.confidence),
                ear=layout_ear(face.landmarks, face.layout),
                head_pose=openface_pose(*face.pose) if face.pose is not None else None,
            )
            crop_index = None
            if self.model is not None and not self.uses_crops:
                with self.times.measure(self.model.name):
                    outputs.cells = self.model.cells(self.model.predict([face.landmarks]), 0)
            elif self.model is not None:
                crop_index = self._add_crop(image, face.box, yuv)
            self._pending.append(_Pending(stream, frame, timestamp, outputs, crop_index))
        if not self.uses_crops or len(self._crops) >= self.batch_size:
            self._submit()

    def close(self) -> None:
        """Run the last batch and wait until every row is written."""
        self._submit()
        self._worker.finish()

    def cancel(self) -> None:
        """Stop without writing what is still queued."""
        self._worker.cancel()

    def _add_crop(self, image: np.ndarray | None, box: np.ndarray, yuv: bool) -> int:
        assert self.model is not None
        if image is None:
            raise ValueError(f"the AU model {self.model.name} needs the frame's pixels; got no image")
        crop = self.model.crops(image, [box], yuv=yuv)[0]
        # never a view: it would keep the whole frame alive until its batch runs
        if self.preprocess_on_add:
            with self.times.measure("au_preprocess"):
                self._crops.append(self.model.preprocess_crop(crop))  # type: ignore[attr-defined]
        else:
            with self.times.measure("au_crop"):
                self._crops.append(crop.copy())
        return len(self._crops) - 1

    def _submit(self) -> None:
        if self._pending:
            self._worker.put((self._pending, self._crops))
            self._pending, self._crops = [], []

    def _run_batch(self, batch: tuple[list[_Pending], list[np.ndarray]]) -> None:
        pending, crops = batch
        prediction = self._predict(crops) if crops else None
        for item in pending:
            outputs = item.outputs
            if outputs is not None and prediction is not None and item.crop_index is not None:
                assert self.model is not None
                outputs.cells = self.model.cells(prediction, item.crop_index)
            self.writers[item.stream].write(row_for_frame(item.frame, item.timestamp, outputs))

    def _predict(self, crops: list[np.ndarray]) -> Any:
        model: Any = self.model
        if not self.split:
            with self.times.measure("au_model"):
                return model.predict(crops)
        if self.preprocess_on_add:
            inputs = np.stack(crops)
        else:
            with self.times.measure("au_preprocess"):
                inputs = np.stack([model.preprocess_crop(crop) for crop in crops])
        with self.times.measure("au_model"):
            return model.predict_inputs(inputs)
