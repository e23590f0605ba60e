"""The zip container: members written as streams with their sha256, read back only once their checksums agree.

A writer works on a hidden temporary sibling of its path and renames it into place at the end, so that a failed
backup leaves no half archive behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np

from ragstore.archive import format
from ragstore.archive.format import ArchiveDamaged, ArchiveError
from ragstore.archive.progress import Progress, quiet

READ_SIZE = 1 << 20


class _HashingWriter:
    """A member's output stream that counts and hashes what goes through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.raw.write(data)


class ArchiveWriter:
    """A new archive at path (use as a context manager; finish() writes the manifest and puts it in place)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(f".{path.name}.partial")
        self.members: dict[str, dict[str, Any]] = {}
        self._zip = zipfile.ZipFile(self.partial, "w", allowZip64=True)

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._zip.fp is not None:  # not finished: an error, or finish() never called
            self._zip.close()
        self.partial.unlink(missing_ok=True)

    @contextlib.contextmanager
    def member(self, name: str, *, compress: bool = True) -> Iterator[_HashingWriter]:
        """A member's output stream; its sha256 and size go into the manifest."""
        info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        with self._zip.open(info, "w", force_zip64=True) as raw:
            out = _HashingWriter(raw)
            yield out
        self.members[name] = {"sha256": out.digest.hexdigest(), "bytes": out.size}

    def write_rows(self, name: str, rows: Iterable[dict[str, Any]], bar: Any = None) -> int:
        """A JSON-lines member, one row a line; return how many rows."""
        count = 0
        with self.member(name) as out:
            for row in rows:
                out.write(encode_row(row))
                count += 1
                if bar is not None:
                    bar.update(1)
        return count

    def finish(self, manifest: dict[str, Any]) -> int:
        """Write the manifest, close, and move the archive into place; return its size in bytes."""
        with self._zip.open(format.MANIFEST, "w") as out:
            out.write(json.dumps(manifest, indent=2, ensure_ascii=False).encode())
        self._zip.close()
        with open(self.partial, "rb") as done:
            os.fsync(done.fileno())
        self.partial.replace(self.path)
        return self.path.stat().st_size


def encode_row(row: dict[str, Any]) -> bytes:
    return (json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=_json_default) + "\n").encode()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot archive a {type(value).__name__}")


class ArchiveReader:
    """An archive opened for reading: its manifest checked at once, its members' checksums by check()."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise ArchiveError(f"{path} is not a file." if path.exists() else f"{path} does not exist.")
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ArchiveError(f"{path} is not a ragstore archive (not a zip file: {exc}).") from exc
        try:
            self.manifest = self._manifest()
        except BaseException:
            self._zip.close()
            raise

    def _manifest(self) -> dict[str, Any]:
        names = set(self._zip.namelist())
        if format.MANIFEST not in names:
            raise ArchiveError(f"{self.path} is not a ragstore archive (it has no {format.MANIFEST}).")
        with self._damaged(format.MANIFEST):
            manifest = json.loads(self._zip.read(format.MANIFEST))
        format.check_manifest(manifest, names, str(self.path))
        return manifest

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._zip.close()

    def check(self, progress: Progress = quiet) -> int:
        """Recompute every member's sha256 and size against the manifest; return the bytes read."""
        members = self.manifest["members"]
        total = sum(int(entry.get("bytes", 0)) for entry in members.values())
        with progress(desc="checksums", total=total, unit="B", unit_scale=True) as bar:
            for name, entry in members.items():
                digest, size = hashlib.sha256(), 0
                with self.open(name) as stream:
                    while data := stream.read(READ_SIZE):
                        digest.update(data)
                        size += len(data)
                        bar.update(len(data))
                if digest.hexdigest() != entry.get("sha256") or size != entry.get("bytes"):
                    raise ArchiveDamaged(
                        f"{self.path} is damaged: member {name} does not match its sha256 in the manifest."
                    )
        return total

    @contextlib.contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        """A member's bytes as a stream; damage found while reading becomes ArchiveDamaged."""
        with self._damaged(name), self._zip.open(name) as stream:
            yield stream

    def rows(self, name: str) -> Iterator[dict[str, Any]]:
        """The rows of a JSON-lines member."""
        with self.open(name) as stream:
            for line in stream:
                yield json.loads(line)

    def embeddings(self, name: str, rows: int, dimension: int, block: int = 4096) -> Iterator[np.ndarray]:
        """A store's embeddings (float16), block after block, checked to be (rows, dimension)."""
        with self.open(name) as stream:
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
            if shape != (rows, dimension) or fortran or dtype != np.dtype(format.EMBEDDING_DTYPE):
                raise ArchiveError(
                    f"{self.path}: {name} holds {dtype} {shape}, not float16 ({rows}, {dimension}) as its store."
                )
            for start in range(0, rows, block):
                count = min(block, rows - start)
                data = stream.read(count * dimension * 2)
                if len(data) != count * dimension * 2:
                    raise ArchiveDamaged(f"{self.path} is damaged: {name} is shorter than its header says.")
                yield np.frombuffer(data, dtype=format.EMBEDDING_DTYPE).reshape(count, dimension)

    @contextlib.contextmanager
    def _damaged(self, name: str) -> Iterator[None]:
        try:
            yield
        except (zipfile.BadZipFile, zlib.error, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ArchiveDamaged(f"{self.path} is damaged: member {name} cannot be read ({exc}).") from exc


def write_embeddings_header(out: Any, rows: int, dimension: int) -> None:
    """The .npy header of a (rows, dimension) float16 little-endian array, whose rows follow as raw bytes."""
    header = {"descr": format.EMBEDDING_DTYPE, "fortran_order": False, "shape": (rows, dimension)}
    np.lib.format.write_array_header_1_0(out, header)
