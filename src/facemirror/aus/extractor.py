"""The AU stage: per-frame face outputs in, OpenFace-style CSV rows out, AU crops batched through the network.

Frames arrive in order with their landmarks (or None when no face was
found), each for one of the extractor's CSVs (``run()`` writes one per
mirrored side). Cheap per-frame work (blink, blendshapes, the crop) happens
in ``add``; crops of every CSV share one batch, which the AU network runs on
one worker thread, so it overlaps decoding, the face stage and the mirror
stage, and one set of network activations is alive at a time (two sides on
two threads would hold two). Each crop is preprocessed either in ``add`` or
on the worker, whichever thread has time to spare. Rows are written strictly
in frame order, one per frame and CSV.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from facemirror.aus.angles import openface_pose
from facemirror.aus.blink import mesh_ear
from facemirror.aus.crop import au_box
from facemirror.aus.schema import FrameOutputs, blendshape_dict, row_for_frame
from facemirror.aus.writer import AUCsvWriter
from facemirror.mirror.midline import HeadPose
from facemirror.models.mtl import BATCH_SIZE
from facemirror.timing import StageTimes
from facemirror.video.stream import BackgroundWorker

#: names accepted for ``au_model``
AU_MODEL_CHOICES = ("auto", "openface3", "blendshapes")


def choose_au_model(requested: str) -> tuple[str, str]:
    """The AU model to run for ``requested`` and why: ``auto`` means OpenFace 3.0 when its weights are installed."""
    from facemirror.weights import status

    if requested not in AU_MODEL_CHOICES:
        raise ValueError(f"au_model must be one of {', '.join(AU_MODEL_CHOICES)}, not {requested!r}")
    if requested != "auto":
        return requested, "asked for"
    state, path = status("mtl")
    if state == "installed":
        return "openface3", f"OpenFace 3.0 MTL weights are installed ({path})"
    return "blendshapes", (
        f"OpenFace 3.0 MTL weights are {state} (get them with: facemirror weights fetch mtl); "
        "using the embedded Face Landmarker's blendshapes"
    )


@dataclass
class _Pending:
    """One frame waiting for its batch: its CSV, what the row needs, and where its crop sits in the batch."""

    stream: str
    frame: int
    timestamp: float
    outputs: FrameOutputs | None
    crop_index: int | None


class AUExtractor:
    """Turns per-frame landmarks into rows of AU CSVs (``writers``: stream name -> CSV).

    ``mtl`` (OpenFace 3.0's network) scores face crops in batches of
    ``batch_size``; ``blendshapes`` scores each frame's landmarks. Blink
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
        *,
        mtl: Any = None,
        blendshapes: Any = None,
        batch_size: int = BATCH_SIZE,
        times: StageTimes | None = None,
        name: str = "aus",
        preprocess_on_add: bool = False,
    ) -> None:
        if not writers:
            raise ValueError("AUExtractor needs at least one CSV writer")
        self.writers = dict(writers)
        self.mtl = mtl
        self.blendshapes = blendshapes
        self.batch_size = max(1, batch_size)
        self.times = times or StageTimes()
        self.preprocess_on_add = preprocess_on_add
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
        landmarks: np.ndarray | None,
        confidence: float,
        pose: HeadPose | None,
        *,
        yuv: bool = False,
    ) -> None:
        """Queue frame number ``frame`` (from 1) of CSV ``stream``; ``landmarks`` None means no face in it.

        ``image`` is BGR, or I420 with ``yuv=True`` (only the face crop is converted); it may be None when
        the AU model reads landmarks only (no ``mtl``).
        """
        if stream not in self.writers:
            raise KeyError(f"no AU CSV called {stream!r} (have {', '.join(self.writers)})")
        if landmarks is None:
            self._pending.append(_Pending(stream, frame, timestamp, None, None))
        else:
            outputs = FrameOutputs(
                confidence=float(confidence),
                ear=mesh_ear(landmarks),
                head_pose=openface_pose(*pose) if pose is not None else None,
            )
            if self.blendshapes is not None:
                with self.times.measure("blendshapes"):
                    outputs.blendshapes = blendshape_dict(self.blendshapes.predict(landmarks))
            crop_index = None
            if self.mtl is not None:
                if image is None:
                    raise ValueError("OpenFace 3.0's network needs the frame's pixels; got no image")
                crop = self.mtl.crops(image, [au_box(landmarks)], yuv=yuv)[0]
                # never a view: it would keep the whole frame alive until its batch runs
                if self.preprocess_on_add:
                    with self.times.measure("au_preprocess"):
                        self._crops.append(self.mtl.preprocess_crop(crop))
                else:
                    with self.times.measure("au_crop"):
                        self._crops.append(crop.copy())
                crop_index = len(self._crops) - 1
            self._pending.append(_Pending(stream, frame, timestamp, outputs, crop_index))
        if self.mtl is None or len(self._crops) >= self.batch_size:
            self._submit()

    def close(self) -> None:
        """Run the last batch and wait until every row is written."""
        self._submit()
        self._worker.finish()

    def cancel(self) -> None:
        """Stop without writing what is still queued."""
        self._worker.cancel()

    def _submit(self) -> None:
        if self._pending:
            self._worker.put((self._pending, self._crops))
            self._pending, self._crops = [], []

    def _run_batch(self, batch: tuple[list[_Pending], list[np.ndarray]]) -> None:
        pending, crops = batch
        prediction = None
        if crops:
            if self.preprocess_on_add:
                inputs = np.stack(crops)
            else:
                with self.times.measure("au_preprocess"):
                    inputs = self.mtl.preprocess(crops)["image"]
            with self.times.measure("au_model"):
                prediction = self.mtl.predict_inputs(inputs)
        for item in pending:
            outputs = item.outputs
            if outputs is not None and prediction is not None and item.crop_index is not None:
                mtl_outputs = FrameOutputs.from_prediction(prediction, item.crop_index, outputs.confidence)
                outputs.au_probabilities = mtl_outputs.au_probabilities
                outputs.emotion_logits = mtl_outputs.emotion_logits
                outputs.emotion_probabilities = mtl_outputs.emotion_probabilities
                outputs.gaze = mtl_outputs.gaze
            self.writers[item.stream].write(row_for_frame(item.frame, item.timestamp, outputs))
