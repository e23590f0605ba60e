"""Progress reporting: the CLI passes its rich bars (cli/progress.py, on stderr); everything else runs quiet."""

from __future__ import annotations

from typing import Any, Protocol


class Bar(Protocol):
    def update(self, n: int = 1) -> Any: ...


class Progress(Protocol):
    """Makes a bar: progress(desc=..., total=..., unit=...) used as a context manager."""

    def __call__(self, **options: Any) -> Any: ...


class _Silent:
    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int = 1) -> None:
        return None


def quiet(**options: Any) -> _Silent:
    """A bar that shows nothing."""
    return _Silent()
