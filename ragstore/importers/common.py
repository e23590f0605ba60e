"""What every importer shares: the record it produces, its report, attribute limits, fingerprints, dotted paths."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ragstore.ingest.chunk import ChunkingStrategy

Scalar = str | int | float | bool

# OpenAI's limits on a vector store file's attributes (ragstore's API enforces the same).
MAX_ATTRIBUTES, MAX_KEY_CHARS, MAX_VALUE_CHARS = 16, 64, 512


@dataclass(frozen=True)
class Record:
    """One unit of a source, imported as one file of the store: its text, attributes and, maybe, its embedding.

    key names the source stably (re-running an import finds it again); embedding, when given, is the record's
    one chunk's vector, reused instead of computed.
    """

    key: str
    filename: str
    text: str
    attributes: dict[str, Scalar] = field(default_factory=dict)
    embedding: np.ndarray | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Failure:
    """A record that could not be imported, and why."""

    name: str
    reason: str


@dataclass
class Report:
    """What an import did: counts, failures with their reasons, and what had to be changed on the way."""

    imported: int = 0
    replaced: int = 0
    unchanged: int = 0
    chunks: int = 0
    failed: list[Failure] = field(default_factory=list)
    # "attribute 'x' cut to 512 characters" -> how many records
    warnings: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def fail(self, name: str, reason: str) -> None:
        self.failed.append(Failure(name, reason))


class Progress(Protocol):
    """Where an import reports how far it is (a progress bar in the CLI)."""

    def start(self, stage: str, total: int | None) -> None: ...

    def advance(self, count: int = 1) -> None: ...


class Silent:
    """No progress shown."""

    def start(self, stage: str, total: int | None) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass


def clean_attributes(values: Mapping[str, Any], warnings: Counter[str]) -> dict[str, Scalar]:
    """values as attributes OpenAI allows: nulls dropped, other non-scalars dropped, long strings cut, 16 kept.

    Each change is counted in warnings, by what was changed.
    """
    kept: dict[str, Scalar] = {}
    beyond = False
    for key, value in values.items():
        if value is None:
            continue
        key = storable(str(key))
        problem = _attribute_problem(key, value)
        if problem:
            warnings[f"attribute '{key[:MAX_KEY_CHARS]}' dropped: {problem}"] += 1
            continue
        if len(kept) == MAX_ATTRIBUTES:
            beyond = True
            continue
        if isinstance(value, str):
            value = storable(value)
            if len(value) > MAX_VALUE_CHARS:
                warnings[f"attribute '{key}' cut to {MAX_VALUE_CHARS} characters"] += 1
                value = value[:MAX_VALUE_CHARS]
        kept[key] = value
    if beyond:
        warnings[f"attributes beyond the first {MAX_ATTRIBUTES} dropped"] += 1
    return kept


def _attribute_problem(key: str, value: Any) -> str | None:
    if not key:
        return "an empty name"
    if len(key) > MAX_KEY_CHARS:
        return f"a name longer than {MAX_KEY_CHARS} characters"
    if isinstance(value, float) and not math.isfinite(value):
        return "not a finite number"
    if not isinstance(value, str | int | float | bool):
        return f"a {type(value).__name__}, not a string, number or boolean"
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """Text PostgreSQL can hold: no NUL, lone surrogates (from JSON escapes) as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text.replace("\x00", ""))


def fingerprint(record: Record, strategy: ChunkingStrategy | None = None, model: str = "") -> str:
    """sha256 of everything that makes a record's chunks: text, attributes, chunking, and the embedding's source."""
    source = (
        hashlib.sha256(np.ascontiguousarray(record.embedding, dtype=np.float32).tobytes()).hexdigest()
        if record.embedding is not None
        else f"model:{model}"
    )
    parts = {
        "text": record.text,
        "attributes": record.attributes,
        "chunking": [strategy.max_tokens, strategy.overlap_tokens] if strategy else None,
        "embedding": source,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def get_path(document: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path ("metadata.author") of a JSON object; None when missing."""
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def field_list(text: str | None) -> list[str] | None:
    """A comma-separated option as a list of names (None when not given)."""
    if text is None:
        return None
    return [name.strip() for name in text.split(",") if name.strip()]


def walk(folder: Path) -> Iterator[Path]:
    """The files under folder, recursively, in name order; hidden files and folders left out."""
    for child in sorted(folder.rglob("*")):
        if child.is_file() and not any(part.startswith(".") for part in child.relative_to(folder).parts):
            yield child


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of up to size items (itertools.batched, which Python 3.11 lacks)."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
