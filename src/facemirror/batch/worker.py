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
import types
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
        if _is_interactive(kind):
            raise BatchError(_interactive_error({kind.__qualname__}))
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
            raise BatchError(_interactive_error(pickler.interactive))
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


def _is_interactive(obj: object) -> bool:
    """Whether ``obj`` (a class or function) was defined in an interactive ``__main__`` (a notebook or a REPL): it
    pickles by name, but a worker process has no such module to find it in."""
    if not isinstance(obj, (type, types.FunctionType)) or getattr(obj, "__module__", None) != "__main__":
        return False
    return getattr(sys.modules.get("__main__"), "__file__", None) is None


def _interactive_error(names: set[str]) -> str:
    return (
        f"this pipeline uses {', '.join(sorted(names))}, defined in a notebook or an interactive session, which "
        "worker processes cannot import; put it in a .py module and import it from there, or run the batch with "
        "workers=1"
    )


class _Pickler(pickle.Pickler):
    """``pickle.dumps`` that also notes the classes and functions defined in an interactive ``__main__``."""

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file)
        self.interactive: set[str] = set()

    def reducer_override(self, obj: Any) -> Any:
        if _is_interactive(obj):
            self.interactive.add(obj.__qualname__)
        return NotImplemented


_pipelines: dict[str, BatchPipeline] = {}
#: recipe key -> why this process could not build its pipeline (each of its videos fails with it)
_unbuildable: dict[str, str] = {}


def worker_pipeline(recipe: PipelineRecipe) -> BatchPipeline:
    """This process's Pipeline for ``recipe``, built on first use."""
    if recipe.key not in _pipelines:
        _pipelines[recipe.key] = recipe.build()
    return _pipelines[recipe.key]


def init_worker(recipe: PipelineRecipe) -> None:
    """Process-pool initializer: build the worker's Pipeline before its first video.

    A failure is kept, not raised: raised here it would break the whole pool, and every video would read as a
    crashed worker instead of saying what is wrong.
    """
    try:
        worker_pipeline(recipe)
    except Exception as exc:
        log.debug("the worker could not build its pipeline", exc_info=True)
        _unbuildable[recipe.key] = f"a worker process could not build the pipeline: {error_message(exc)}"


def process_in_worker(recipe: PipelineRecipe, job: str, task: VideoTask) -> VideoOutcome:
    """Pool/Ray entry point: ``job`` on ``task`` with this process's Pipeline (built here on a Ray worker)."""
    if recipe.key not in _pipelines and recipe.key not in _unbuildable:
        init_worker(recipe)
    if recipe.key in _unbuildable:
        return VideoOutcome(task.rel, FAILED, error=_unbuildable[recipe.key])
    return run_job(_pipelines[recipe.key], job, task)


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
