"""A real `ragstore worker` in a subprocess: its output read as it comes, its name, its peak memory."""

from __future__ import annotations

from pathlib import Path

from ragstore.ingest.embed import local_model_path
from ragstore.ingest.onnx import model_file
from tests.support.processes import MODEL_CACHE, Child, ragstore_env
from tests.support.served import wait_for

_STARTED = "ragstore: worker "


class WorkerProcess(Child):
    """`ragstore worker` against a database, started and ready for jobs."""

    def __init__(self, database_url: str, data_dir: Path, **settings: str | Path | int) -> None:
        # The int8 model is made once per machine; made here, its making never counts in a worker's peak memory.
        model_file(local_model_path(), MODEL_CACHE)
        super().__init__("worker", env=ragstore_env(database_url=database_url, data_dir=data_dir, **settings))
        wait_for(self._started, "the worker to start")
        # "ragstore: worker NAME waiting for jobs": the name it records in jobs.worker
        self.name = next(line for line in self.lines if line.startswith(_STARTED))[len(_STARTED) :].split()[0]

    def _started(self) -> bool:
        assert self.process.poll() is None, "the worker exited:\n" + self.output()
        return any(line.startswith(_STARTED) for line in list(self.lines))

    def peak_memory(self) -> int:
        """The most resident memory the process has used so far, in bytes (VmHWM)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        kilobytes = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(kilobytes) * 1024
