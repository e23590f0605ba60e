"""A stream made to its end whatever the client does: its items handed over through a queue."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from ragstore.errors import RagstoreError

log = logging.getLogger(__name__)
T = TypeVar("T")


class Relay(Generic[T]):
    """Runs an answer's stream to its end in a thread of its own and hands its pieces over through a queue.

    The response reads the queue; if the client goes away, the response stops reading but the thread goes on, so
    the answer is still stored (and the model's tokens, paid for, are not thrown away).
    """

    _END = object()

    def __init__(self, source: Iterator[T]) -> None:
        self._pieces: queue.SimpleQueue[Any] = queue.SimpleQueue()
        threading.Thread(target=self._run, args=(source,), name="stream-relay", daemon=True).start()

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

    def __iter__(self) -> Iterator[T]:
        """The pieces as they come; a failure is raised as the RagstoreError it was (or became)."""
        while (piece := self._pieces.get()) is not self._END:
            if isinstance(piece, RagstoreError):
                raise piece
            yield piece
