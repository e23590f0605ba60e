"""Logs: one JSON object per line (or plain text), each carrying the id of the HTTP request it belongs to.

The request id is a context variable set by the API's request-id middleware for the request's lifetime; Starlette
copies the context into the threads that run synchronous routes, so every line a request causes carries it.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

# The x-request-id of the HTTP request being served in this context; None outside requests (workers, the CLI).
request_id: ContextVar[str | None] = ContextVar("ragstore_request_id", default=None)

access = logging.getLogger("ragstore.access")

# Fields an access line carries beside its message (given as `extra=`), in this order.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms")
# Probes and scrapes come every few seconds: their access lines are DEBUG, so they stay out of the default logs.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: ts, level, logger, message, request_id, the request fields, exc_info."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid:
            entry["request_id"] = rid
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The CLI's plain lines, with the request id at the end of those a request caused."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", None) or request_id.get()
        if not rid:
            return line
        first, newline, rest = line.partition("\n")  # after the message, before a traceback
        return f"{first} [{rid}]{newline}{rest}"


def configure(log_format: str, level: int = logging.WARNING) -> None:
    """Send every logger's records to stderr in this format ("json" or "text"), replacing earlier handlers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)


def log_request(method: str, path: str, status: int, seconds: float) -> None:
    """The access line of one request (never its headers: they carry the API key)."""
    duration_ms = round(seconds * 1000, 1)
    access.log(
        logging.DEBUG if path in QUIET_PATHS else logging.INFO,
        "%s %s %s %.1f ms",
        method,
        path,
        status,
        duration_ms,
        extra={
            "request_id": request_id.get(),
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
        },
    )
