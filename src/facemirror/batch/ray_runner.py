"""Run a batch's videos as Ray tasks, on one machine or a cluster (the ``ray`` extra).

Each video is one task with its own resource request; Ray retries a task
whose worker died (``max_retries``), but not one whose job raised: those come
back as ``failed`` outcomes like everywhere else. The driver keeps the
bookkeeping (done-markers, summary), so workers only need to reach the input
and output folders: IN_DIR and OUT_DIR must be on storage every node mounts
at the same path.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

from facemirror.batch.discover import VideoTask
from facemirror.batch.summary import FAILED, VideoOutcome
from facemirror.batch.worker import PipelineRecipe, process_in_worker
from facemirror.errors import BatchError
from facemirror.optional import require


@dataclass(frozen=True)
class RayOptions:
    """Where the Ray cluster is and what each video's task asks of it."""

    #: "auto" (the cluster this machine belongs to), "ray://host:10001", or None: connect to
    #: RAY_ADDRESS if set, else start a local Ray instance (ignored when Ray is already initialised)
    address: str | None = None
    #: CPUs reserved per video; also the inference threads of its Pipeline unless threads are given
    num_cpus: float = 2.0
    num_gpus: float = 0.0
    #: retries of a video whose worker process or node died (not of application errors)
    max_retries: int = 3


def ray_execute(
    recipe: PipelineRecipe, job: str, tasks: list[VideoTask], ray_options: RayOptions
) -> Generator[tuple[VideoTask, VideoOutcome], None, None]:
    """Submit every video as a Ray task and yield ``(task, outcome)`` in the order they finish."""
    ray = require("ray", "facemirror batch --ray")
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(address=ray_options.address, include_dashboard=False)
        except ConnectionError as exc:  # no cluster at that address: Ray's own message says which
            where = ray_options.address or "RAY_ADDRESS"
            raise BatchError(f"cannot connect to the Ray cluster at {where}: {exc}") from exc
    remote = ray.remote(
        num_cpus=ray_options.num_cpus,
        num_gpus=ray_options.num_gpus,
        max_retries=ray_options.max_retries,
        retry_exceptions=False,
    )(process_in_worker)
    pending = {remote.remote(recipe, job, task): task for task in tasks}
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                task = pending.pop(ref)
                try:
                    outcome = ray.get(ref)
                except Exception as exc:  # the worker died more than max_retries times, or the task was lost
                    outcome = VideoOutcome(task.rel, FAILED, error=_ray_error(exc))
                yield task, outcome
    finally:
        for ref in pending:
            ray.cancel(ref)
        if started_here:
            ray.shutdown()


def _ray_error(exc: Exception) -> str:
    """Ray's errors carry whole remote tracebacks: keep the type and the first line."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"
