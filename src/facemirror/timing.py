"""Per-stage wall-clock accounting for results and the profiler: where did the time go?

Time is also kept per thread, so the profiler can add up busy time per
thread (the pipeline's stages run on different threads at
once). Stages named ``wait:...`` are time spent blocked on a queue, not work.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

#: prefix of stages that count time blocked on a queue (``wait:get:<queue>``, ``wait:put:<queue>``)
WAIT_PREFIX = "wait:"


class StageTimes:
    """Seconds and call counts per named stage; safe to update from the pipeline's threads."""

    def __init__(self) -> None:
        self._seconds: dict[str, float] = {}
        self._calls: dict[str, int] = {}
        self._by_thread: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()
        self._start = time.perf_counter()
        self._cpu_start = time.process_time()

    def add(self, stage: str, seconds: float, calls: int = 1) -> None:
        """Count ``calls`` calls of ``stage`` taking ``seconds`` in all, on the calling thread."""
        thread = threading.current_thread().name
        with self._lock:
            self._seconds[stage] = self._seconds.get(stage, 0.0) + seconds
            self._calls[stage] = self._calls.get(stage, 0) + calls
            per_thread = self._by_thread.setdefault(thread, {})
            per_thread[stage] = per_thread.get(stage, 0.0) + seconds

    @contextmanager
    def measure(self, stage: str) -> Iterator[None]:
        """Time the ``with`` block as one call of ``stage``."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - t0)

    def timed_iter(self, items: Iterator[T], stage: str) -> Iterator[T]:
        """Yield from ``items``, timing each step (the work that makes an item) as one call of ``stage``.

        Closing this generator closes ``items`` too, on the same thread.
        """
        try:
            while True:
                t0 = time.perf_counter()
                try:
                    item = next(items)
                except StopIteration:
                    self.add(stage, time.perf_counter() - t0, calls=0)
                    return
                self.add(stage, time.perf_counter() - t0)
                yield item
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    @property
    def elapsed(self) -> float:
        """Seconds since this object was made."""
        return time.perf_counter() - self._start

    def threads(self) -> dict[str, dict[str, float]]:
        """``{thread name: {stage: seconds}}``: which thread spent the time (a stage may run on several)."""
        with self._lock:
            return {thread: {k: round(v, 6) for k, v in stages.items()} for thread, stages in self._by_thread.items()}

    def as_dict(self) -> dict[str, dict[str, float]]:
        """``{stage: {"seconds": s, "calls": n, "ms_per_call": ms}}``, plus ``total`` (wall) and ``cpu`` (process)."""
        with self._lock:
            out = {
                stage: {
                    "seconds": round(s, 6),
                    "calls": self._calls[stage],
                    "ms_per_call": round(1000 * s / max(1, self._calls[stage]), 3),
                }
                for stage, s in self._seconds.items()
            }
        elapsed, cpu = self.elapsed, time.process_time() - self._cpu_start
        out["total"] = {"seconds": round(elapsed, 6), "calls": 1, "ms_per_call": round(1000 * elapsed, 3)}
        out["cpu"] = {"seconds": round(cpu, 6), "calls": 1, "ms_per_call": round(1000 * cpu, 3)}
        return out
