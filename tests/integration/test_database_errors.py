"""Each database failure becomes the error that tells the client the truth: a request PostgreSQL cannot hold is a 4xx
(the same request would fail again, so no Retry-After), only a lost database is a 503 worth retrying.

The errors are PostgreSQL's own, provoked on the real server; the ones no test can provoke safely (no connection slot
left, out of memory) are classified from their SQLSTATE, which is all translate() looks at."""

from __future__ import annotations

import random
import string

import psycopg
import pytest

from ragstore import errors
from ragstore.store.db import translate


def failure(db, query: str, params: tuple = ()) -> errors.RagstoreError:
    """The ragstore error that running query raises through Database.connection."""
    with pytest.raises(errors.RagstoreError) as raised, db.connection() as conn:
        conn.execute(query, params)
    return raised.value


def test_a_text_too_long_for_tsvector_is_a_400(db):
    words = " ".join(f"w{i}" for i in range(200_000))  # was a 503 with Retry-After, which the SDK retried
    error = failure(db, "SELECT to_tsvector('simple', %s)", (words,))
    assert (type(error), error.status, error.headers) == (errors.DatabaseLimitExceeded, 400, {})
    assert "too long for tsvector" in error.message


def test_an_index_row_too_large_is_a_400(db):
    text = "".join(random.Random(21).choices(string.ascii_letters, k=20_000))  # incompressible
    with db.connection() as conn:
        conn.execute("CREATE TABLE wide (t text)")
        conn.execute("CREATE INDEX ON wide (t)")
    error = failure(db, "INSERT INTO wide VALUES (%s)", (text,))
    assert (type(error), error.status) == (errors.DatabaseLimitExceeded, 400)
    assert "index row" in error.message


def test_a_data_exception_is_a_400(db):
    error = failure(db, "SELECT 1 / 0")
    assert (type(error), error.status) == (errors.InvalidRequest, 400)


def test_a_terminated_connection_is_a_503_and_the_next_request_works(db):
    error = failure(db, "SELECT pg_terminate_backend(pg_backend_pid())")
    assert (type(error), error.status, error.headers) == (errors.DatabaseUnavailable, 503, {"Retry-After": "2"})
    with db.connection() as conn:
        assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}


def test_a_bug_stays_a_bug(db):
    with pytest.raises(psycopg.errors.UndefinedTable), db.connection() as conn:
        conn.execute("SELECT * FROM no_such_table")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (psycopg.errors.TooManyConnections, errors.DatabaseUnavailable),
        (psycopg.errors.AdminShutdown, errors.DatabaseUnavailable),
        (psycopg.errors.CannotConnectNow, errors.DatabaseUnavailable),
        (psycopg.errors.IdleSessionTimeout, errors.DatabaseUnavailable),
        (psycopg.errors.ConnectionFailure, errors.DatabaseUnavailable),
        (psycopg.errors.OutOfMemory, errors.DatabaseUnavailable),
        (psycopg.errors.QueryCanceled, errors.DatabaseUnavailable),
        (psycopg.OperationalError, errors.DatabaseUnavailable),  # no SQLSTATE: raised by the client side
        (psycopg.errors.ProgramLimitExceeded, errors.DatabaseLimitExceeded),
        (psycopg.errors.StatementTooComplex, errors.DatabaseLimitExceeded),
        (psycopg.errors.TooManyColumns, errors.DatabaseLimitExceeded),
        (psycopg.errors.StringDataRightTruncation, errors.InvalidRequest),
        (psycopg.errors.UntranslatableCharacter, errors.InvalidRequest),
        (psycopg.DataError, errors.InvalidRequest),  # no SQLSTATE: psycopg refusing to send a NUL
        (psycopg.errors.DiskFull, errors.InsufficientStorage),
        (psycopg.errors.UniqueViolation, errors.Conflict),
        (psycopg.errors.DeadlockDetected, errors.Conflict),
        (psycopg.errors.LockNotAvailable, errors.Conflict),
        (psycopg.errors.ObjectInUse, type(None)),
        (psycopg.errors.InternalError_, type(None)),
        (psycopg.errors.SyntaxError, type(None)),
    ],
)
def test_each_sqlstate_class_has_its_status(error, expected):
    assert type(translate(error("message"))) is expected
