"""The background-thread helpers behind VideoReader and VideoWriter: ordering, errors, early stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from facemirror.video.stream import BackgroundIterator, BackgroundWorker


def test_iterator_yields_everything_in_order() -> None:
    assert list(BackgroundIterator(lambda: iter(range(50)), maxsize=3)) == list(range(50))


def test_iterator_reraises_the_producer_error_after_its_items() -> None:
    def produce() -> Iterator[int]:
        yield 1
        yield 2
        raise ZeroDivisionError("boom")

    got = []
    with pytest.raises(ZeroDivisionError, match="boom"):
        for item in BackgroundIterator(produce):
            got.append(item)
    assert got == [1, 2]


def test_iterator_close_stops_a_blocked_producer() -> None:
    produced = []

    def produce() -> Iterator[int]:
        for i in range(10_000):
            produced.append(i)
            yield i

    frames = BackgroundIterator(produce, maxsize=2, name="test-producer")
    assert next(frames) == 0
    frames.close()
    assert not any(t.name == "test-producer" for t in threading.enumerate())
    assert len(produced) < 10  # bounded queue: the producer never ran far ahead
    with pytest.raises(StopIteration):
        next(frames)


def test_worker_consumes_in_order_and_finishes() -> None:
    seen: list[int] = []
    worker = BackgroundWorker(seen.append, maxsize=2)
    for i in range(100):
        worker.put(i)
    worker.finish()
    assert seen == list(range(100))


def test_worker_error_surfaces_on_put_or_finish() -> None:
    def consume(item: int) -> None:
        if item == 3:
            raise KeyError("bad item")

    worker = BackgroundWorker(consume, maxsize=1)
    with pytest.raises(KeyError, match="bad item"):
        for i in range(1000):
            worker.put(i)
            time.sleep(0.001)
        worker.finish()
    with pytest.raises(KeyError):
        worker.finish()


def test_worker_cancel_drops_queued_items() -> None:
    seen: list[int] = []
    release = threading.Event()

    def consume(item: int) -> None:
        release.wait(2)
        seen.append(item)

    worker = BackgroundWorker(consume, maxsize=5, name="test-worker")
    for i in range(4):
        worker.put(i)
    threading.Timer(0.2, release.set).start()  # let item 0 finish only after cancel() has asked to stop
    worker.cancel()
    assert not any(t.name == "test-worker" for t in threading.enumerate())
    assert seen == [0]
