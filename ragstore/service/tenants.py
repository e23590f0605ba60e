"""Tenants (companies) and their API keys: random keys shown once, stored as hashes, revocable."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from typing import Any

from ragstore import ids
from ragstore.errors import InvalidRequest, NotFound
from ragstore.models import ApiKey, Tenant
from ragstore.store import tenants
from ragstore.store.db import Database

KEY_PREFIX = "rs_"


def hash_key(secret: str) -> str:
    """Keys are 256 random bits, so one round of sha256 is as safe as a slow hash and lets lookups be indexed."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_tenant(db: Database, name: str) -> Tenant:
    name = name.strip()
    if not name or len(name) > 64:
        raise InvalidRequest("A tenant name is 1 to 64 characters.", param="name")
    with db.connection() as conn:
        tenant = tenants.insert_tenant(conn, ids.new(ids.TENANT), name)
    if tenant is None:
        raise InvalidRequest(f"A tenant named '{name}' exists already.", param="name")
    return tenant


def find_tenant(db: Database, id_or_name: str) -> Tenant | None:
    """The tenant with this id, else with this name; None if there is none."""
    with db.connection() as conn:
        return tenants.find_tenant(conn, id_or_name)


def get_tenant(db: Database, id_or_name: str) -> Tenant:
    tenant = find_tenant(db, id_or_name)
    if tenant is None:
        raise NotFound(f"No tenant named or with id '{id_or_name}'.", param="tenant")
    return tenant


def list_tenants(db: Database) -> list[dict[str, Any]]:
    with db.connection() as conn:
        return tenants.list_tenants(conn)


def create_key(db: Database, tenant: str, name: str = "") -> tuple[ApiKey, str]:
    """A new key for the tenant: (its record, the key itself, which is not kept and cannot be shown again)."""
    owner = get_tenant(db, tenant)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    with db.connection() as conn:
        record = tenants.insert_api_key(
            conn, ids.new(ids.API_KEY), owner.id, name or "key", secret[: len(KEY_PREFIX) + 6], hash_key(secret)
        )
    return record, secret


def list_keys(db: Database, tenant: str | None = None) -> list[ApiKey]:
    tenant_id = get_tenant(db, tenant).id if tenant else None
    with db.connection() as conn:
        return tenants.list_api_keys(conn, tenant_id)


def revoke_key(db: Database, key_id: str) -> ApiKey:
    with db.connection() as conn:
        record = tenants.revoke_api_key(conn, key_id)
    if record is None:
        raise NotFound(f"No API key with id '{key_id}'.", param="key_id")
    return record


def authenticate(db: Database, secret: str) -> tuple[str, str] | None:
    """(key id, tenant id) for a live key; None for an unknown or revoked one."""
    with db.connection() as conn:
        return tenants.key_owner(conn, hash_key(secret))


def stats(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Per tenant (chunks, files, bytes, stores, partition), per store (its embedding space: provider, model,
    dimension; chunks) and per partition (rows, dead rows, sizes, upkeep)."""
    with db.connection() as conn:
        return {
            "tenants": tenants.tenant_stats(conn),
            "vector_stores": tenants.store_space_stats(conn),
            "partitions": tenants.partition_stats(conn),
        }


class KeyCache:
    """The owners of live keys this process has authenticated, each remembered for ttl seconds (0: none), by the
    key's hash. Revoking a key through this process forgets it at once; another process (`ragstore keys revoke`, a
    replica) goes on accepting it for at most ttl seconds. Unknown and revoked keys are never remembered."""

    def __init__(self, ttl: float, max_keys: int = 10_000) -> None:
        self.ttl = ttl
        self.max_keys = max_keys
        self._owners: dict[str, tuple[float, str, str]] = {}  # key hash -> (expiry, key id, tenant id)
        self._lock = threading.Lock()
        # Bumped by forget: an owner looked up before a revocation is not remembered after it.
        self.generation = 0

    def get(self, secret: str) -> tuple[str, str] | None:
        """(key id, tenant id) of a key remembered and not yet expired, else None."""
        if not self.ttl:
            return None
        entry = self._owners.get(hash_key(secret))
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1], entry[2]

    def put(self, secret: str, owner: tuple[str, str], generation: int) -> None:
        """Remember a key's owner as authenticated in the database, unless a key was forgotten since generation."""
        if not self.ttl:
            return
        with self._lock:
            if generation != self.generation:
                return
            if len(self._owners) >= self.max_keys:
                self._owners.clear()
            self._owners[hash_key(secret)] = (time.monotonic() + self.ttl, *owner)

    def forget(self, key_id: str) -> None:
        with self._lock:
            self.generation += 1
            self._owners = {digest: entry for digest, entry in self._owners.items() if entry[1] != key_id}
