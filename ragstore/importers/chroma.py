"""ChromaDB: a persistent directory, read with the chromadb package. Each record becomes one chunk (no
re-chunking) of a file named after its id, with its metadata as attributes.

A collection's embeddings are reused when they come from ragstore's model, and computed again otherwise. Whether they
do is measured, not guessed from names: their dimension must be the model's, and re-embedding a sample of the
collection's documents with it must give back the stored vectors (cosine >= 0.98: the same model in fp32 under ONNX
or PyTorch agrees to about 0.9999, ragstore's int8 version of it to about 0.99, another model scores far lower). The
name of the embedding function the collection declares is reported beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ragstore.errors import ConfigurationError, InvalidRequest
from ragstore.importers.common import Progress, Record, Report, clean_attributes, storable
from ragstore.importers.records import Destination, write_records

PAGE = 256
SAMPLE = 16
MIN_COSINE = 0.98
EMBEDDING_MODES = ("auto", "reuse", "recompute")
# Names chromadb gives its default embedding function, which is all-MiniLM-L6-v2 under ONNX.
_DEFAULT_FUNCTIONS = {"default", "onnx_mini_lm_l6_v2"}


@dataclass(frozen=True)
class ModelCheck:
    """Whether a collection's embeddings are reused, and why."""

    reuse: bool
    reason: str


def import_chroma(
    target: Destination,
    path: Path,
    collections: list[str] | None,
    mode: str,
    report: Report,
    progress: Progress,
) -> None:
    """Import the named collections (all when None) of the ChromaDB directory at path."""
    client = open_client(path)
    for name in collection_names(client, path, collections):
        collection = _read(lambda name=name: client.get_collection(name, embedding_function=None), path)
        total = _read(collection.count, path)
        check = check_model(target, collection, mode)
        verdict = "reused" if check.reuse else "computed again"
        report.notes.append(f"collection {name}: {total} records, embeddings {verdict} ({check.reason})")
        progress.start(f"chroma {name}", total)
        write_records(
            target, _records(collection, name, check.reuse, report, path), f"chroma:{name}:", report, progress
        )


def open_client(path: Path) -> Any:
    """A chromadb client on an existing persistent directory (chromadb would create an empty one anywhere)."""
    if not (path / "chroma.sqlite3").is_file():
        raise InvalidRequest(f"{path} is not a ChromaDB persistent directory: it has no chroma.sqlite3.")
    try:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
    except ImportError as exc:
        raise ConfigurationError("Importing from ChromaDB needs the chromadb package: pip install chromadb") from exc
    return _read(
        lambda: chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False)), path
    )


def collection_names(client: Any, path: Path, wanted: list[str] | None) -> list[str]:
    """The collections to import: those asked for (each must exist), else all of them."""
    # chromadb 0.6+ lists names, 1.x lists collections.
    found = [getattr(item, "name", item) for item in _read(client.list_collections, path)]
    if not wanted:
        return sorted(found)
    missing = [name for name in wanted if name not in found]
    if missing:
        has = ", ".join(sorted(found)) or "none"
        raise InvalidRequest(f"No collection named {', '.join(map(repr, missing))} in {path}; it has: {has}.")
    return wanted


def check_model(target: Destination, collection: Any, mode: str) -> ModelCheck:
    """Reuse the collection's embeddings only if they are the store model's (or if asked to)."""
    if mode == "recompute":
        return ModelCheck(False, "as asked")
    sample = _read(lambda: collection.get(include=["documents", "embeddings"], limit=SAMPLE * 4), collection.name)
    vectors = sample["embeddings"]
    if vectors is None or len(vectors) == 0:
        return ModelCheck(False, "the collection is empty")
    dimension, wanted = len(vectors[0]), target.embedder.dimension
    if dimension != wanted:
        if mode == "reuse":
            raise InvalidRequest(
                f"Cannot reuse {dimension}-d embeddings: {target.embedder.model} makes {wanted}-d ones."
            )
        return ModelCheck(False, f"they have {dimension} dimensions, {target.embedder.model} {wanted}")
    declared = declared_model(collection)
    if mode == "reuse":
        return ModelCheck(True, f"as asked; the collection declares {declared}")
    pairs = [(doc, vec) for doc, vec in zip(sample["documents"] or [], vectors, strict=False) if doc and doc.strip()]
    if not pairs:
        reuse = declared == target.embedder.model
        return ModelCheck(reuse, f"no documents to compare; the collection declares {declared}")
    cosines = sample_cosines(target, pairs[:SAMPLE])
    reason = (
        f"{len(cosines)} sampled documents re-embedded with {target.embedder.model}: cosine "
        f"{min(cosines):.4f} to {max(cosines):.4f} with the stored vectors; the collection declares {declared}"
    )
    return ModelCheck(min(cosines) >= MIN_COSINE, reason)


def sample_cosines(target: Destination, pairs: list[tuple[str, Any]]) -> list[float]:
    """Cosine between each stored vector and the store model's embedding of its document."""
    limit = target.embedder.max_tokens
    # Compared whole where the model reads them whole; a longer text would be embedded in windows here.
    fitting = [(doc, vec) for doc, vec in pairs if not limit or target.chunker.count(doc) <= limit] or pairs
    mine = target.embedder.embed([doc for doc, _ in fitting])
    theirs = np.asarray([vec for _, vec in fitting], dtype=np.float32)
    theirs /= np.maximum(np.linalg.norm(theirs, axis=1, keepdims=True), 1e-12)
    return [float(value) for value in np.sum(mine * theirs, axis=1)]


def declared_model(collection: Any) -> str:
    """The embedding function the collection's configuration or metadata names, as a model name when known."""
    configuration = getattr(collection, "configuration_json", None) or {}
    function = configuration.get("embedding_function") or {}
    name = function.get("name")
    if name in _DEFAULT_FUNCTIONS:
        return "all-MiniLM-L6-v2 (chromadb's default)"
    model = (function.get("config") or {}).get("model_name") or (collection.metadata or {}).get("embedding_model")
    return str(model or name or "no embedding function")


def _records(collection: Any, name: str, reuse: bool, report: Report, path: Path) -> Iterator[Record]:
    include = ["documents", "metadatas", "embeddings"] if reuse else ["documents", "metadatas"]
    offset = 0
    while True:
        page = _read(lambda offset=offset: collection.get(include=include, limit=PAGE, offset=offset), path)
        if not page["ids"]:
            return
        for i, record_id in enumerate(page["ids"]):
            metadata = (page["metadatas"] or [None] * len(page["ids"]))[i] or {}
            yield Record(
                f"chroma:{name}:{record_id}",
                f"{record_id}.txt",
                storable((page["documents"] or [None] * len(page["ids"]))[i] or ""),
                clean_attributes(metadata, report.warnings),
                page["embeddings"][i] if reuse else None,
            )
        offset += len(page["ids"])


def _read(call: Any, where: object) -> Any:
    """chromadb's answer; its errors (of many types) as one clear message naming where it failed."""
    try:
        return call()
    except Exception as exc:  # chromadb raises its own, sqlite's and Rust binding errors alike
        raise InvalidRequest(f"ChromaDB could not read {where}: {exc}") from exc
