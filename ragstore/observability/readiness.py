"""Readiness: can this process serve requests now? The database answers, its schema is current, the model embeds."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from ragstore.errors import RagstoreError
from ragstore.ingest.embed import Embedder
from ragstore.service import status
from ragstore.store.db import Database

# How long the model's answer is trusted: a probe every second must not embed every second (a remote model bills).
MODEL_CHECK_SECONDS = 5.0


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str


class Readiness:
    """The checks of /readyz for one process's database and embedder."""

    def __init__(self, db: Database, embedder: Embedder, model_check_seconds: float = MODEL_CHECK_SECONDS) -> None:
        self.db = db
        self.embedder = embedder
        self.model_check_seconds = model_check_seconds
        self._model: tuple[float, CheckResult] | None = None
        self._lock = threading.Lock()

    def checks(self) -> dict[str, CheckResult]:
        """database, migrations and model, each ok or not with a sentence saying why."""
        found = {"database": self._database()}
        found["migrations"] = (
            self._migrations() if found["database"].ok else CheckResult(False, "unknown: the database is unreachable")
        )
        found["model"] = self._model_check()
        found.update(self._replicas())
        return found

    def _replicas(self) -> dict[str, CheckResult]:
        """One entry per read replica, its state and lag. Always ok: while no replica is up, the primary serves the
        reads, so a replica down must not take this process out of its load balancer."""
        if self.db.replicas is None:
            return {}
        found = {}
        for replica in self.db.replicas.statuses():
            detail = f"{replica.state}: {replica.detail}"
            if replica.state != "up":
                detail += "; its reads go to the primary"
            if replica.retry_in_seconds is not None:
                detail += f", next check in {replica.retry_in_seconds:.0f} s"
            found[replica.name] = CheckResult(True, f"{detail} ({replica.url})")
        return found

    def _database(self) -> CheckResult:
        try:
            info = status.server(self.db)
        except RagstoreError as exc:
            return CheckResult(False, exc.message)
        return CheckResult(True, f"PostgreSQL {info.server_version}, pgvector {info.pgvector_version}")

    def _migrations(self) -> CheckResult:
        try:
            applied, pending = status.migrations(self.db)
        except RagstoreError as exc:
            return CheckResult(False, exc.message)
        if pending:
            return CheckResult(False, f"{applied} applied, {pending} pending: run `ragstore migrate`")
        return CheckResult(True, f"{applied} applied")

    def _model_check(self) -> CheckResult:
        with self._lock:  # concurrent probes share one embedding
            now = time.monotonic()
            if self._model is None or now - self._model[0] >= self.model_check_seconds:
                self._model = (now, self._embed())
            return self._model[1]

    def _embed(self) -> CheckResult:
        try:
            vectors = self.embedder.embed(["ready"])
        except Exception as exc:  # whatever the model raises, the answer is "not ready", with why
            return CheckResult(False, f"{self.embedder.model} does not embed: {exc}")
        if vectors.shape != (1, self.embedder.dimension):
            return CheckResult(False, f"{self.embedder.model} returned vectors of shape {vectors.shape}")
        return CheckResult(True, f"{self.embedder.model}, {self.embedder.dimension} dimensions")
