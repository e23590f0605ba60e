"""JSON and JSONL documents: each document becomes a file of its text, chunked as any file is, attached with its
metadata as attributes.

A .json file holds one document, a list of them, or an object with the list under "documents", "data" or "items";
a .jsonl file one per line. By default a document's text is its first string field among text, content,
page_content and body; its attributes are its other fields, with the fields of a "metadata" object lifted to the
top (seed 002's layout, {"id", "content", "metadata": {...}}) and other nested objects' fields named by their dotted
path. A document with an id (the "id" field, or --id-field) is keyed by it: importing it again from anywhere
replaces it. One without is keyed by its file's path and its position there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragstore.errors import InvalidRequest, RagstoreError
from ragstore.importers.common import Progress, Record, Report, clean_attributes, get_path, walk
from ragstore.importers.records import Destination, write_records
from ragstore.ingest import parse

_TEXT_FIELDS = ("text", "content", "page_content", "body")
_LIST_FIELDS = ("documents", "data", "items")
_EXTENSIONS = (".json", ".jsonl")


@dataclass(frozen=True)
class Fields:
    """Which fields of a document are its text, its id and its attributes (dotted paths; None: the defaults)."""

    content: str | None = None
    id: str | None = None
    metadata: list[str] | None = None

    def __post_init__(self) -> None:
        names = [path.rsplit(".", 1)[-1] for path in self.metadata or []]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise InvalidRequest(f"Two metadata fields would both be named {', '.join(map(repr, twice))}.")


@dataclass(frozen=True)
class Document:
    """A JSON value read from a file, and where: the file and its position (line for JSONL, index for JSON)."""

    path: Path
    position: int
    value: Any

    @property
    def name(self) -> str:
        return f"{self.path.name}:{self.position}"


def import_json(target: Destination, source: Path, fields: Fields, report: Report, progress: Progress) -> None:
    """Import every document of the .json and .jsonl files under source (a folder, or one file)."""
    documents = [document for path in json_files(source) for document in read_documents(path, report)]
    progress.start("json", len(documents))
    write_records(target, _records(documents, fields, report, progress), "json:", report, progress)


def json_files(source: Path) -> list[Path]:
    """source itself if it is a file, else the .json and .jsonl files under it; at least one."""
    if not source.exists():
        raise InvalidRequest(f"{source} does not exist.")
    paths = [source] if source.is_file() else [p for p in walk(source) if p.suffix.lower() in _EXTENSIONS]
    if not paths:
        raise InvalidRequest(f"No .json or .jsonl files under {source}.")
    return paths


def _records(documents: list[Document], fields: Fields, report: Report, progress: Progress) -> Iterator[Record]:
    for document in documents:
        record = to_record(document, fields, report)
        if record is None:
            progress.advance()
        else:
            yield record


def read_documents(path: Path, report: Report) -> list[Document]:
    """The documents of one file; a file that cannot be read fails whole, a bad JSONL line alone."""
    try:
        text = parse.decode(path.read_bytes(), "JSON")
    except (OSError, RagstoreError) as exc:
        report.fail(path.name, getattr(exc, "message", None) or str(exc))
        return []
    if path.suffix.lower() == ".jsonl":
        return list(_lines(path, text, report))
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        report.fail(path.name, f"not valid JSON: {exc}")
        return []
    if isinstance(value, dict) and _text_field(value) is None:
        value = next((value[key] for key in _LIST_FIELDS if isinstance(value.get(key), list)), value)
    items = value if isinstance(value, list) else [value]
    return [Document(path, index, item) for index, item in enumerate(items, start=1)]


def _lines(path: Path, text: str, report: Report) -> Iterator[Document]:
    # Not splitlines(): U+2028 and friends may stand unescaped inside JSON strings.
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            try:
                yield Document(path, number, json.loads(line))
            except (ValueError, RecursionError) as exc:
                report.fail(f"{path.name}:{number}", f"not valid JSON: {exc}")


def to_record(document: Document, fields: Fields, report: Report) -> Record | None:
    """A document as a record, or None (and a failure) when it has no text or no id where one was asked for."""
    value = {"text": document.value} if isinstance(document.value, str) else document.value
    if not isinstance(value, dict):
        report.fail(document.name, f"a JSON {type(value).__name__}, not a document")
        return None
    field = fields.content or _text_field(value)
    text = get_path(value, field) if field else None
    if not isinstance(text, str) or not parse.normalize(text):
        wanted = f"field '{field}'" if fields.content else f"any of {', '.join(_TEXT_FIELDS)}"
        report.fail(document.name, f"no text in {wanted}")
        return None
    identity = _identity(get_path(value, fields.id or "id"))
    if fields.id and identity is None:
        report.fail(document.name, f"no id in field '{fields.id}'")
        return None
    if identity is not None:
        key, filename = f"json:{identity}", f"{identity}.txt"
    else:
        key = f"json:{document.path.resolve()}#{document.position}"
        filename = f"{document.path.stem}-{document.position}.txt"
    attributes = _attributes(value, field, fields)
    return Record(key, filename, parse.normalize(text), clean_attributes(attributes, report.warnings))


def _attributes(document: dict[str, Any], content: str | None, fields: Fields) -> dict[str, Any]:
    if fields.metadata is not None:
        found = {path.rsplit(".", 1)[-1]: get_path(document, path) for path in fields.metadata}
        return {name: value for name, value in found.items() if value is not None}
    flat = dict(_flatten(document, ""))
    if content:
        flat.pop(content, None)
    if content and content.startswith("metadata."):  # lifted to the top by _flatten
        flat.pop(content.removeprefix("metadata."), None)
    return flat


def _flatten(value: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, Any]]:
    """Fields by dotted path; the fields of a top-level "metadata" object keep their own names."""
    for key, item in value.items():
        if isinstance(item, Mapping):
            inner = "" if (not prefix and key == "metadata") else f"{prefix}{key}."
            yield from _flatten(item, inner)
        else:
            yield f"{prefix}{key}", item


def _identity(value: Any) -> str | None:
    """A document's id: a non-empty string or an integer."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip() or None


def _text_field(document: dict[str, Any]) -> str | None:
    return next((k for k in _TEXT_FIELDS if isinstance(document.get(k), str) and document[k].strip()), None)
