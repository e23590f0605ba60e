"""`ragstore tenants`, `ragstore keys` and `ragstore stats`: administration from the command line."""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from ragstore.cli_common import database
from ragstore.config import Settings
from ragstore.service import tenants


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


def cmd_tenants_create(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as db:
        tenant = tenants.create_tenant(db, args.name)
    print(f"{tenant.id}  {tenant.name}")
    return 0


def cmd_tenants_list(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as db:
        rows = tenants.list_tenants(db)
    print(f"{'id':<29} {'name':<20} {'stores':>6} {'files':>6} {'keys':>5}  created")
    for row in rows:
        print(
            f"{row['id']:<29} {row['name']:<20} {row['vector_stores']:>6} {row['files']:>6} {row['active_keys']:>5}"
            f"  {_when(row['created_at'])}"
        )
    return 0


def cmd_keys_create(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as db:
        record, secret = tenants.create_key(db, args.tenant, args.name)
    print(f"created {record.id} for tenant {record.tenant_id}; the key is shown once, here:")
    print(secret)
    return 0


def cmd_keys_list(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as db:
        keys = tenants.list_keys(db, args.tenant)
    print(f"{'id':<28} {'tenant':<29} {'name':<16} {'prefix':<10} {'last used':<16} revoked")
    for key in keys:
        print(
            f"{key.id:<28} {key.tenant_id:<29} {key.name:<16} {key.prefix + '…':<10} {_when(key.last_used_at):<16}"
            f" {_when(key.revoked_at)}"
        )
    return 0


def cmd_keys_revoke(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as db:
        key = tenants.revoke_key(db, args.key_id)
    print(f"revoked {key.id} ({key.name}) of tenant {key.tenant_id}")
    return 0


def cmd_stats(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as db:
        found = tenants.stats(db)
    if args.json:
        print(json.dumps(found, indent=2, default=str))
        return 0
    print(f"{'tenant':<20} {'partition':<10} {'chunks':>9} {'files':>6} {'stores':>6} {'file bytes':>12}")
    for row in found["tenants"]:
        print(
            f"{row['name']:<20} {row['partition'] or '-':<10} {row['chunks']:>9} {row['files']:>6}"
            f" {row['vector_stores']:>6} {row['file_bytes']:>12}"
        )
    print(f"\n{'partition':<10} {'rows':>9} {'dead':>7} {'table bytes':>12} {'index bytes':>12}  last vacuum")
    for row in found["partitions"]:
        print(
            f"{row['partition']:<10} {row['live_rows']:>9} {row['dead_rows']:>7} {row['table_bytes']:>12}"
            f" {row['index_bytes']:>12}  {_when(row['last_vacuum'])}"
        )
    return 0
