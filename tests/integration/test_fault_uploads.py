"""Uploads that cannot be stored, against a real `ragstore serve`: a clean error in the envelope and no partial file.

- Over RAGSTORE_MAX_UPLOAD_BYTES: 413, whether the size is declared (Content-Length) or only found while reading;
  a body streamed without Content-Length is cut off once past the limit, not read (and spooled) to its end.
- The server's own temporary directory full (Starlette spools uploads there): 507 insufficient_storage.
- The database's disk full: 507 insufficient_storage; the rolled-back upload leaves no row and, once vacuumed, no
  space taken; the server keeps serving, and stores uploads again as soon as there is room, without a restart.

Full disks are small tmpfs mounts (the tests run as root; where mounting is not permitted they are skipped). The
database's disk is a tablespace holding ragstore's database, with the WAL on the roomy disk: PostgreSQL stops
(PANIC, as its documentation says) when it cannot write WAL, which is a database outage, not a storage error.
"""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import httpx
import openai
import psycopg
import pytest
from openai import OpenAI

from tests.conftest import with_database
from tests.support.own_postgres import own_postgres
from tests.support.served import Served

API_KEY = "sk-fault-test"
MiB = 1 << 20


def sdk(server: Served) -> OpenAI:
    return OpenAI(base_url=f"{server.url}/v1", api_key=API_KEY, max_retries=0, timeout=300)


def refused(call) -> openai.APIStatusError:
    """The SDK's error for a refused call, after checking it is the error envelope and nothing else."""
    with pytest.raises(openai.APIStatusError) as caught:
        call()
    body = caught.value.response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return caught.value


def used(path: Path) -> int:
    """Bytes in use on the file system that holds path."""
    stats = os.statvfs(path)
    return (stats.f_blocks - stats.f_bfree) * stats.f_frsize


def free(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def open_files_under(pid: int, folder: Path) -> list[str]:
    """What the process has open in folder (a spooled upload it never closed would show, deleted or not)."""
    fds = Path(f"/proc/{pid}/fd")
    targets = []
    for fd in fds.iterdir():
        try:
            targets.append(os.readlink(fd))
        except OSError:  # closed meanwhile
            continue
    return [target for target in targets if target.startswith(str(folder))]


@contextmanager
def tmpfs(path: Path, size: int) -> Iterator[Path]:
    """A tmpfs of size bytes mounted on path for the block; the test is skipped where mounting is not permitted."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(
            f"a full disk needs a small tmpfs, and mounting one is not permitted here: {mounted.stderr.strip()}"
        )
    try:
        yield path
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=True)


def count_files(database_url: str) -> tuple[int, int]:
    with psycopg.connect(database_url) as conn:
        files = conn.execute("SELECT count(*) FROM files").fetchone()[0]
        parts = conn.execute("SELECT count(*) FROM file_parts").fetchone()[0]
    return files, parts


def chunked_upload(url: str, size: int, sent: list[int] | None = None) -> httpx.Response:
    """A multipart upload sent without Content-Length (chunked), so its size is known only once read; sent, if
    given, counts the bytes of file content handed to the connection."""
    sent = [0] if sent is None else sent

    def body() -> Iterator[bytes]:
        yield (
            b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="chunked.bin"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n"
        )
        for start in range(0, size, MiB):
            piece = min(MiB, size - start)
            yield b"c" * piece
            sent[0] += piece
        yield b"\r\n--b--\r\n"

    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "multipart/form-data; boundary=b"}
    return httpx.post(f"{url}/v1/files", content=body(), headers=headers, timeout=300)


def test_an_upload_over_the_limit_is_refused_and_leaves_nothing(database_url, tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    limit = 2 * MiB
    server = Served(
        database_url, tmp_path / "data", grace=30, env={"TMPDIR": str(spool)}, api_key=API_KEY, max_upload_bytes=limit
    )
    try:
        client = sdk(server)
        before = sorted(os.listdir(spool))
        at_limit = client.files.create(file=("exact.bin", io.BytesIO(b"e" * limit)), purpose="assistants")
        assert at_limit.bytes == limit
        # Just over: read, then refused. Far over: refused from its Content-Length, before its body is read.
        for size, code in ((limit + 1, "file_too_large"), (4 * limit, "request_too_large")):
            error = refused(
                lambda size=size: client.files.create(file=("big.bin", io.BytesIO(b"b" * size)), purpose="assistants")
            )
            assert (error.status_code, error.body["type"], error.body["code"]) == (413, "invalid_request_error", code)
            assert str(limit) in error.body["message"]
        response = chunked_upload(server.url, limit + MiB // 2)  # over the file's limit, within the request's
        assert response.status_code == 413 and response.json()["error"]["code"] == "file_too_large"
        # 256 MiB streamed: refused once past the limit; the client could hand over only what socket buffers hold.
        sent = [0]
        response = chunked_upload(server.url, 128 * limit, sent)
        assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"
        assert sent[0] < 32 * limit, f"{sent[0]} bytes sent: the server read on past the limit"

        assert [f.id for f in client.files.list()] == [at_limit.id]
        assert count_files(database_url) == (1, 2)  # the file at the limit, in its two parts of 1 MiB
        assert sorted(os.listdir(spool)) == before
        assert open_files_under(server.process.pid, spool) == []
        assert server.terminate() == 0
    finally:
        server.kill()


def test_a_full_temporary_directory_is_a_clean_507(database_url, tmp_path):
    with tmpfs(tmp_path / "spool", 3 * MiB) as spool:
        server = Served(
            database_url,
            tmp_path / "data",
            grace=30,
            env={"TMPDIR": str(spool)},
            api_key=API_KEY,
            max_upload_bytes=16 * MiB,
        )
        try:
            client = sdk(server)
            baseline = used(spool)
            error = refused(
                lambda: client.files.create(file=("big.bin", io.BytesIO(b"s" * 8 * MiB)), purpose="assistants")
            )
            assert (error.status_code, error.body["type"], error.body["code"]) == (
                507,
                "server_error",
                "insufficient_storage",
            )
            assert "no space left" in error.body["message"]
            assert count_files(database_url) == (0, 0)
            assert used(spool) == baseline  # the spooled part was closed and its space given back
            assert open_files_under(server.process.pid, spool) == []

            fits = b"f" * (2 * MiB)  # past Starlette's 1 MiB in memory, so spooled to the same directory
            stored = client.files.create(file=("fits.bin", io.BytesIO(fits)), purpose="assistants")
            assert client.files.content(stored.id).read() == fits
            assert server.terminate() == 0
        finally:
            server.kill()


def test_a_full_database_disk_is_a_clean_507_and_nothing_is_kept(tmp_path):
    with own_postgres() as postgres, tmpfs(postgres.folder / "small", 48 * MiB) as small:
        owner = postgres.pgdata.stat()
        os.chown(small, owner.st_uid, owner.st_gid)  # the PostgreSQL server's own user
        with psycopg.connect(postgres.url, autocommit=True) as conn:
            conn.execute(f"CREATE TABLESPACE small LOCATION '{small}'")
            # FILE_COPY writes the new database's files at once: WAL_LOG would leave them to a checkpoint, which a full
            # disk would then fail.
            conn.execute("CREATE DATABASE ragstore TABLESPACE small STRATEGY FILE_COPY")
        url = with_database(postgres.url, "ragstore")
        try:
            fill_the_disk(url, small, tmp_path)
        finally:
            with psycopg.connect(postgres.url, autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS ragstore WITH (FORCE)")
                conn.execute("DROP TABLESPACE IF EXISTS small")


def fill_the_disk(url: str, small: Path, tmp_path: Path) -> None:
    server = Served(url, tmp_path / "data", grace=30, api_key=API_KEY, max_upload_bytes=128 * MiB)
    try:
        client = sdk(server)
        store = client.vector_stores.create(name="handbook")
        note = client.files.create(
            file=("parking.txt", io.BytesIO(b"Visitors park on level two of the north garage.")), purpose="assistants"
        )
        assert (
            client.vector_stores.files.create_and_poll(file_id=note.id, vector_store_id=store.id).status == "completed"
        )
        with closing(psycopg.connect(url, autocommit=True)) as conn:
            conn.execute("CHECKPOINT")  # what is written so far is on the disk, not in PostgreSQL's buffers
        before = used(small)
        too_big = os.urandom(free(small) + 8 * MiB)

        error = refused(lambda: client.files.create(file=("archive.bin", io.BytesIO(too_big)), purpose="assistants"))
        assert (error.status_code, error.body["type"], error.body["code"]) == (
            507,
            "server_error",
            "insufficient_storage",
        )
        assert error.body["message"].startswith("The database's disk is full")
        assert [f.id for f in client.files.list()] == [note.id]
        assert count_files(url) == (1, 1)
        # Full as it is, the server still answers, and searches.
        hits = client.vector_stores.search(store.id, query="where do guests leave their car?", max_num_results=1)
        assert [hit.file_id for hit in hits.data] == [note.id]
        assert httpx.get(f"{server.url}/readyz", timeout=60).status_code == 200

        # Room again (the operator grows the disk) and the rolled-back pages vacuumed (autovacuum's job): the failed
        # upload took nothing for good, and the same upload is now stored, by the same server.
        subprocess.run(["mount", "-o", f"remount,size={96 * MiB}", str(small)], check=True)
        with closing(psycopg.connect(url, autocommit=True)) as conn:
            conn.execute("VACUUM file_parts")
        assert used(small) - before < MiB
        stored = client.files.create(file=("archive.bin", io.BytesIO(too_big)), purpose="assistants")
        assert stored.bytes == len(too_big) and client.files.content(stored.id).read() == too_big
        assert server.terminate() == 0
    finally:
        server.kill()
