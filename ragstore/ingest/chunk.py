"""Chunking: token windows counted with the embedding model's own tokenizer.

Consecutive sections from the same page with the same metadata are joined and cut into windows of at most
`max_tokens` word pieces, each overlapping the previous by at most `overlap_tokens`. Windows are cut between
words, so a chunk re-tokenised on its own has exactly its recorded token count (long runs without spaces aside,
see below). A chunk never spans two pages (its page is a citation) nor two documents of a JSON file (each has its
own metadata). A chunk's text is the exact span of the source between its first and last token, so nothing is
rewritten.

No file makes a worker's time or memory grow without bound: a file of more than MAX_FILE_TOKENS tokens (OpenAI's
limit for a file) fails as soon as that many are counted, and a token covers at most _MAX_TOKEN_CHARS characters
(a longer run without spaces, which the tokenizer reads as one unknown token, counts as one token per
_MAX_TOKEN_CHARS characters), so a chunk's text is at most max_tokens * _MAX_TOKEN_CHARS characters long.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tokenizers import Tokenizer

from ragstore.errors import InvalidFile, InvalidRequest
from ragstore.ingest.parse import Section

MIN_TOKENS, MAX_TOKENS = 100, 4096
# "The Assistants API supports files up to 2 million tokens" (OpenAI's file upload documentation).
MAX_FILE_TOKENS = 2_000_000
# WordPiece reads a word longer than this (its max_input_chars_per_word) as one unknown token.
_MAX_TOKEN_CHARS = 100
# Tokenise long texts in slices this long, so that a 50 MB file never becomes one list of offsets.
_SLICE_CHARS = 64_000
_SEPARATOR = "\n\n"
# How far a window's edge may move to fall between two words.
_MAX_SHIFT = 32


@dataclass(frozen=True)
class ChunkingStrategy:
    """Static token windows, as OpenAI's `static` chunking strategy."""

    max_tokens: int
    overlap_tokens: int

    def __post_init__(self) -> None:
        if not MIN_TOKENS <= self.max_tokens <= MAX_TOKENS:
            raise InvalidRequest(
                f"max_chunk_size_tokens must be between {MIN_TOKENS} and {MAX_TOKENS}, got {self.max_tokens}.",
                param="chunking_strategy",
            )
        if not 0 <= self.overlap_tokens <= self.max_tokens // 2:
            raise InvalidRequest(
                f"chunk_overlap_tokens must be between 0 and half of max_chunk_size_tokens "
                f"({self.max_tokens // 2}), got {self.overlap_tokens}.",
                param="chunking_strategy",
            )


# `auto` fits one chunk in all-MiniLM-L6-v2's window of 256 word pieces (254 plus [CLS] and [SEP]); longer
# static chunks are embedded in windows (see embed.embed_chunks).
AUTO = ChunkingStrategy(max_tokens=250, overlap_tokens=50)


@dataclass(frozen=True)
class Chunk:
    """One window of a document, ready to embed."""

    index: int
    text: str
    token_count: int
    page: int | None = None
    metadata: Mapping[str, str | int | float | bool] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


class Chunker:
    """Cuts text into token windows with a Hugging Face tokenizer (tokenizer.json)."""

    def __init__(self, tokenizer_path: Path) -> None:
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()

    def count(self, text: str) -> int:
        """Word pieces in text, without special tokens."""
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def chunk(self, sections: Sequence[Section], strategy: ChunkingStrategy) -> list[Chunk]:
        """All chunks of a document, numbered from 0."""
        chunks: list[Chunk] = []
        tally = _Tally()
        for text, page, metadata in _groups(sections):
            for start, end, count in self._windows(text, strategy.max_tokens, strategy.overlap_tokens, tally):
                chunks.append(Chunk(len(chunks), text[start:end], count, page, metadata))
        return chunks

    def split(self, text: str, max_tokens: int) -> list[str]:
        """Cut text into consecutive pieces of at most max_tokens word pieces each, without overlap."""
        return [text[start:end] for start, end, _ in self._windows(text, max_tokens, 0)]

    def _windows(
        self, text: str, size: int, overlap: int, tally: _Tally | None = None
    ) -> Iterator[tuple[int, int, int]]:
        """(start, end, token count) character spans of windows over text, cut between words."""
        offsets: list[tuple[int, int]] = []
        for piece_offsets in self._offsets(text, tally):
            offsets.extend(piece_offsets)
            while len(offsets) > size:
                end = _word_boundary(offsets, size, -1)
                yield offsets[0][0], offsets[end - 1][1], end
                offsets = offsets[_word_boundary(offsets, max(1, end - overlap), +1, limit=end) :]
        if offsets:
            yield offsets[0][0], offsets[-1][1], len(offsets)

    def _offsets(self, text: str, tally: _Tally | None = None) -> Iterator[list[tuple[int, int]]]:
        """Token character offsets of text, slice by slice, cut only at whitespace."""
        start = 0
        while start < len(text):
            end = _slice_end(text, start)
            encoding = self.tokenizer.encode(text[start:end], add_special_tokens=False)
            offsets = [(start + a, start + b) for a, b in encoding.offsets]
            if any(b - a > _MAX_TOKEN_CHARS for a, b in offsets):
                offsets = _split_long_tokens(offsets)
            if tally is not None:
                tally.add(len(offsets))
            yield offsets
            start = end


def _split_long_tokens(offsets: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Each token longer than _MAX_TOKEN_CHARS as several tokens of at most that many characters."""
    return [
        (a + i, min(b, a + i + _MAX_TOKEN_CHARS)) for a, b in offsets for i in range(0, max(1, b - a), _MAX_TOKEN_CHARS)
    ]


class _Tally:
    """Tokens counted so far in one file."""

    def __init__(self) -> None:
        self.tokens = 0

    def add(self, count: int) -> None:
        self.tokens += count
        if self.tokens > MAX_FILE_TOKENS:
            raise InvalidFile(
                f"This file has more than {MAX_FILE_TOKENS:,} tokens of text, the most one file may have; "
                "split it into smaller files."
            )


def _word_boundary(offsets: list[tuple[int, int]], index: int, step: int, limit: int | None = None) -> int:
    """The token index nearest `index` (moving by step) that starts a word, so no word is cut in two.

    A token starts a word when whitespace precedes it. Within _MAX_SHIFT tokens; else `index` itself (one
    very long word, such as a URL, is cut).
    """
    for shift in range(_MAX_SHIFT):
        i = index + step * shift
        if i <= 0 or i >= len(offsets) or (limit is not None and i >= limit):
            break
        if offsets[i][0] > offsets[i - 1][1]:
            return i
    return index


def _slice_end(text: str, start: int) -> int:
    end = start + _SLICE_CHARS
    if end >= len(text):
        return len(text)
    space = text.rfind(" ", start + _SLICE_CHARS // 2, end)
    newline = text.rfind("\n", start + _SLICE_CHARS // 2, end)
    cut = max(space, newline)
    return cut + 1 if cut > 0 else end


def _groups(sections: Sequence[Section]) -> Iterator[tuple[str, int | None, Mapping]]:
    """Runs of consecutive sections from one page with equal metadata, joined: (text, page, metadata)."""
    i = 0
    while i < len(sections):
        first = sections[i]
        parts = []
        while i < len(sections) and (sections[i].page, sections[i].metadata) == (first.page, first.metadata):
            parts.append(sections[i].text)
            i += 1
        yield _SEPARATOR.join(parts), first.page, dict(first.metadata)
