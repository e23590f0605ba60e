"""Chunking by the model's own tokens, and embedding that never truncates a chunk."""

from __future__ import annotations

import numpy as np
import pytest

from ragstore.errors import InvalidFile, InvalidRequest
from ragstore.ingest import chunk
from ragstore.ingest.chunk import AUTO, ChunkingStrategy
from ragstore.ingest.embed import embed_chunks
from ragstore.ingest.parse import Section
from tests.support.documents import long_text

TEXT = long_text(seed=3, words=2000).decode()


@pytest.mark.parametrize(("size", "overlap"), [(99, 0), (4097, 0), (200, 101), (200, -1)])
def test_strategy_bounds_are_enforced(size, overlap):
    with pytest.raises(InvalidRequest):
        ChunkingStrategy(size, overlap)


def test_auto_fits_the_model_window():
    assert AUTO.max_tokens + 2 <= 256


@pytest.mark.parametrize(("size", "overlap"), [(100, 0), (250, 50), (400, 200)])
def test_windows_have_the_size_and_overlap_asked_cut_between_words(chunker, size, overlap):
    chunks = chunker.chunk([Section(TEXT)], ChunkingStrategy(size, overlap))
    assert all(size - 32 <= c.token_count <= size for c in chunks[:-1]) and 0 < chunks[-1].token_count <= size
    assert all(chunker.count(c.text) == c.token_count for c in chunks)  # whole words: same tokens alone
    assert all(c.text in TEXT for c in chunks)  # spans of the source, never rewritten
    assert TEXT.startswith(chunks[0].text) and TEXT.endswith(chunks[-1].text)
    for before, after in zip(chunks, chunks[1:], strict=False):
        before_end = TEXT.index(before.text) + len(before.text)
        after_start = TEXT.index(after.text)
        assert TEXT[after_start - 1].isspace()  # starts a word
        if overlap:
            assert after_start < before_end and overlap - 32 <= chunker.count(TEXT[after_start:before_end]) <= overlap
        else:
            assert TEXT[before_end:after_start].isspace()  # nothing skipped, nothing repeated


def test_chunks_never_span_pages_or_documents(chunker):
    sections = [
        Section("first page text", page=1),
        Section("second page text", page=2),
        Section("doc a", metadata={"id": "a"}),
        Section("doc b", metadata={"id": "b"}),
    ]
    chunks = chunker.chunk(sections, AUTO)
    assert [(c.text, c.page, dict(c.metadata)) for c in chunks] == [
        ("first page text", 1, {}),
        ("second page text", 2, {}),
        ("doc a", None, {"id": "a"}),
        ("doc b", None, {"id": "b"}),
    ]
    assert [c.index for c in chunks] == [0, 1, 2, 3]


def test_a_huge_single_line_is_tokenised_in_slices(chunker):
    text = "word " * 100_000  # longer than one tokenizer slice
    chunks = chunker.chunk([Section(text.strip())], ChunkingStrategy(1000, 0))
    assert sum(c.token_count for c in chunks) == 100_000 and len(chunks) == 100


def test_a_run_without_spaces_makes_chunks_of_bounded_length(chunker):
    # The tokenizer reads a word of more than 100 characters as one unknown token, whatever its length.
    text = "ab" * 1_000_000
    chunks = chunker.chunk([Section(text)], ChunkingStrategy(250, 0))
    assert [len(c.text) for c in chunks] == [25_000] * 80
    assert "".join(c.text for c in chunks) == text and {c.token_count for c in chunks} == {250}


def test_a_file_of_too_many_tokens_fails_once_they_are_counted(chunker, monkeypatch):
    monkeypatch.setattr(chunk, "MAX_FILE_TOKENS", 1_000)
    assert len(chunker.chunk([Section("word " * 999 + "end")], AUTO)) == 5
    sections = [Section("word " * 600, page=1), Section("word " * 401, page=2)]
    with pytest.raises(InvalidFile, match=r"^This file has more than 1,000 tokens of text, the most one file may"):
        chunker.chunk(sections, AUTO)
    assert len(chunker.split("word " * 5000, 250)) == 20  # the embedder's windows over one chunk are not limited


class RecordingEmbedder:
    """Deterministic vectors; records what the model was asked to read (unit tests only)."""

    model, dimension, batch_size, max_tokens = "fake", 4, 8, 254

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts):
        self.seen.extend(texts)
        return np.array([[len(t), t.count("a"), 1.0, 0.5] for t in texts], dtype=np.float32)


def test_long_chunks_are_embedded_in_windows_that_fit_the_model(chunker):
    long_chunk = chunker.chunk([Section(TEXT)], ChunkingStrategy(1000, 0))[0]
    embedder = RecordingEmbedder()
    vectors = embed_chunks(embedder, chunker, ["short text", long_chunk.text])
    windows = embedder.seen[1:]
    assert embedder.seen[0] == "short text" and len(windows) >= 4
    assert all(chunker.count(w) + 2 <= 256 for w in windows)  # the model sees every token
    assert "".join(w.replace(" ", "") for w in windows) == long_chunk.text.replace(" ", "")
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)


def test_pooled_vector_is_the_length_weighted_mean_of_the_windows(chunker, embedder):
    text = chunker.chunk([Section(TEXT)], ChunkingStrategy(600, 0))[0].text
    pooled = embed_chunks(embedder, chunker, [text])[0]
    windows = chunker.split(text, embedder.max_tokens)
    weights = np.array([chunker.count(w) for w in windows], dtype=np.float32)
    expected = (embedder.embed(windows) * weights[:, None]).sum(axis=0)
    assert np.allclose(pooled, expected / np.linalg.norm(expected), atol=1e-5)
