"""Progress on a terminal: rich bars on stderr (nothing when it is not a terminal), and a worker run while they move."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ragstore.runtime import Runtime


class Bar:
    """One progress bar, made and moved as a tqdm bar is (the service layer and the archive call it so):
    `Bar(desc=..., total=..., unit=...)` used as a context manager or iterated over, `update(n)`, `n`, `total`."""

    def __init__(
        self,
        iterable: Iterable[Any] | None = None,
        *,
        desc: str = "",
        total: float | None = None,
        unit: str = "it",
        unit_scale: bool = False,
    ) -> None:
        from rich import progress
        from rich.console import Console
        from rich.markup import escape

        console = Console(stderr=True)
        counted = (
            [progress.DownloadColumn(), progress.TransferSpeedColumn()]  # unit_scale: bytes, as the archive counts
            if unit_scale
            else [progress.MofNCompleteColumn(), progress.TextColumn(escape(f"{unit}s"))]
        )
        self._shown = progress.Progress(
            progress.TextColumn(escape(desc), style="bold"),
            progress.BarColumn(),
            *counted,
            progress.TimeElapsedColumn(),
            progress.TimeRemainingColumn(),
            console=console,
            disable=not console.is_terminal,
        )
        if total is None and isinstance(iterable, list | tuple):
            total = len(iterable)
        self._iterable = iterable
        self._total = total
        self._task = self._shown.add_task(desc, total=total)
        self.n = 0
        terminal = sys.stderr
        self._shown.start()
        self._moved = _log_through_bar(terminal) if console.is_terminal else []

    @property
    def total(self) -> float | None:
        return self._total

    @total.setter
    def total(self, value: float | None) -> None:
        self._total = value
        self._shown.update(self._task, total=value)

    def update(self, n: float = 1) -> None:
        self.n += int(n)
        self._shown.advance(self._task, n)

    def close(self) -> None:
        for handler, stream in self._moved:
            handler.setStream(stream)
        self._moved = []
        self._shown.stop()

    def __iter__(self) -> Iterator[Any]:
        assert self._iterable is not None
        try:
            for item in self._iterable:
                yield item
                self.update()
        finally:
            self.close()

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _log_through_bar(terminal: Any) -> list[tuple[logging.StreamHandler[Any], Any]]:
    """While a bar is drawn, rich redirects sys.stderr above it; log handlers kept the terminal's own stream, so a
    parser's warning (pypdf's) would write through the bar. They write to the redirected stream meanwhile."""
    moved = []
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is terminal is not sys.stderr:
            moved.append((handler, handler.setStream(sys.stderr)))
    return moved


def bar(iterable: Iterable[Any] | None = None, **options: Any) -> Bar:
    """A progress bar on stderr, drawn only on a terminal: desc, total, unit and unit_scale as tqdm takes them."""
    return Bar(iterable, **options)


class Stages:
    """A progress bar per stage, one at a time (shown on a terminal only): the importers' Progress."""

    def __init__(self, unit: str = "doc") -> None:
        self.unit = unit
        self.shown: Bar | None = None

    def start(self, stage: str, total: int | None) -> None:
        self.close()
        self.shown = bar(total=total, desc=stage, unit=self.unit)

    def advance(self, count: int = 1) -> None:
        if self.shown is not None:
            self.shown.update(count)

    def close(self) -> None:
        if self.shown is not None:
            self.shown.close()
            self.shown = None

    def __enter__(self) -> Stages:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
