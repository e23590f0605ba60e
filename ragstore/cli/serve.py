"""`ragstore serve` and `ragstore worker`: the long-running processes, which log JSON lines."""

from __future__ import annotations

import errno
import logging
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ragstore.cli import context
from ragstore.cli.context import DataDir, Verbose

if TYPE_CHECKING:
    from ragstore.config import Settings

app = typer.Typer()


@app.command(epilog="Example: ragstore serve --port 8080 --workers 2")
def serve(
    host: Annotated[str | None, typer.Option(help="default 127.0.0.1 (RAGSTORE_HOST)", show_default=False)] = None,
    port: Annotated[int | None, typer.Option(help="default 8000 (RAGSTORE_PORT)", show_default=False)] = None,
    workers: Annotated[
        int | None, typer.Option(help="in-process ingestion workers, default 1 (RAGSTORE_WORKERS)", show_default=False)
    ] = None,
    replica: Annotated[
        bool,
        typer.Option(
            "--replica",
            help="also run a streaming standby of the embedded database (in DATA_DIR/standby) that serves the reads",
        ),
    ] = False,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """Run the HTTP server and in-process workers."""
    import uvicorn

    from ragstore.api.app import create_app

    settings = context.settings(data_dir, verbose, log_format="json", host=host, port=port, workers=workers)
    _check_address(settings.host, settings.port)
    standby_dir = settings.data_dir / "standby" if replica else None
    if standby_dir is not None:
        settings = _with_standby(settings, standby_dir)
    print(f"ragstore: serving on http://{settings.host}:{settings.port} (data in {settings.data_dir})", flush=True)
    logging.getLogger("ragstore").setLevel(logging.INFO)  # the access lines
    # uvicorn raises the signal that stopped it again once it has shut down, with the handler it found in place:
    # this one makes a SIGTERM that ended in a graceful shutdown a clean exit (code 0), as orchestrators expect.
    signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        _run(uvicorn, create_app(settings), settings)
    finally:
        if standby_dir is not None:
            from ragstore.store import standby

            standby.stop(standby_dir)
    return 0


def _with_standby(settings: Settings, standby_dir: Path) -> Settings:
    """The settings with a standby of the embedded server as their replica (made the first time, then reused)."""
    from ragstore.errors import ConfigurationError
    from ragstore.store import embedded, standby

    if settings.database_url:
        raise ConfigurationError(
            "--replica runs a standby of the embedded database: unset RAGSTORE_DATABASE_URL, or give your own "
            "replicas in RAGSTORE_DATABASE_REPLICA_URLS"
        )
    replica_url = standby.beside_embedded(embedded.start(settings.pgdata), standby_dir)
    print(f"ragstore: a streaming standby in {standby_dir} serves the reads", flush=True)
    return settings.model_copy(update={"database_replica_urls": replica_url})


def _run(uvicorn: Any, app: Any, settings: Settings) -> None:
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        log_config=None,  # uvicorn's records go through ragstore's handler and format
        access_log=False,  # ragstore's middleware writes the access lines, with request ids
        # typed int, but uvicorn hands it to asyncio.timeout(), which takes seconds as a float (tests give 0.5)
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )


def _check_address(host: str, port: int) -> None:
    """Fail with one line, before anything starts, when the address cannot be listened on (taken, or not ours)."""
    import socket

    from ragstore.errors import ConfigurationError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn sets it
            probe.bind(infos[0][4])
    except OSError as exc:
        reason = "it is in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
        raise ConfigurationError(f"cannot listen on {host}:{port}: {reason} (--port, --host)") from None


@app.command(epilog="Example: RAGSTORE_DATABASE_URL=postgresql://... ragstore worker")
def worker(data_dir: DataDir = None, verbose: Verbose = False) -> int:
    """Run an ingestion worker against the database."""
    from ragstore.ingest import priority
    from ragstore.worker import WorkerThreads

    settings = context.settings(data_dir, verbose, log_format="json")
    # Before any thread is made, so that all of them (the model's too) yield to the searches of this machine.
    priority.lower_this_thread(settings.ingest_niceness)
    with context.runtime(settings) as runtime:
        one = runtime.worker()
        stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        print(f"ragstore: worker {one.name} waiting for jobs", flush=True)
        # The worker runs in a thread so that a shutdown can give its job a grace period, then queue it again.
        threads = WorkerThreads([one]).start()
        try:
            while threads.threads[0].is_alive() and not stopping.wait(1.0):
                pass
        finally:
            threads.stop(settings.shutdown_grace_seconds)
    return 0 if stopping.is_set() else 1  # 1: the worker thread died of an error (logged)
