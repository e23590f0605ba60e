"""Log lines: one JSON object per record, with the request id of the context that logged it."""

from __future__ import annotations

import json
import logging
import sys

from ragstore.observability import logs


def record(message: str, *args, exc_info=None, **extra) -> logging.LogRecord:
    made = logging.LogRecord("ragstore.test", logging.WARNING, __file__, 1, message, args, exc_info)
    made.__dict__.update(extra)
    return made


def test_a_json_line_has_the_fields_and_the_request_id_of_its_context():
    token = logs.request_id.set("req_abc")
    try:
        line = logs.JsonFormatter().format(record("file %s failed", "a.txt"))
    finally:
        logs.request_id.reset(token)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry.pop("ts").endswith("Z")
    assert entry == {
        "level": "WARNING",
        "logger": "ragstore.test",
        "message": "file a.txt failed",
        "request_id": "req_abc",
    }


def test_an_access_line_carries_the_request_fields_and_an_error_its_traceback():
    access = json.loads(
        logs.JsonFormatter().format(
            record("GET /x 404", request_id="req_1", method="GET", path="/x", status=404, duration_ms=1.5)
        )
    )
    assert {key: access[key] for key in ("request_id", "method", "path", "status", "duration_ms")} == {
        "request_id": "req_1",
        "method": "GET",
        "path": "/x",
        "status": 404,
        "duration_ms": 1.5,
    }
    try:
        raise ValueError("broken\nacross lines")
    except ValueError:
        failed = record("it failed", exc_info=sys.exc_info())
    line = logs.JsonFormatter().format(failed)
    assert "\n" not in line
    entry = json.loads(line)
    assert "request_id" not in entry  # none outside requests
    assert entry["exc_info"].startswith("Traceback") and entry["exc_info"].endswith("ValueError: broken\nacross lines")


def test_a_text_line_ends_with_its_request_id():
    formatter = logs.TextFormatter()
    assert formatter.format(record("plain")).endswith("WARNING ragstore.test: plain")
    assert formatter.format(record("in a request", request_id="req_9")).endswith(": in a request [req_9]")
