"""Read replicas: one pool per streaming standby, their health, and which server a read goes to.

A monitor thread checks every replica each CHECK_SECONDS (a down one after a back-off that doubles up to
BACKOFF_MAX_SECONDS): up when it is in recovery and its replay lags the primary by at most max_lag_seconds; lagging
past that; promoted when it is no longer in recovery (a failover, or a primary given by mistake); down when it does
not answer. Only an up replica serves reads. A read that loses its replica midway (the standby stopped, a query
cancelled by a recovery conflict) raises ReplicaLost, and `fall_back` runs the read again, on another replica or on
the primary.

Read-your-writes, within this process: after a tenant transaction on the primary that wrote, the primary's WAL
position is recorded for the tenant (`note_write`); a read of that tenant goes to a replica only once the replica has
replayed past it, waiting at most READ_YOUR_WRITES_SECONDS, else it reads the primary.

Lag is measured against the primary's own clock: each check samples the primary's WAL position, and a replica's lag
is how long ago the primary was first seen past the position the replica has replayed to (0 once it has replayed
everything the primary had). So no clocks of two machines are compared, and an idle primary never looks lagged.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from ragstore import telemetry
from ragstore.config import redact_url
from ragstore.errors import DatabaseUnavailable
from ragstore.store.queries import QUERIES
from ragstore.store.rows import Connection, one

log = logging.getLogger(__name__)

CHECK_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0
CONNECT_SECONDS = 2
# How long a read waits for a replica to replay a write of its tenant before it reads the primary instead.
READ_YOUR_WRITES_SECONDS = 0.2
CATCH_UP_POLL_SECONDS = 0.005
# How long a read waits for a free connection of a replica's pool before it reads the primary instead.
CHECKOUT_SECONDS = 1.0
STATES = ("up", "lagging", "promoted", "down")

P = ParamSpec("P")
R = TypeVar("R")

# Set while `fall_back` runs its last attempt: every read of it goes to the primary.
_primary_only: ContextVar[bool] = ContextVar("ragstore_primary_only", default=False)


class ReplicaLost(DatabaseUnavailable):
    """A read's replica failed while the read ran on it; `fall_back` runs the read again elsewhere (a read that is
    not decorated answers 503, retry)."""


def lsn(text: str | None) -> int:
    """A pg_lsn ('16/B374D848') as a number; 0 for none."""
    if not text:
        return 0
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


@dataclass(frozen=True)
class ReplicaStatus:
    """What /readyz and /metrics say of one replica."""

    name: str
    url: str
    state: str
    lag_seconds: float | None
    lag_bytes: int | None
    retry_in_seconds: float | None
    detail: str


@dataclass
class Replica:
    name: str
    url: str
    pool: ConnectionPool[Connection]
    state: str = "down"
    detail: str = "not checked yet"
    replayed: int = 0
    lag_seconds: float | None = None
    lag_bytes: int | None = None
    failures: int = 0
    next_check: float = 0.0
    monitor: Connection | None = field(default=None, repr=False)


class ReplicaSet:
    """The replicas of one primary; `primary_lsn` reads the primary's current WAL position."""

    def __init__(
        self,
        urls: list[str],
        pool_size: int,
        max_lag_seconds: float,
        primary_lsn: Callable[[], str],
        configure: Callable[[Connection], None],
        connect_kwargs: dict[str, object],
    ) -> None:
        self.max_lag_seconds = max_lag_seconds
        self.primary_lsn = primary_lsn
        self.replicas = [
            Replica(f"replica{i}", url, _pool(url, f"ragstore-replica{i}", pool_size, configure, connect_kwargs))
            for i, url in enumerate(urls, 1)
        ]
        self._lock = threading.Lock()
        self._written: dict[str, int] = {}
        self._samples: deque[tuple[float, int]] = deque()
        self._turn = itertools.count()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ragstore-replicas", daemon=True)

    def open(self) -> None:
        for replica in self.replicas:
            replica.pool.open(wait=False)
        self.check()
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        for replica in self.replicas:
            _close(replica.monitor)
            replica.pool.close()

    # -- which server a read goes to --

    @contextlib.contextmanager
    def session(self, tenant_id: str) -> Iterator[tuple[Replica, Connection] | None]:
        """A connection of an up replica that has replayed the tenant's last write, or None: read the primary."""
        chosen = self._choose(tenant_id)
        if chosen is None:
            yield None
            return
        replica, conn = chosen
        try:
            yield replica, conn
        finally:
            replica.pool.putconn(conn)

    def _choose(self, tenant_id: str) -> tuple[Replica, Connection] | None:
        candidates = self._up() if not _primary_only.get() else []
        if not candidates:
            telemetry.DATABASE_READS.labels("primary", "no_replica").inc()
            return None
        replica = candidates[next(self._turn) % len(candidates)]
        try:
            conn = replica.pool.getconn(timeout=CHECKOUT_SECONDS)
        except PoolTimeout:
            telemetry.DATABASE_READS.labels("primary", "busy").inc()
            return None
        try:
            caught_up = self._caught_up(replica, conn, tenant_id)
        except psycopg.Error as exc:  # the standby went away since its last check
            replica.pool.putconn(conn)
            self.lost(replica, exc, broken=True)
            telemetry.DATABASE_READS.labels("primary", "no_replica").inc()
            return None
        if not caught_up:
            replica.pool.putconn(conn)
            telemetry.DATABASE_READS.labels("primary", "behind").inc()
            return None
        telemetry.DATABASE_READS.labels(replica.name, "replica").inc()
        return replica, conn

    def lost(self, replica: Replica, exc: BaseException, broken: bool) -> None:
        """A read failed on the replica: a broken connection (the standby stopped) takes the replica out of rotation
        until a check finds it back; a cancelled query (a conflict with recovery) only sends that read elsewhere."""
        telemetry.REPLICA_FAILED_READS.labels(replica.name, "broken" if broken else "conflict").inc()
        if broken:
            with self._lock:
                self._down(replica, f"a read failed: {_first_line(exc)}", time.monotonic())
            replica.pool.drain()

    def note_write(self, tenant_id: str, position: str) -> None:
        """The tenant's write committed on the primary at this WAL position: its reads must see it."""
        at = lsn(position)
        with self._lock:
            if at > self._written.get(tenant_id, 0):
                self._written[tenant_id] = at

    def _up(self) -> list[Replica]:
        with self._lock:
            return [replica for replica in self.replicas if replica.state == "up"]

    def _caught_up(self, replica: Replica, conn: Connection, tenant_id: str) -> bool:
        with self._lock:
            needed = self._written.get(tenant_id, 0)
        if replica.replayed >= needed:
            return True
        deadline = time.monotonic() + READ_YOUR_WRITES_SECONDS
        while True:
            replayed = lsn(one(conn.execute(QUERIES["replica_replayed"]))["replayed"])
            replica.replayed = max(replica.replayed, replayed)
            if replayed >= needed:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(CATCH_UP_POLL_SECONDS)

    # -- health --

    def statuses(self) -> list[ReplicaStatus]:
        now = time.monotonic()
        with self._lock:
            return [
                ReplicaStatus(
                    r.name,
                    redact_url(r.url),
                    r.state,
                    r.lag_seconds,
                    r.lag_bytes,
                    max(0.0, r.next_check - now) if r.state == "down" else None,
                    r.detail,
                )
                for r in self.replicas
            ]

    def check(self) -> None:
        """Check the replicas that are due: the primary's position first, then each replica's replay."""
        now = time.monotonic()
        due = [replica for replica in self.replicas if replica.next_check <= now]
        if not due:
            return
        try:
            primary = lsn(self.primary_lsn())
        except Exception as exc:  # the primary is down: nothing to measure against, the reads fail anyway
            log.warning("replicas: the primary's WAL position could not be read: %s", _first_line(exc))
            return
        self._sample(now, primary)
        for replica in due:
            self._check(replica, primary, now)
        self._forget_replayed()

    def _run(self) -> None:
        while not self._stop.wait(CHECK_SECONDS):
            try:
                self.check()
            except Exception:  # the monitor must outlive whatever one check hit
                log.exception("replicas: a check failed")

    def _check(self, replica: Replica, primary: int, now: float) -> None:
        try:
            if replica.monitor is None or replica.monitor.closed:
                replica.monitor = psycopg.connect(
                    replica.url, autocommit=True, row_factory=dict_row, connect_timeout=CONNECT_SECONDS
                )
            row = one(replica.monitor.execute(QUERIES["replica_health"]))
        except psycopg.Error as exc:
            _close(replica.monitor)
            replica.monitor = None
            with self._lock:
                was = replica.state
                self._down(replica, _first_line(exc), now)
            if was != "down":
                log.warning("replicas: %s is down: %s", replica.name, replica.detail)
            return
        with self._lock:
            self._judge(replica, row, primary, now)

    def _judge(self, replica: Replica, row: dict[str, object], primary: int, now: float) -> None:
        was = replica.state
        replica.failures, replica.next_check = 0, now + CHECK_SECONDS
        if not row["in_recovery"]:
            replica.state, replica.detail = "promoted", "not in recovery: promoted, or not a standby"
            replica.lag_seconds = replica.lag_bytes = None
        else:
            replayed = lsn(str(row["replayed"] or ""))
            replica.replayed = max(replica.replayed, replayed)
            replica.lag_bytes = max(0, primary - replica.replayed)
            replica.lag_seconds = self._lag(replica.replayed, primary, now)
            lagging = replica.lag_seconds > self.max_lag_seconds
            replica.state = "lagging" if lagging else "up"
            replica.detail = f"replay {replica.lag_seconds:.1f} s behind the primary" + (
                f", more than the {self.max_lag_seconds:g} s allowed" if lagging else ""
            )
        if replica.state != was:
            level = logging.INFO if replica.state == "up" else logging.WARNING
            log.log(level, "replicas: %s is %s (%s)", replica.name, replica.state, replica.detail)

    def _down(self, replica: Replica, detail: str, now: float) -> None:
        replica.state, replica.detail = "down", detail
        replica.failures += 1
        replica.next_check = now + min(BACKOFF_MAX_SECONDS, CHECK_SECONDS * 2 ** (replica.failures - 1))
        replica.lag_seconds = replica.lag_bytes = None

    def _sample(self, now: float, primary: int) -> None:
        with self._lock:
            if not self._samples or self._samples[-1][1] != primary:
                self._samples.append((now, primary))
            keep = max(60.0, 4 * self.max_lag_seconds)
            while len(self._samples) > 1 and self._samples[1][0] < now - keep:
                self._samples.popleft()

    def _lag(self, replayed: int, primary: int, now: float) -> float:
        """How long ago the primary was first seen past what the replica has replayed (0: nothing to replay)."""
        if replayed >= primary:
            return 0.0
        first_past = next((at for at, position in self._samples if position > replayed), now)
        return now - first_past

    def _forget_replayed(self) -> None:
        """Drop the recorded writes every up replica has replayed: reads of those tenants need no wait."""
        with self._lock:
            up = [replica.replayed for replica in self.replicas if replica.state == "up"]
            if not up:
                return
            floor = min(up)
            self._written = {tenant: at for tenant, at in self._written.items() if at > floor}


def fall_back(func: Callable[P, R]) -> Callable[P, R]:
    """Run a read again when its replica failed midway: on another replica, the last time on the primary."""

    @functools.wraps(func)
    def reading(*args: P.args, **kwargs: P.kwargs) -> R:
        for _ in range(2):
            try:
                return func(*args, **kwargs)
            except ReplicaLost:
                continue
        token = _primary_only.set(True)
        try:
            return func(*args, **kwargs)
        finally:
            _primary_only.reset(token)

    return reading


def _pool(
    url: str,
    name: str,
    size: int,
    configure: Callable[[Connection], None],
    connect_kwargs: dict[str, object],
) -> ConnectionPool[Connection]:
    return ConnectionPool(
        url,
        min_size=1,
        max_size=size,
        kwargs={**connect_kwargs, "connect_timeout": CONNECT_SECONDS},
        configure=configure,
        open=False,
        name=name,
        reconnect_timeout=BACKOFF_MAX_SECONDS,
    )


def _close(conn: Connection | None) -> None:
    if conn is not None:
        with contextlib.suppress(Exception):
            conn.close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
