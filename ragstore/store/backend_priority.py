"""A database session's server process at a lower CPU priority, so that ingestion's writes yield to searches.

ingest/priority.py lowers ragstore's own ingestion threads; the inserts, index upkeep and WAL they ask for run in
PostgreSQL's backend process of their connection, at the server's normal priority, beside the searches' backends.
When that process is on this machine and this user may lower it (the embedded server, or one run by the same user;
root may lower any), its nice value is raised too. Elsewhere nothing changes: a server on another host, in another
pid namespace (the pid is checked to be a postgres process first) or of another user keeps its priority.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ragstore.store.rows import Connection

log = logging.getLogger(__name__)
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def lower_backend(conn: Connection, niceness: int) -> bool:
    """Add niceness (0..19) to the nice value of conn's backend process, when it is a local postgres process this
    user may lower; whether it was lowered."""
    if niceness <= 0 or not _local(conn.info.host):
        return False
    pid = conn.info.backend_pid
    try:
        if b"postgres" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return False  # the pid is not a local postgres process: a server in a container, or not on Linux
        os.setpriority(os.PRIO_PROCESS, pid, min(19, os.getpriority(os.PRIO_PROCESS, pid) + niceness))
    except OSError as exc:  # another user's server, or the process just ended
        log.debug("the backend %s keeps its priority: %s", pid, exc)
        return False
    return True


def _local(host: str) -> bool:
    return host.startswith("/") or host in LOCAL_HOSTS
