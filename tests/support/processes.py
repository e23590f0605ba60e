"""Run the real `ragstore` command in a subprocess, with an environment of the test's own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

# The int8 model every ragstore process of the tests shares: made by the first one (under a lock), kept between runs.
MODEL_CACHE = Path(tempfile.gettempdir()) / "ragstore-test-models"


def ragstore_env(**settings: str | Path) -> dict[str, str]:
    """This environment without the developer's RAGSTORE_ settings, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGSTORE_")}
    env["RAGSTORE_MODEL_CACHE_DIR"] = str(MODEL_CACHE)
    env.update({f"RAGSTORE_{key.upper()}": str(value) for key, value in settings.items()})
    return env


def ragstore(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ragstore", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def spawn(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ragstore", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


class Child:
    """A `ragstore` subprocess whose output lines are read as they come; stopped by SIGTERM, or killed."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.process = spawn(*args, env=env)
        self.pid = self.process.pid
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def terminate(self) -> int:
        """SIGTERM, and the exit code once the process has finished its work and exited."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=180)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
