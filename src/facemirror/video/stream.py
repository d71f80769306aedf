"""Run one side of a producer/consumer pair on a background thread, joined by a bounded queue.

Decoding and encoding are slow C calls that release the GIL; putting them on
their own thread lets them overlap the user's work, while the bounded queue
keeps memory flat. An exception on the background thread is re-raised on
the caller's thread, and stopping early ends the thread promptly.
"""

from __future__ import annotations

import abc
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from facemirror.timing import WAIT_PREFIX, StageTimes

T = TypeVar("T")

_DONE = object()  # end-of-stream marker on the queue
_POLL_S = 0.1  # how often a blocked thread looks at its stop flag


def _wait_stage(kind: str, name: str) -> str:
    """The StageTimes name of time blocked on a queue: ``wait:get:<queue>`` or ``wait:put:<queue>``."""
    return f"{WAIT_PREFIX}{kind}:{name.removeprefix('facemirror-')}"


def _drain(q: queue.Queue[object]) -> None:
    """Drop everything waiting in ``q``, so a producer blocked on ``put`` can see its stop flag."""
    try:
        while True:
            q.get_nowait()
    except queue.Empty:
        pass


class _Background(abc.ABC):
    """What both thread wrappers hold: the bounded queue, the stop flag, the thread's error, queue-wait timing.

    Subclasses set what their thread calls before ``super().__init__``, which starts the thread on ``_run``.
    """

    def __init__(self, maxsize: int, name: str, times: StageTimes | None) -> None:
        self._times = times
        self._get_stage, self._put_stage = _wait_stage("get", name), _wait_stage("put", name)
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, maxsize))
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @abc.abstractmethod
    def _run(self) -> None:
        """The thread's body."""

    def _waited(self, stage: str, since: float) -> None:
        """Record the time since ``since`` as queue wait ``stage`` (when timing)."""
        if self._times is not None:
            self._times.add(stage, time.perf_counter() - since)


class BackgroundIterator(_Background, Generic[T]):
    """Iterate ``produce()`` on a daemon thread; the caller iterates this object.

    At most ``maxsize`` items wait in the queue. :meth:`close` (also called
    when iteration ends) stops the producer at its next item and joins it.
    With ``times``, the consumer's wait for items and the producer's wait
    for queue room are recorded as ``wait:get:<name>`` / ``wait:put:<name>``.
    """

    def __init__(
        self,
        produce: Callable[[], Iterator[T]],
        maxsize: int = 8,
        name: str = "facemirror-producer",
        times: StageTimes | None = None,
    ) -> None:
        self._produce = produce
        super().__init__(maxsize, name, times)

    def _run(self) -> None:
        items = self._produce()
        try:
            for item in items:
                if not self._offer(item):
                    return
        except BaseException as exc:  # handed to the consumer thread
            self._error = exc
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # end a generator here, not later on whichever thread collects it
        self._offer(_DONE)

    def _offer(self, item: object) -> bool:
        """Put ``item`` unless asked to stop; False when stopped."""
        t0 = time.perf_counter()
        try:
            while not self._stop.is_set():
                try:
                    self._queue.put(item, timeout=_POLL_S)
                    return True
                except queue.Full:
                    continue
            return False
        finally:
            self._waited(self._put_stage, t0)

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        if self._stop.is_set():
            raise StopIteration
        t0 = time.perf_counter()
        item = self._queue.get()
        self._waited(self._get_stage, t0)
        if item is _DONE:
            self.close()
            if self._error is not None:
                raise self._error
            raise StopIteration
        return item  # type: ignore[return-value]

    def close(self) -> None:
        """Stop the producer and wait for its thread to end."""
        self._stop.set()
        _drain(self._queue)
        self._thread.join()
        _drain(self._queue)


class BackgroundWorker(_Background, Generic[T]):
    """Feed items to ``consume(item)`` on a daemon thread; the caller calls :meth:`put`.

    :meth:`put` blocks only while ``maxsize`` items are already waiting. The
    first exception raised by ``consume`` stops the worker and is re-raised
    by the next :meth:`put` or by :meth:`finish`. With ``times``, the
    caller's wait for queue room and the worker's wait for items are recorded
    as ``wait:put:<name>`` / ``wait:get:<name>``.
    """

    def __init__(
        self,
        consume: Callable[[T], None],
        maxsize: int = 8,
        name: str = "facemirror-worker",
        times: StageTimes | None = None,
    ) -> None:
        self._consume = consume
        super().__init__(maxsize, name, times)

    def _run(self) -> None:
        t0 = time.perf_counter()
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            self._waited(self._get_stage, t0)
            if item is _DONE:
                return
            try:
                self._consume(item)  # type: ignore[arg-type]
            except BaseException as exc:  # handed to the caller's thread
                self._error = exc
                self._stop.set()
                return
            t0 = time.perf_counter()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def put(self, item: T) -> None:
        """Queue ``item`` for the worker; raises the worker's error if it has failed."""
        t0 = time.perf_counter()
        while True:
            self._raise_error()
            if self._stop.is_set():
                raise RuntimeError("the background worker was stopped")
            try:
                self._queue.put(item, timeout=_POLL_S)
                break
            except queue.Full:
                continue
        self._waited(self._put_stage, t0)

    def finish(self) -> None:
        """Let the worker consume everything queued, join it, and re-raise its error if any."""
        if self._thread.is_alive() and not self._stop.is_set():
            while self._thread.is_alive():
                try:
                    self._queue.put(_DONE, timeout=_POLL_S)
                    break
                except queue.Full:
                    continue
        self._thread.join()
        self._raise_error()

    def cancel(self) -> None:
        """Stop the worker without consuming what is still queued, and join it."""
        self._stop.set()
        self._thread.join()
        _drain(self._queue)
