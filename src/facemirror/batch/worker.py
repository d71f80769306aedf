"""Run one job on one video, in whichever process holds the pipeline (the caller, a pool worker, a Ray worker).

A batch hands its pipeline to worker processes as a :class:`PipelineRecipe`:
the plain configuration of a pipeline built from names (each worker builds
the same parts with the pipeline's class), or the pickled pipeline when it
holds instances of the user's own classes. A worker builds its pipeline
once and reuses it (models load once per process, not once per video).
Batches take any object with :class:`BatchPipeline`'s members (a
:class:`~facemirror.pipeline.Pipeline`), so this package sits above the
pipeline without importing it.
Errors become a ``failed`` outcome instead of an exception, so one bad video
never stops a batch; only ``KeyboardInterrupt``/``SystemExit`` propagate.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import pickle
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from facemirror.batch.discover import VideoTask
from facemirror.batch.summary import DONE, FAILED, VideoOutcome, error_message
from facemirror.errors import BatchError, NoFaceError
from facemirror.results import JobResult
from facemirror.settings import PipelineConfig, Runtime

log = logging.getLogger(__name__)

#: batch job name -> what it writes into the video's output folder
JOBS = {
    "run": "mirrored videos, midline CSV, an AU CSV per mirrored side, measures, blinks, summary (Pipeline.run)",
    "mirror": "mirrored videos and midline CSV (Pipeline.mirror)",
    "aus": "<stem>.csv, the AUs of the original video (Pipeline.extract_aus)",
    "measure": "<stem>_measures.csv, blinks and summary (Pipeline.measure)",
}


class BatchPipeline(Protocol):
    """What a batch needs of a pipeline (:class:`~facemirror.pipeline.Pipeline` has it)."""

    runtime: Runtime
    progress: bool
    profile: bool

    @property
    def built_from_names(self) -> bool: ...

    @property
    def config(self) -> PipelineConfig: ...

    @classmethod
    def from_config(cls, config: PipelineConfig, *, progress: bool = ..., profile: bool = ...) -> BatchPipeline: ...

    def run(self, video: str | Path, out_dir: str | Path | None = None) -> JobResult: ...

    def mirror(self, video: str | Path, out_dir: str | Path | None = None) -> JobResult: ...

    def measure(self, video: str | Path, out_dir: str | Path | None = None) -> JobResult: ...

    def extract_aus(self, video: str | Path, out_csv: str | Path | None = None) -> JobResult: ...


@dataclass(frozen=True)
class PipelineRecipe:
    """How a worker process rebuilds the batch's pipeline: its class and config (plain data), or the pickled
    pipeline."""

    kind: type[BatchPipeline]
    config: dict[str, Any] | None = None
    pickled: bytes | None = None
    threads: int | None = None
    profile: bool = False

    @classmethod
    def of(cls, pipeline: BatchPipeline, threads: int | None = None) -> PipelineRecipe:
        """The recipe of ``pipeline``; a BatchError when it holds instances that cannot be pickled."""
        kind = type(pipeline)
        if pipeline.built_from_names:
            return cls(kind, config=pipeline.config.to_dict(), threads=threads, profile=pipeline.profile)
        buffer = io.BytesIO()
        pickler = _Pickler(buffer)
        try:
            pickler.dump(pipeline)
        except Exception as exc:
            parts = ", ".join(p for p in (pipeline.config.face, pipeline.config.au_model) if "." in p)
            raise BatchError(
                f"this pipeline uses instances ({parts}) that cannot be sent to worker processes "
                f"({type(exc).__name__}: {exc}); run the batch with workers=1, or make the classes picklable, "
                "or register them by name (facemirror.registry)"
            ) from exc
        if pickler.interactive:
            raise BatchError(
                f"this pipeline uses {', '.join(sorted(pickler.interactive))}, defined in a notebook or an "
                "interactive session, which worker processes cannot import; put the class in a .py module and "
                "import it from there, or run the batch with workers=1"
            )
        pickled = buffer.getvalue()
        return cls(kind, pickled=pickled, threads=threads, profile=pipeline.profile)

    def build(self, progress: bool = False) -> BatchPipeline:
        """The pipeline, built in this process."""
        if self.pickled is not None:
            pipeline: BatchPipeline = pickle.loads(self.pickled)
            pipeline.progress = progress
        else:
            config = PipelineConfig.from_dict(self.config or {})
            pipeline = self.kind.from_config(config, progress=progress, profile=self.profile)
        if self.threads is not None:
            pipeline.runtime = dataclasses.replace(pipeline.runtime, threads=self.threads)
        return pipeline

    @property
    def key(self) -> str:
        """Identifies the recipe (its config, pickle and overrides)."""
        kind = f"{self.kind.__module__}.{self.kind.__qualname__}"
        return json.dumps([kind, self.config, self.pickled.hex() if self.pickled else None, self.threads, self.profile])


class _Pickler(pickle.Pickler):
    """``pickle.dumps`` that also notes the classes and functions defined in an interactive ``__main__`` (a notebook
    or a REPL): they pickle by name, but a worker process has no such module to find them in."""

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file)
        main = sys.modules.get("__main__")
        self._main_is_interactive = getattr(main, "__file__", None) is None
        self.interactive: set[str] = set()

    def reducer_override(self, obj: Any) -> Any:
        if self._main_is_interactive and isinstance(obj, type) and obj.__module__ == "__main__":
            self.interactive.add(obj.__qualname__)
        return NotImplemented


_pipelines: dict[str, BatchPipeline] = {}


def worker_pipeline(recipe: PipelineRecipe) -> BatchPipeline:
    """This process's Pipeline for ``recipe``, built on first use."""
    if recipe.key not in _pipelines:
        _pipelines[recipe.key] = recipe.build()
    return _pipelines[recipe.key]


def init_worker(recipe: PipelineRecipe) -> None:
    """Process-pool initializer: build the worker's Pipeline before its first video."""
    worker_pipeline(recipe)


def process_in_worker(recipe: PipelineRecipe, job: str, task: VideoTask) -> VideoOutcome:
    """Pool/Ray entry point: ``job`` on ``task`` with this process's Pipeline."""
    return run_job(worker_pipeline(recipe), job, task)


def run_job(pipeline: BatchPipeline, job: str, task: VideoTask) -> VideoOutcome:
    """Run ``job`` on one video; any error becomes a ``failed`` outcome with its message."""
    start = time.perf_counter()
    try:
        if job == "aus":
            result = pipeline.extract_aus(task.source, task.out_folder / f"{task.source.stem}.csv")
        else:
            result = getattr(pipeline, job)(task.source, task.out_folder)
    except Exception as exc:
        log.debug("%s failed", task.source, exc_info=True)
        seconds = time.perf_counter() - start
        faceless = exc.frames if isinstance(exc, NoFaceError) else None
        return VideoOutcome(task.rel, FAILED, seconds=seconds, error=error_message(exc), frames_without_face=faceless)
    return VideoOutcome(
        task.rel,
        DONE,
        frames=result.frames,
        seconds=result.timings["total"]["seconds"],
        outputs={name: str(path) for name, path in result.outputs.items()},
        decode=result.decode,
        frames_without_face=result.frames_without_face,
    )
