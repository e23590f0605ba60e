"""/v1/admin: tenants, their API keys and usage statistics, guarded by RAGSTORE_ADMIN_KEY."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from ragstore.api import limits
from ragstore.api.base import ListEnvelope, RequestModel
from ragstore.api.deps import RuntimeDep, require_admin
from ragstore.api.objects import unix
from ragstore.models import ApiKey, Tenant
from ragstore.service import tenants

router = APIRouter(prefix="/v1/admin", tags=["Administration"], dependencies=[Depends(require_admin)])


class CreateTenantRequest(RequestModel):
    name: str = Field(min_length=1, max_length=limits.ADMIN_NAME_CHARS)


class CreateApiKeyRequest(RequestModel):
    name: str = Field("", max_length=limits.ADMIN_NAME_CHARS)


class TenantObject(BaseModel):
    object: Literal["tenant"]
    id: str
    name: str
    created_at: int


class TenantWithCounts(TenantObject):
    vector_stores: int
    files: int
    active_keys: int


class TenantList(ListEnvelope):
    data: list[TenantWithCounts]


class ApiKeyObject(BaseModel):
    object: Literal["api_key"]
    id: str
    tenant_id: str
    name: str
    prefix: str
    created_at: int
    last_used_at: int | None
    revoked_at: int | None


class CreatedApiKey(ApiKeyObject):
    key: str = Field(description="the key itself, in this response only")


class ApiKeyList(ListEnvelope):
    data: list[ApiKeyObject]


class TenantUsage(BaseModel):
    tenant_id: str
    name: str
    chunks: int
    files: int
    file_bytes: int
    vector_stores: int
    partition: str | None


class PartitionUsage(BaseModel):
    partition: str
    live_rows: int
    dead_rows: int
    table_bytes: int
    index_bytes: int
    last_vacuum: int | None
    last_analyze: int | None


class AdminStats(BaseModel):
    object: Literal["admin.stats"]
    tenants: list[TenantUsage]
    partitions: list[PartitionUsage]


def documented(model: type[BaseModel]) -> dict[str, Any]:
    """The route options that publish model as the 200 response's schema (the routes return plain dicts)."""
    return {"response_model": None, "responses": {200: {"model": model}}}


def tenant_object(tenant: Tenant) -> dict[str, Any]:
    return {"object": "tenant", "id": tenant.id, "name": tenant.name, "created_at": unix(tenant.created_at)}


def key_object(key: ApiKey) -> dict[str, Any]:
    return {
        "object": "api_key",
        "id": key.id,
        "tenant_id": key.tenant_id,
        "name": key.name,
        "prefix": key.prefix,
        "created_at": unix(key.created_at),
        "last_used_at": unix(key.last_used_at),
        "revoked_at": unix(key.revoked_at),
    }


def listing(data: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else "",
        "last_id": data[-1]["id"] if data else "",
        "has_more": False,
    }


@router.post("/tenants", **documented(TenantObject))
def create_tenant(body: CreateTenantRequest, runtime: RuntimeDep) -> dict[str, Any]:
    """A new tenant (company)."""
    return tenant_object(tenants.create_tenant(runtime.db, body.name))


@router.get("/tenants", **documented(TenantList))
def list_tenants(runtime: RuntimeDep) -> dict[str, Any]:
    """Every tenant, with its counts of stores, files and live keys."""
    rows = tenants.list_tenants(runtime.db)
    return listing([{"object": "tenant", **row, "created_at": unix(row["created_at"])} for row in rows])


@router.post("/tenants/{tenant}/api_keys", **documented(CreatedApiKey))
def create_api_key(tenant: str, body: CreateApiKeyRequest, runtime: RuntimeDep) -> dict[str, Any]:
    """A new API key for the tenant; `key` is in this response only and cannot be shown again."""
    record, secret = tenants.create_key(runtime.db, tenant, body.name)
    return {**key_object(record), "key": secret}


@router.get("/api_keys", **documented(ApiKeyList))
def list_api_keys(runtime: RuntimeDep, tenant: str | None = None) -> dict[str, Any]:
    """API keys (never the keys themselves), optionally of one tenant."""
    return listing([key_object(key) for key in tenants.list_keys(runtime.db, tenant)])


@router.delete("/api_keys/{key_id}", **documented(ApiKeyObject))
def revoke_api_key(key_id: str, request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    """Revoke a key: requests bearing it get 401 from now on (from other ragstore processes on the same database,
    within RAGSTORE_API_KEY_CACHE_SECONDS)."""
    revoked = tenants.revoke_key(runtime.db, key_id)
    request.app.state.key_cache.forget(key_id)
    return key_object(revoked)


@router.get("/stats", **documented(AdminStats))
def stats(runtime: RuntimeDep) -> dict[str, Any]:
    """Per tenant: chunks, files, bytes, stores and partition; per partition: rows, dead rows, sizes, upkeep."""
    found = tenants.stats(runtime.db)
    for partition in found["partitions"]:
        for moment in ("last_vacuum", "last_analyze"):
            partition[moment] = unix(partition[moment])
    return {"object": "admin.stats", **found}
