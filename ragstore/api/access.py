"""What wraps every request: its id, the size limit, the last-resort 500, its metrics and its access line.

The size limit holds whether or not the client declares its body's size: a Content-Length over it is refused
before the body is read; a body streamed without one (chunked) is cut off as soon as it passes the limit, so that
no more than the limit is ever spooled to disk or held in memory. A multipart body (an upload) may be as large as
RAGSTORE_MAX_UPLOAD_BYTES and its framing; any other body (JSON) as large as its route's bound in api/limits.py.

A plain ASGI middleware rather than Starlette's BaseHTTPMiddleware (`@app.middleware("http")`), which runs the
app in a task of its own and copies the response body through a memory stream: a cost on every search.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ragstore import telemetry
from ragstore.api import errors, limits
from ragstore.errors import RequestTooLarge
from ragstore.observability import logs

log = logging.getLogger(__name__)

# Multipart framing around an upload's bytes.
ENVELOPE_BYTES = 1 << 20


class AccessMiddleware:
    def __init__(self, app: ASGIApp, max_upload_bytes: int) -> None:
        self.app = app
        self.max_request_bytes = max_upload_bytes + ENVELOPE_BYTES
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        request_id = headers.get("x-request-id") or f"req_{uuid.uuid4().hex}"
        started, token = time.perf_counter(), logs.request_id.set(request_id)
        status: dict[str, Any] = {"code": 500, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.update(code=message["status"], started=True)
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        bound = self._bound(scope, headers)
        try:
            length = headers.get("content-length", "")
            if length.isdigit() and int(length) > bound.limit:
                await self._too_large(scope, receive, send_with_id, bound)
            else:
                await self.app(scope, self._limited(receive, bound), send_with_id)
        except RequestTooLarge:  # passed the limit while a route read the body outside FastAPI's own parsing
            if not status["started"]:
                await self._too_large(scope, receive, send_with_id, bound)
        except Exception:  # rendered here so that even a 500 carries its request id
            log.exception("%s %s failed", scope["method"], scope["path"])
            if not status["started"]:
                response = errors.envelope(
                    500, "The server had an error while processing your request.", "server_error", None, "server_error"
                )
                await response(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = telemetry.route_template(scope)
            telemetry.observe_request(route, scope["method"], status["code"], elapsed)
            logs.log_request(scope["method"], scope["path"], status["code"], elapsed)
            logs.request_id.reset(token)

    def _bound(self, scope: Scope, headers: dict[str, str]) -> _Bound:
        """The most bytes this request's body may have, and the limit to name when it has more."""
        if headers.get("content-type", "").lower().startswith("multipart/"):
            return _Bound(self.max_request_bytes, self.max_upload_bytes, "an upload")
        size = limits.body_bytes(scope["method"], scope["path"])
        return _Bound(size, size, "a JSON body on this route")

    def _limited(self, receive: Receive, bound: _Bound) -> Receive:
        """receive, raising RequestTooLarge once the body read so far passes the limit."""
        read = 0

        async def limited() -> Message:
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > bound.limit:
                    raise bound.error()
            return message

        return limited

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, bound: _Bound) -> None:
        error = bound.error()
        response = errors.envelope(error.status, error.message, error.type, error.param, error.code)
        response.headers.update(error.headers)
        await response(scope, receive, send)


@dataclass(frozen=True)
class _Bound:
    limit: int  # bytes read before the request is refused
    named: int  # the limit the error names (an upload's, without its multipart framing)
    what: str

    def error(self) -> RequestTooLarge:
        return RequestTooLarge(f"The request is larger than the limit of {self.named} bytes for {self.what}.")


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
