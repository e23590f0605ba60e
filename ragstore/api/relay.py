"""A stream made to its end whatever the client does: its items handed over through a queue.

Even the server's shutdown lets it end: every relay running is in IN_FLIGHT, which the app's shutdown waits for
(within RAGSTORE_SHUTDOWN_GRACE_SECONDS) before it closes the database. A stream that cannot finish in time stores
nothing (an exchange is stored in one transaction once whole): never half an answer.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, Generic, TypeVar

import anyio.to_thread

from ragstore.errors import RagstoreError

log = logging.getLogger(__name__)
T = TypeVar("T")


class InFlight:
    """The relays still running, which shutdown waits for."""

    def __init__(self) -> None:
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def start(self, thread: threading.Thread) -> None:
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def done(self, thread: threading.Thread) -> None:
        with self._lock:
            self._threads.discard(thread)

    def wait(self, timeout: float) -> int:
        """Wait up to timeout seconds in all for the running streams to finish; how many did not."""
        with self._lock:
            running = list(self._threads)
        if running:
            log.info("Waiting up to %g s for %d answer(s) being generated to finish.", timeout, len(running))
        deadline = time.monotonic() + timeout
        for thread in running:
            thread.join(max(0.0, deadline - time.monotonic()))
        left = sum(thread.is_alive() for thread in running)
        if left:
            log.warning("%d answer(s) did not finish within the grace period: they are not stored.", left)
        return left


# Every relay of this process; the app's shutdown waits for them.
IN_FLIGHT = InFlight()


class Relay(Generic[T]):
    """Runs an answer's stream to its end in a thread of its own and hands its pieces over through a queue.

    The response reads the queue; if the client goes away, the response stops reading but the thread goes on, so
    the answer is still stored (and the model's tokens, paid for, are not thrown away).
    """

    _END = object()

    def __init__(self, source: Iterator[T], in_flight: InFlight = IN_FLIGHT) -> None:
        self._pieces: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._in_flight = in_flight
        in_flight.start(threading.Thread(target=self._guarded, args=(source,), name="stream-relay", daemon=True))

    def _guarded(self, source: Iterator[T]) -> None:
        try:
            self._run(source)
        finally:
            self._in_flight.done(threading.current_thread())

    def _run(self, source: Iterator[T]) -> None:
        try:
            for piece in source:
                self._pieces.put(piece)
        except RagstoreError as exc:
            log.error("a stream failed: %s", exc.message)
            self._pieces.put(exc)
        except Exception:
            log.exception("a stream failed")
            self._pieces.put(RagstoreError())  # the client is told no more than in a 500 response
        else:
            self._pieces.put(self._END)

    async def __aiter__(self) -> AsyncIterator[T]:
        """The pieces as they come, as __iter__ gives them, each waited for in a thread that a client's going away
        abandons: the response ends at once, the relay goes on."""
        while True:
            piece = await anyio.to_thread.run_sync(self._pieces.get, abandon_on_cancel=True)
            if piece is self._END:
                return
            if isinstance(piece, RagstoreError):
                raise piece
            yield piece

    def __iter__(self) -> Iterator[T]:
        """The pieces as they come; a failure is raised as the RagstoreError it was (or became)."""
        while (piece := self._pieces.get()) is not self._END:
            if isinstance(piece, RagstoreError):
                raise piece
            yield piece
