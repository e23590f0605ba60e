"""The int8 ONNX version of the bundled model: made once from the installed weights, close to the fp32 model."""

from __future__ import annotations

import numpy as np
import pytest

from ragstore.ingest.embed import local_model_path
from ragstore.ingest.onnx import OnnxEmbedder, model_file
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
