"""Ingestion yields the CPU to searches: its threads run at a lower priority (a higher nice value).

On Linux a thread's nice value is its own (setpriority(2), "BUGS": per thread under NPTL, not per process), and a
thread starts with the nice value of the thread that made it. So a worker thread lowers itself, and the ingestion
model's session is made in a thread that lowered itself first: ONNX Runtime's pool threads, made with the session,
start at that priority, while the server's request threads and the query model's session stay where they were.
Elsewhere (macOS, Windows) a nice value is the whole process's, and nothing is changed.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
PER_THREAD = sys.platform == "linux"


def lower_this_thread(niceness: int) -> None:
    """Add niceness (0..19) to the calling thread's nice value; where nice values are per process, do nothing."""
    if niceness <= 0 or not PER_THREAD:
        return
    tid = threading.get_native_id()
    current = os.getpriority(os.PRIO_PROCESS, tid)
    os.setpriority(os.PRIO_PROCESS, tid, min(19, current + niceness))


def made_at_lower_priority(make: Callable[[], T], niceness: int) -> T:
    """make()'s result, made in a thread of lowered priority, so that the threads it starts inherit that priority."""
    if niceness <= 0 or not PER_THREAD:
        return make()
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        lower_this_thread(niceness)
        try:
            result.append(make())
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="ragstore-lowered")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]
