"""What the `ragstore` commands share: their common options, the settings they build, and what they open and close.

Imports stay light here: `ragstore --help` loads every command module, and must not load the model or the database.
"""

from __future__ import annotations

import logging
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ragstore.errors import ConfigurationError

if TYPE_CHECKING:
    from ragstore.config import Settings
    from ragstore.ingest.chunk import ChunkingStrategy
    from ragstore.runtime import Runtime
    from ragstore.service import Database

# Accepted after every command's name, as in `ragstore serve --data-dir DIR -v`.
DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="where the embedded database lives (RAGSTORE_DATA_DIR)", show_default=False),
]
Verbose = Annotated[bool, typer.Option("-v", "--verbose", help="log what happens")]

Tenant = Annotated[str | None, typer.Option(help="tenant name or id (default: the default tenant)")]
# The help says ingest.chunk.AUTO's numbers (tests/cli/test_help.py holds them equal): importing it here would
# load the tokenizer for every --help.
ChunkSize = Annotated[int | None, typer.Option(help="tokens per chunk (default 250)", show_default=False)]
ChunkOverlap = Annotated[int | None, typer.Option(help="tokens shared by neighbours (default 50)", show_default=False)]


def settings(data_dir: Path | None, verbose: bool, *, log_format: str = "text", **overrides: Any) -> Settings:
    """The settings from the environment and the options given, with logging set up as they say."""
    from pydantic import ValidationError

    from ragstore.config import Settings
    from ragstore.observability import logs

    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    given = {key: value for key, value in {"data_dir": data_dir, **overrides}.items() if value is not None}
    try:
        found = Settings(**given)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ConfigurationError(f"invalid setting: {error['loc'][0]}: {error['msg']}") from None
    logs.configure(found.log_format or log_format, level)
    return found


def database(settings: Settings, *, migrate: bool = True) -> closing[Database]:
    """The database (migrated unless told otherwise), closed when the command is done with it."""
    from ragstore.store.db import open_database

    return closing(open_database(settings, apply_migrations=migrate))


def runtime(settings: Settings) -> closing[Runtime]:
    """The database and the embedding model, closed when the command is done with them."""
    from ragstore.runtime import open_runtime

    return closing(open_runtime(settings))


def tenant_id(db: Database, tenant: str | None) -> str:
    """The id of the tenant named (by name or id), or the default tenant's."""
    from ragstore.models import DEFAULT_TENANT
    from ragstore.service import tenants

    return tenants.get_tenant(db, tenant).id if tenant else DEFAULT_TENANT


def strategy(chunk_size: int | None, chunk_overlap: int | None) -> ChunkingStrategy:
    """The chunking asked for, the auto strategy's numbers where none is given."""
    from ragstore.ingest.chunk import AUTO, ChunkingStrategy

    return ChunkingStrategy(
        chunk_size or AUTO.max_tokens, AUTO.overlap_tokens if chunk_overlap is None else chunk_overlap
    )


def when(moment: datetime | None) -> str:
    """A moment to the minute, or "-"."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


def fail(message: str) -> None:
    """Say what went wrong on stderr, as every command does: `ragstore: <message>`."""
    typer.echo(typer.style("ragstore:", fg="red", bold=True) + f" {message}", err=True)
