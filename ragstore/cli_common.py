"""What the `ragstore` subcommands share: the database for a command's lifetime, and the tenant it acts for."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ragstore.config import Settings
from ragstore.models import DEFAULT_TENANT
from ragstore.store.db import Database, open_database


@contextmanager
def database(settings: Settings) -> Iterator[Database]:
    """The migrated database, closed when the command is done."""
    db = open_database(settings)
    try:
        yield db
    finally:
        db.close()


def tenant_id(db: Database, tenant: str | None) -> str:
    """The id of the tenant named (by name or id), or the default tenant's."""
    from ragstore.service import tenants

    return tenants.get_tenant(db, tenant).id if tenant else DEFAULT_TENANT
