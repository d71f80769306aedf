"""``run_batch``: one job over many videos, resumable, one failure never stopping the rest.

The driver (this process) decides what to skip, hands the rest to an
executor (in-process, a local process pool, or Ray) and, as each result
arrives, writes the video's done-marker and rewrites ``batch_summary.csv``:
a crash or Ctrl-C of the driver loses no finished work.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Generator, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from facemirror.atomic import check_not_a_file, check_writable_dir
from facemirror.batch.discover import INPUT_EXTENSIONS, VideoTask, collect, normalize_extensions, plan
from facemirror.batch.state import (
    batch_lock,
    clear_done,
    clear_stale_partials,
    find_done,
    fingerprint,
    write_done,
)
from facemirror.batch.summary import DONE, FAILED, SUMMARY_NAME, BatchResult, VideoOutcome, error_message, write_summary
from facemirror.batch.worker import JOBS, BatchPipeline, PipelineRecipe, init_worker, process_in_worker, run_job
from facemirror.errors import BatchError

if TYPE_CHECKING:
    from facemirror.batch.ray_runner import RayOptions

log = logging.getLogger(__name__)

#: inference threads a worker is sized for when neither ``workers`` nor ``threads`` is given
THREADS_PER_WORKER = 4

Executor = Generator[tuple[VideoTask, VideoOutcome], None, None]


def available_cores() -> int:
    """CPU cores this process may use (respects container and taskset limits)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def size_workers(workers: int | None, threads: int | None, cores: int) -> tuple[int, int]:
    """(workers, threads per worker) so that workers x threads fits ``cores``; what is given is kept."""
    if workers is None:
        workers = max(1, cores // (threads or THREADS_PER_WORKER))
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    return workers, threads or max(1, cores // workers)


def run_batch(
    pipeline: BatchPipeline,
    inputs: str | Path | Sequence[str | Path],
    out_dir: str | Path,
    *,
    job: str = "run",
    extensions: Iterable[str] = INPUT_EXTENSIONS,
    recursive: bool = False,
    force: bool = False,
    checksum: bool = False,
    workers: int | None = None,
    ray: RayOptions | None = None,
    progress: bool = True,
) -> BatchResult:
    """Run ``job`` ("run", "mirror", "measure" or "aus") with ``pipeline`` on every video of ``inputs``, writing
    under ``out_dir`` (``facemirror.batch.run_many`` also takes a configuration or keyword arguments).

    ``inputs`` is a folder (its videos, with
    ``recursive`` those of its subfolders too) or a list of files and folders;
    IN/a/b.mp4 goes to OUT/a/b/. Videos finished by an earlier run with the
    same input, job and configuration are skipped unless ``force``.
    ``workers`` > 1 runs a local spawn process pool; ``ray`` sends each video
    to a Ray cluster instead. Worker processes rebuild a pipeline made from
    names from its configuration; one holding instances of the user's own
    classes is pickled, or refused with a BatchError when it cannot be. A
    second batch started on the same ``out_dir`` while this one runs fails at
    once with :class:`~facemirror.errors.OutputBusyError`.
    """
    if job not in JOBS:
        raise ValueError(f"job must be one of {', '.join(JOBS)}, not {job!r}")
    config = pipeline.config
    out = check_not_a_file(out_dir).resolve()
    exts = normalize_extensions(extensions)
    root, videos = collect(inputs, exts, recursive, exclude=out)
    if out == root:
        raise BatchError(f"{out}: the output folder must not be the input folder (outputs would be taken for inputs)")
    if not videos:
        hint = "" if recursive else " (add --recursive to look in subfolders)"
        raise BatchError(f"{inputs}: no videos ({' '.join(exts)}) found{hint}")
    check_writable_dir(out)  # created only for a batch that can start
    tasks = plan(root, videos, out)

    with batch_lock(out):  # a second batch on this folder fails here, before it touches anything
        for stale in clear_stale_partials(out):  # what a batch killed with SIGKILL left
            log.info("%s: removed a temporary file left by an interrupted batch", stale)
        book = _Book(out, tasks)
        todo: list[VideoTask] = []
        stamps: dict[str, dict[str, Any]] = {}
        for task in tasks:
            try:
                stamps[task.rel] = stamp = fingerprint(task.source, checksum)
            except OSError as exc:  # a dangling symlink, an unreadable file: that video fails, the others run
                clear_done(out, task)
                error = f"{task.source}: cannot read the input ({exc.strerror or exc})"
                log.warning("%s failed: %s", task.rel, error)
                book.add(VideoOutcome(task.rel, FAILED, error=error))
                continue
            done = None if force else find_done(out, task, job, config, stamp, pipeline.profile)
            if done is not None:
                book.add(done)
            else:
                clear_done(out, task)
                todo.append(task)
        book.write()

        bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), unit="video", desc="batch", disable=not progress)
        # closed on leaving, error or not: the executor's pool or Ray shutdown runs now, while the batch lock is held,
        # not whenever the garbage collector gets to the generator
        executor = contextlib.closing(_executor(pipeline, job, todo, workers, ray))
        with logging_redirect_tqdm(), bar, executor as results:  # warnings are printed above the bar, not through it
            for task, outcome in results:
                if outcome.status == DONE:
                    write_done(out, task, job, config, stamps[task.rel], outcome)
                else:
                    log.warning("%s failed: %s", task.rel, outcome.error)
                book.add(outcome)
                book.write()
                bar.update(1)
        return BatchResult(out, book.ordered(), book.path)


def _executor(
    pipeline: BatchPipeline, job: str, tasks: list[VideoTask], workers: int | None, ray: RayOptions | None
) -> Executor:
    """Pick where the videos run: Ray, a process pool, or this process (workers == 1)."""
    if not tasks:
        return _inline(pipeline, job, [])
    if ray is not None:
        from facemirror.batch.ray_runner import ray_execute

        threads = pipeline.runtime.threads or max(1, int(ray.num_cpus))
        return ray_execute(PipelineRecipe.of(pipeline, threads), job, tasks, ray)
    n, threads = size_workers(workers, pipeline.runtime.threads, available_cores())
    n = min(n, len(tasks))
    if n == 1:
        return _inline(pipeline, job, tasks)
    # per-video bars from several processes garble the terminal: workers run without them
    return _pool(PipelineRecipe.of(pipeline, threads), job, tasks, n)


def _inline(pipeline: BatchPipeline, job: str, tasks: list[VideoTask]) -> Executor:
    """Every video in this process, one after another (``--workers 1``: the simplest to debug)."""
    for task in tasks:
        yield task, run_job(pipeline, job, task)


def _pool(recipe: PipelineRecipe, job: str, tasks: list[VideoTask], workers: int) -> Executor:
    """Videos on a spawn process pool, at most ``workers`` in flight; a dead worker fails only its videos."""
    context = multiprocessing.get_context("spawn")
    queue = deque(tasks)
    while queue:
        broken = False
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=init_worker, initargs=(recipe,))
        running: dict[Future[VideoOutcome], VideoTask] = {}
        try:
            while running or (queue and not broken):
                while queue and not broken and len(running) < workers:
                    task = queue.popleft()
                    running[pool.submit(process_in_worker, recipe, job, task)] = task
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    task = running.pop(future)
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        broken = True  # start a fresh pool for the videos still queued
                        error = "BrokenProcessPool: a worker process died while processing this video (out of memory?)"
                        outcome = VideoOutcome(task.rel, FAILED, error=error)
                    except Exception as exc:  # e.g. a result that cannot be unpickled
                        outcome = VideoOutcome(task.rel, FAILED, error=error_message(exc))
                    yield task, outcome
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


class _Book:
    """The outcomes so far, kept in input order, and the summary CSV rewritten from them."""

    def __init__(self, out_dir: Path, tasks: list[VideoTask]) -> None:
        self.path = out_dir / SUMMARY_NAME
        self._order = {t.rel: i for i, t in enumerate(tasks)}
        self._outcomes: dict[str, VideoOutcome] = {}

    def add(self, outcome: VideoOutcome) -> None:
        self._outcomes[outcome.file] = outcome

    def ordered(self) -> list[VideoOutcome]:
        return sorted(self._outcomes.values(), key=lambda o: self._order[o.file])

    def write(self) -> None:
        write_summary(self.path, self.ordered())
