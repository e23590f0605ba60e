"""A folder of files, through the normal pipeline: each file is uploaded and attached with its ingestion job, in the
same transaction as its import record, and workers parse, chunk and embed it as they do for `ragstore ingest`.

A file is keyed by its absolute path through the folder (a symbolic link is not followed) and fingerprinted by its
bytes' sha256 and the chunking asked for. A changed file is ingested as a new version while the old one keeps
serving searches; once the new one is completed the old one is detached and deleted, and if the new one fails it is
removed and the old one stays. Both happen in `finish`, or in the next run if this one is interrupted (an
interrupted run's files are still ingested by any worker).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ragstore.errors import InvalidRequest, RagstoreError
from ragstore.importers.common import Progress, Report, walk
from ragstore.importers.records import Destination, classify, live_spaces, load_versions
from ragstore.ingest.chunk import ChunkingStrategy
from ragstore.ingest.parse import SUPPORTED_EXTENSIONS
from ragstore.service import files, imports, ingestion


@dataclass(frozen=True)
class Started:
    """A file being ingested for a source: the source's key, its name in reports, the versions it replaces."""

    key: str
    name: str
    older: list[str]
    fingerprint: str = ""


@dataclass
class FilesImport:
    """An import whose files workers are ingesting: what to wait for, and what to settle afterwards."""

    target: Destination
    started: dict[str, Started] = field(default_factory=dict)  # by file id
    leftovers: list[str] = field(default_factory=list)


def extensions(types: list[str] | None) -> frozenset[str]:
    """The extensions of the types asked for ("pdf", ".md"), all supported ones when None."""
    if not types:
        return SUPPORTED_EXTENSIONS
    wanted = frozenset("." + kind.lower().lstrip(".") for kind in types)
    unknown = sorted(wanted - SUPPORTED_EXTENSIONS)
    if unknown:
        raise InvalidRequest(
            f"Unsupported types: {', '.join(unknown)}; supported: {', '.join(sorted(SUPPORTED_EXTENSIONS))}."
        )
    return wanted


def collect(folder: Path, types: list[str] | None) -> tuple[list[Path], int]:
    """The files of those types under folder, recursively, and how many others were skipped."""
    if not folder.is_dir():
        raise InvalidRequest(f"{folder} is not a folder.")
    wanted = extensions(types)
    found = list(walk(folder))
    chosen = [path for path in found if path.suffix.lower() in wanted]
    return chosen, len(found) - len(chosen)


@dataclass(frozen=True)
class Source:
    """A file to import: its key among the store's import records, its name in reports, where to read it."""

    key: str
    name: str
    path: Path


def start(
    target: Destination,
    folder: Path,
    types: list[str] | None,
    strategy: ChunkingStrategy,
    report: Report,
    progress: Progress,
) -> FilesImport:
    """Upload the new and changed files under folder and queue their ingestion; skip the unchanged ones."""
    paths, skipped = collect(folder, types)
    if skipped:
        report.notes.append(f"{skipped} files of other types skipped")
    root = folder.resolve()
    # The key is the path in the folder, not where a symbolic link leads.
    sources = [Source(f"file:{root / path.relative_to(folder)}", str(path.relative_to(folder)), path) for path in paths]
    return _start(target, sources, f"file:{root}/", strategy, report, progress)


def collect_paths(paths: Sequence[Path]) -> tuple[list[Source], int]:
    """`ragstore ingest`'s arguments: files named (any type: the parser says if it cannot read one) and the supported
    files under folders, each keyed by its absolute path as `start` keys a folder's; and how many were skipped."""
    sources: list[Source] = []
    skipped = 0
    for path in paths:
        if path.is_dir():
            for child in walk(path):
                if child.suffix.lower() in SUPPORTED_EXTENSIONS:
                    name = str(Path(path.name) / child.relative_to(path))
                    sources.append(Source(f"file:{path.absolute() / child.relative_to(path)}", name, child))
                else:
                    skipped += 1
        elif path.is_file():
            sources.append(Source(f"file:{path.absolute()}", path.name, path))
        else:
            raise InvalidRequest(f"{path} does not exist.")
    return sources, skipped


def start_paths(
    target: Destination, sources: list[Source], strategy: ChunkingStrategy, report: Report, progress: Progress
) -> FilesImport:
    """Upload what collect_paths found, new and changed files only, and queue their ingestion."""
    return _start(target, sources, "file:/", strategy, report, progress)


def _start(
    target: Destination,
    sources: list[Source],
    prefix: str,
    strategy: ChunkingStrategy,
    report: Report,
    progress: Progress,
) -> FilesImport:
    live_spaces(target)  # a store whose model cannot be reached here is said before anything is uploaded
    versions = load_versions(target, prefix)
    work = FilesImport(target)
    specs = []
    progress.start("upload", len(sources))
    for source in sources:
        key, name, path = source.key, source.name, source.path
        try:
            fp = _fingerprint(path, strategy)
            older = versions.get(key, [])
            action = classify(older, fp)
            if action == "unchanged":
                report.unchanged += 1
                work.leftovers.extend(version.file_id for version in older[1:])
            elif action == "pending":
                work.started[older[0].file_id] = Started(key, name, [v.file_id for v in older[1:]], fp)
            else:
                with path.open("rb") as stream:
                    record = files.upload(target.db, target.tenant_id, path.name, stream)
                work.started[record.id] = Started(key, name, [v.file_id for v in older], fp)
                specs.append(ingestion.FileSpec(record.id, strategy))
        except (OSError, RagstoreError) as exc:
            report.fail(name, getattr(exc, "message", None) or str(exc))
        progress.advance()
    _attach(work, specs)
    return work


def _fingerprint(path: Path, strategy: ChunkingStrategy) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while part := stream.read(1 << 20):
            digest.update(part)
    parts = {"sha256": digest.hexdigest(), "chunking": [strategy.max_tokens, strategy.overlap_tokens]}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _attach(work: FilesImport, specs: list[ingestion.FileSpec]) -> None:
    """Attach the uploaded files as one batch, each with its import record, in one transaction."""
    target = work.target
    sources = {spec.file_id: (work.started[spec.file_id].key, work.started[spec.file_id].fingerprint) for spec in specs}
    with target.db.transaction(target.tenant_id) as conn:
        imports.drop(target.db, target.tenant_id, target.store.id, work.leftovers, conn=conn)
        if specs:
            imports.attach(target.db, target.tenant_id, target.store, specs, sources, conn=conn)


def remaining(work: FilesImport) -> int:
    """How many of the import's files are still being ingested."""
    target = work.target
    states = imports.states(target.db, target.tenant_id, target.store.id, list(work.started))
    return sum(1 for state in states.values() if state["status"] == "in_progress")


def finish(work: FilesImport, report: Report) -> None:
    """Count what was ingested; drop the versions it replaces, and the new files that failed (with their reason)."""
    target = work.target
    with target.db.transaction(target.tenant_id) as conn:
        states = imports.states(target.db, target.tenant_id, target.store.id, list(work.started), conn=conn)
        drop: list[str] = []
        for file_id, started in work.started.items():
            state = states.get(file_id) or {"status": "detached"}
            if state["status"] == "completed":
                drop.extend(started.older)
                report.chunks += state["chunk_count"]
                if started.older:
                    report.replaced += 1
                else:
                    report.imported += 1
            elif state["status"] == "in_progress":
                report.notes.append(f"{started.name}: still being ingested; a worker will finish it")
            else:
                drop.append(file_id)
                reason = state.get("last_error_message") or f"the file was {state['status']} while importing"
                code = state.get("last_error_code")
                report.fail(started.name, f"{reason} ({code})" if code else reason)
        imports.drop(target.db, target.tenant_id, target.store.id, drop, conn=conn)
