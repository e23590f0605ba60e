"""The server's ingestion (its worker and the model session it embeds with) runs below its searches, whose query
embeddings have a session of their own."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from openai import OpenAI

from ragstore.ingest import priority
from ragstore.ingest.embed import local_model_path
from ragstore.ingest.onnx import OnnxEmbedder
from tests.support.processes import MODEL_CACHE
from tests.support.served import Served

pytestmark = pytest.mark.skipif(not priority.PER_THREAD, reason="nice values are per thread on Linux only")


def nice_values(pid: int) -> dict[int, int]:
    """Each thread of the process, by id: its nice value."""
    return {int(tid): os.getpriority(os.PRIO_PROCESS, int(tid)) for tid in os.listdir(f"/proc/{pid}/task")}


def test_the_ingestion_models_own_threads_start_lowered():
    before = set(nice_values(os.getpid()))
    model = priority.made_at_lower_priority(
        lambda: OnnxEmbedder("all-MiniLM-L6-v2", 8, local_model_path(), MODEL_CACHE, threads=2), 6
    )
    made = {tid: nice for tid, nice in nice_values(os.getpid()).items() if tid not in before}
    assert made, "ONNX Runtime made no pool thread for two intra-op threads"
    assert set(made.values()) == {min(19, os.getpriority(os.PRIO_PROCESS, 0) + 6)}
    alone = OnnxEmbedder("all-MiniLM-L6-v2", 8, local_model_path(), MODEL_CACHE, threads=1)
    texts = ["a lowered session embeds as any other", "the same model in two sessions"]
    assert np.allclose(model.embed(texts), alone.embed(texts), atol=1e-5)


def test_a_served_worker_runs_below_the_request_threads(database_url: str, tmp_path: Path):
    server = Served(database_url, tmp_path / "data", grace=5, ingest_niceness=7)
    try:
        sdk = OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
        store = sdk.vector_stores.create(name="nice")
        sdk.vector_stores.files.upload_and_poll(vector_store_id=store.id, file=("a.txt", b"Ingestion yields."))
        assert sdk.vector_stores.search(store.id, query="who yields?").data
        values = nice_values(server.pid)
        assert values[server.pid] == 0, "the main thread (the event loop) was lowered"
        lowered = [tid for tid, nice in values.items() if nice == 7]
        # The worker's thread and the ingestion model's pool (one thread fewer than the cores).
        assert len(lowered) >= min(2, os.cpu_count() or 1), values
        assert set(values.values()) == {0, 7}, values
    finally:
        server.terminate()
