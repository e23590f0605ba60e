"""A real `ragstore serve` or `ragstore worker` in a subprocess, and polling for what the tests wait on."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx

from tests.support.processes import Child, ragstore_env


class Served(Child):
    """A `ragstore serve` on a free port, its log lines read as they come."""

    def __init__(
        self,
        database_url: str,
        data_dir: Path,
        grace: float,
        env: dict[str, str] | None = None,
        **settings: str | Path | int,
    ) -> None:
        """settings: more RAGSTORE_ settings (api_key=...); env: other variables of the process (TMPDIR)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = ragstore_env(
            database_url=database_url, data_dir=data_dir, port=self.port, shutdown_grace_seconds=grace, **settings
        )
        super().__init__("serve", env={**environment, **(env or {})})
        wait_for(self._ready, "the server to be ready")

    def _ready(self) -> bool:
        assert self.process.poll() is None, "the server exited:\n" + self.output()
        try:
            return httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    def entries(self) -> list[dict]:
        """The JSON log lines so far (the one line before them is the address served)."""
        return [json.loads(line) for line in list(self.lines) if line.startswith("{")]

    def logged(self, message: str) -> bool:
        return any(message in entry["message"] for entry in self.entries())

    def accepts_connections(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)
