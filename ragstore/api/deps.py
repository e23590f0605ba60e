"""What every route needs: the runtime, and the tenant of the request's API key."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request

from ragstore.errors import Unauthorized
from ragstore.models import DEFAULT_TENANT
from ragstore.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_tenant(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """The tenant the request runs as; with RAGSTORE_API_KEY set, only a request bearing that key gets one."""
    expected = get_runtime(request).settings.api_key
    if expected is None:
        return DEFAULT_TENANT
    scheme, _, key = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(key.strip().encode(), expected.encode()):
        raise Unauthorized(
            "You didn't provide a valid API key: send it as 'Authorization: Bearer <key>'."
            if not authorization
            else "Incorrect API key provided."
        )
    return DEFAULT_TENANT


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
TenantDep = Annotated[str, Depends(get_tenant)]
