"""Run one job on one video, in whichever process holds the pipeline (the caller, a pool worker, a Ray worker).

A worker process builds its :class:`~facemirror.pipeline.Pipeline` once and
reuses it (models load once per process, not once per video). Errors become
a ``failed`` outcome instead of an exception, so one bad video never stops a
batch; only ``KeyboardInterrupt``/``SystemExit`` propagate.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from facemirror.batch.discover import VideoTask
from facemirror.batch.summary import DONE, FAILED, VideoOutcome, error_message

if TYPE_CHECKING:
    from facemirror.pipeline import Pipeline

log = logging.getLogger(__name__)

#: batch job name -> what it writes into the video's output folder
JOBS = {
    "run": "mirrored videos, midline CSV and an AU CSV per mirrored side (Pipeline.run)",
    "mirror": "mirrored videos and midline CSV (Pipeline.mirror)",
    "aus": "<stem>.csv, the AUs of the original video (Pipeline.extract_aus)",
}

_pipelines: dict[str, Pipeline] = {}


def worker_pipeline(options: Mapping[str, Any]) -> Pipeline:
    """This process's Pipeline for ``options``, built on first use."""
    from facemirror.pipeline import Pipeline

    key = repr(sorted(options.items()))
    if key not in _pipelines:
        _pipelines[key] = Pipeline(**options)
    return _pipelines[key]


def init_worker(options: Mapping[str, Any]) -> None:
    """Process-pool initializer: build the worker's Pipeline before its first video."""
    worker_pipeline(options)


def process_in_worker(options: Mapping[str, Any], job: str, task: VideoTask) -> VideoOutcome:
    """Pool/Ray entry point: ``job`` on ``task`` with this process's Pipeline."""
    return run_job(worker_pipeline(options), job, task)


def run_job(pipeline: Pipeline, job: str, task: VideoTask) -> VideoOutcome:
    """Run ``job`` on one video; any error becomes a ``failed`` outcome with its message."""
    start = time.perf_counter()
    try:
        if job == "aus":
            result = pipeline.extract_aus(task.source, task.out_folder / f"{task.source.stem}.csv")
        else:
            result = getattr(pipeline, job)(task.source, task.out_folder)
    except Exception as exc:
        log.debug("%s failed", task.source, exc_info=True)
        return VideoOutcome(task.rel, FAILED, seconds=time.perf_counter() - start, error=error_message(exc))
    return VideoOutcome(
        task.rel,
        DONE,
        frames=result.frames,
        seconds=result.timings["total"]["seconds"],
        outputs={name: str(path) for name, path in result.outputs.items()},
        decode=result.decode,
    )
