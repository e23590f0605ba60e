"""What every route needs: the runtime, and the tenant of the request's API key.

The dependencies are coroutines: FastAPI runs a plain function dependency in its thread pool, a hop per dependency
per request; only a key's lookup in the database goes there, when the key is not remembered (tenants.KeyCache).
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from ragstore.errors import PermissionDenied, Unauthorized
from ragstore.models import DEFAULT_TENANT
from ragstore.runtime import Runtime
from ragstore.service import tenants

ANONYMOUS = "anonymous"


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def bearer(authorization: str | None) -> str | None:
    scheme, _, secret = (authorization or "").partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None


def same(secret: str | None, expected: str | None) -> bool:
    return secret is not None and expected is not None and hmac.compare_digest(secret.encode(), expected.encode())


async def get_tenant(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """The tenant of the request's API key; then the key's rate limit is spent.

    Keys are required once the deployment has any (RAGSTORE_API_KEY or RAGSTORE_ADMIN_KEY set); until then a
    request without a known key runs as the default tenant.
    """
    return await tenant_of(request, bearer(authorization))


async def get_rest_tenant(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    apikey: Annotated[str | None, Header()] = None,
) -> str:
    """The tenant of a Supabase-style request (/rest/v1): the key as supabase-py sends it, `Authorization: Bearer`
    and `apikey`; either alone will do, and Bearer wins when both are sent."""
    return await tenant_of(request, bearer(authorization) or (apikey or "").strip() or None)


async def tenant_of(request: Request, secret: str | None) -> str:
    """The tenant of an API key (None: none sent), as get_tenant says; then the key's rate limit is spent."""
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    if same(secret, settings.api_key):
        key_id, tenant_id = "settings", DEFAULT_TENANT
    else:
        owner = await _owner(request, runtime, secret) if secret else None
        if owner is None and (settings.api_key or settings.admin_key):
            raise Unauthorized(
                "Incorrect API key provided."
                if secret
                else "You didn't provide an API key: send it as 'Authorization: Bearer <key>'."
            )
        key_id, tenant_id = owner or (ANONYMOUS, DEFAULT_TENANT)
    limiter = request.app.state.rate_limiter
    if limiter.shared:  # a round trip to Redis: off the event loop
        await run_in_threadpool(limiter.check, key_id)
    else:
        limiter.check(key_id)
    return tenant_id


async def _owner(request: Request, runtime: Runtime, secret: str) -> tuple[str, str] | None:
    """(key id, tenant id) of a live key: remembered for a few seconds (RAGSTORE_API_KEY_CACHE_SECONDS), else
    looked up in the database, off the event loop."""
    keys: tenants.KeyCache = request.app.state.key_cache
    owner = keys.get(secret)
    if owner is None:
        generation = keys.generation
        owner = await run_in_threadpool(tenants.authenticate, runtime.db, secret)
        if owner is not None:
            keys.put(secret, owner, generation)
    return owner


async def require_admin(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    expected = request.app.state.runtime.settings.admin_key
    if expected is None:
        raise PermissionDenied("The admin API is off: set RAGSTORE_ADMIN_KEY to use it.")
    if not same(bearer(authorization), expected):
        raise Unauthorized("Incorrect admin key provided.")


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
TenantDep = Annotated[str, Depends(get_tenant)]
RestTenantDep = Annotated[str, Depends(get_rest_tenant)]
