"""Ingestion's threads yield to searches: a lowered thread, and the threads it makes, run at a higher nice value."""

from __future__ import annotations

import os
import threading

import pytest

from ragstore.ingest import priority

pytestmark = pytest.mark.skipif(not priority.PER_THREAD, reason="nice values are per thread on Linux only")


def nice_of(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid)


def in_thread(work):  # noqa: ANN001, ANN201
    found = []
    thread = threading.Thread(target=lambda: found.append(work()))
    thread.start()
    thread.join()
    return found[0]


def test_a_thread_lowers_itself_and_no_other():
    mine = nice_of(threading.get_native_id())

    def lowered() -> int:
        priority.lower_this_thread(3)
        return nice_of(threading.get_native_id())

    assert in_thread(lowered) == min(19, mine + 3)
    assert nice_of(threading.get_native_id()) == mine


def test_what_is_made_at_lower_priority_starts_its_threads_there():
    mine = nice_of(threading.get_native_id())
    made = priority.made_at_lower_priority(lambda: in_thread(lambda: nice_of(threading.get_native_id())), 4)
    assert made == min(19, mine + 4)
    assert nice_of(threading.get_native_id()) == mine


def test_niceness_zero_changes_nothing():
    mine = nice_of(threading.get_native_id())
    assert priority.made_at_lower_priority(lambda: nice_of(threading.get_native_id()), 0) == mine


def test_a_failure_to_make_reaches_the_caller():
    def fail() -> None:
        raise ValueError("no model")

    with pytest.raises(ValueError, match="no model"):
        priority.made_at_lower_priority(fail, 5)
