"""`ragstore tenants create|list` and `ragstore keys create|list|revoke`: the companies and their API keys."""

from __future__ import annotations

from typing import Annotated

import typer

from ragstore.cli import context
from ragstore.cli.context import DataDir, Verbose

app = typer.Typer()
tenants_app = typer.Typer(help="Companies sharing this ragstore.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys of tenants.", no_args_is_help=True)
app.add_typer(tenants_app, name="tenants")
app.add_typer(keys_app, name="keys")


@tenants_app.command("create", epilog="Example: ragstore tenants create acme")
def create_tenant(
    name: Annotated[str, typer.Argument(help="the company's name")], data_dir: DataDir = None, verbose: Verbose = False
) -> int:
    """Add a tenant."""
    from ragstore.service import tenants

    with context.database(context.settings(data_dir, verbose)) as db:
        tenant = tenants.create_tenant(db, name)
    print(f"{tenant.id}  {tenant.name}")
    return 0


@tenants_app.command("list")
def list_tenants(data_dir: DataDir = None, verbose: Verbose = False) -> int:
    """List tenants, with their stores, files and active keys."""
    from ragstore.service import tenants

    with context.database(context.settings(data_dir, verbose)) as db:
        rows = tenants.list_tenants(db)
    print(f"{'id':<29} {'name':<20} {'stores':>6} {'files':>6} {'keys':>5}  created")
    for row in rows:
        print(
            f"{row['id']:<29} {row['name']:<20} {row['vector_stores']:>6} {row['files']:>6} {row['active_keys']:>5}"
            f"  {context.when(row['created_at'])}"
        )
    return 0


@keys_app.command("create", epilog="Example: ragstore keys create --tenant acme --name chatbot")
def create_key(
    tenant: Annotated[str, typer.Option(help="tenant name or id")],
    name: Annotated[str, typer.Option(help="what the key is for")] = "",
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """Make a key (printed once, on the last line)."""
    from ragstore.service import tenants

    with context.database(context.settings(data_dir, verbose)) as db:
        record, secret = tenants.create_key(db, tenant, name)
    print(f"created {record.id} for tenant {record.tenant_id}; the key is shown once, here:")
    print(secret)
    return 0


@keys_app.command("list")
def list_keys(
    tenant: Annotated[str | None, typer.Option(help="only this tenant's")] = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """List keys (never the keys themselves)."""
    from ragstore.service import tenants

    with context.database(context.settings(data_dir, verbose)) as db:
        keys = tenants.list_keys(db, tenant)
    print(f"{'id':<28} {'tenant':<29} {'name':<16} {'prefix':<10} {'last used':<16} revoked")
    for key in keys:
        print(
            f"{key.id:<28} {key.tenant_id:<29} {key.name:<16} {key.prefix + '…':<10}"
            f" {context.when(key.last_used_at):<16} {context.when(key.revoked_at)}"
        )
    return 0


@keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="the key's id, as keys list shows it")],
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """Revoke a key by its id."""
    from ragstore.service import tenants

    with context.database(context.settings(data_dir, verbose)) as db:
        key = tenants.revoke_key(db, key_id)
    print(f"revoked {key.id} ({key.name}) of tenant {key.tenant_id}")
    return 0
