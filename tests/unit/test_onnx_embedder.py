"""The int8 ONNX version of the bundled model: made once from the installed weights, close to the fp32 model."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

from ragstore.ingest.embed import local_model_path
from ragstore.ingest.onnx import Lanes, OnnxEmbedder, model_file
from tests.support.processes import MODEL_CACHE

TEXTS = [
    "The office coffee machine is descaled every Friday afternoon by the facilities team.",
    "how do I reset my password",
    "Expense reports must be submitted within 30 days, with the original receipts attached. " * 6,
    "Lisbon",
    "Employees may leave their cars in garage level B2; visitors use level B1.",
]


@pytest.fixture(scope="module")
def onnx_embedder() -> OnnxEmbedder:
    return OnnxEmbedder("all-MiniLM-L6-v2", 2, local_model_path(), MODEL_CACHE)


def test_close_to_the_fp32_model_row_by_row(onnx_embedder, embedder):
    # batch_size 2 and texts of mixed lengths: the length-sorted batches must come back in the callers' order.
    fast, exact = onnx_embedder.embed(TEXTS), embedder.embed(TEXTS)
    assert fast.shape == (len(TEXTS), 384) and fast.dtype == np.float32
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-4)
    cosines = (fast * exact).sum(axis=1)
    assert cosines.min() > 0.97, cosines
    # Each row is nearest to its own fp32 twin, not to another text's.
    assert list((fast @ exact.T).argmax(axis=1)) == list(range(len(TEXTS)))


def test_the_model_file_is_made_once(onnx_embedder):
    made = model_file(local_model_path(), MODEL_CACHE)
    before = made.stat().st_mtime_ns
    assert model_file(local_model_path(), MODEL_CACHE) == made and made.stat().st_mtime_ns == before
    assert not list(MODEL_CACHE.glob("tmp*"))  # no half-made file left behind


def test_lanes_embed_as_one_session_does():
    # Batches of one text: every text is quantized alone in both, so lanes change where it runs, not its vector.
    one = OnnxEmbedder("all-MiniLM-L6-v2", 1, local_model_path(), MODEL_CACHE, threads=1)
    lanes = OnnxEmbedder("all-MiniLM-L6-v2", 1, local_model_path(), MODEL_CACHE, threads=3)
    assert np.allclose(lanes.embed(TEXTS), one.embed(TEXTS), atol=1e-5)
    assert lanes.embed([]).shape == (0, 384)


def test_a_lane_that_fails_fails_its_call_only():
    lanes = Lanes([object(), object()])

    def run(session: object, item: int) -> int:
        if item == 2:
            raise ValueError("the second item")
        return item * 10

    with pytest.raises(ValueError, match="the second item"):
        lanes.map(run, [1, 2, 3])
    assert lanes.map(run, [4, 5, 6]) == [40, 50, 60]


def test_lanes_threads_end_with_them():
    before = set(threading.enumerate())
    lanes = Lanes([object(), object()])
    made = [thread for thread in threading.enumerate() if thread not in before]
    assert len(made) == 2 and all(thread.name.startswith("ragstore-embed-") for thread in made)
    del lanes
    gc.collect()
    for thread in made:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in made)
