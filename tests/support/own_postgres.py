"""An embedded PostgreSQL of a test's own, in its own data directory, that the test may stop, start or starve."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ragstore.store import embedded


class Postgres:
    """The server; its URL stays the same across a stop and a start (the socket is in its data directory)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pgdata = folder / "pgdata"
        self.url = embedded.start(self.pgdata)

    def stop(self) -> None:
        embedded.stop(self.pgdata)

    def start(self) -> None:
        assert embedded.start(self.pgdata) == self.url


@contextmanager
def own_postgres() -> Iterator[Postgres]:
    """Started on entry; stopped and deleted on exit."""
    folder = Path(tempfile.mkdtemp(prefix="ragstore-own-pg-"))  # short: a socket path must fit in 107 bytes
    server = Postgres(folder)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
