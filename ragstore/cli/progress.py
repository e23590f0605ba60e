"""Progress on a terminal: bars on stderr (none when it is not a terminal), and a worker run while they move."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ragstore.runtime import Runtime


def bar(**options: Any) -> Any:
    """A progress bar as tqdm makes one (desc, total, unit, ...), on stderr and only on a terminal."""
    from tqdm import tqdm

    return tqdm(disable=None, **options)


def work_until(runtime: Runtime, remaining: Callable[[], int], total: int) -> None:
    """Run a worker in this process, with a progress bar, until nothing is left (other workers may help)."""
    if not total:
        return
    worker = runtime.worker(poll_seconds=0.2)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        with bar(total=total, desc="ingest", unit="file") as shown:
            while left := remaining():
                shown.update(total - left - shown.n)
                worker.stop_event.wait(0.2)
            shown.update(total - shown.n)
    finally:
        worker.stop()
        thread.join()
