"""Backup, restore and verify with real data: documents through the real pipeline and model, conversations,
feedback and datasets through the service layer; archives restored into a fresh database."""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest

from ragstore.archive import dump, load, searches, verify
from ragstore.archive.format import KINDS, ArchiveConflict, ArchiveDamaged, ArchiveError
from ragstore.archive.searches import Remembering
from ragstore.config import Settings
from ragstore.errors import InvalidRequest
from ragstore.importers import jsondocs
from ragstore.importers.common import Report, Silent
from ragstore.importers.records import Destination
from ragstore.ingest.chunk import AUTO, ChunkingStrategy
from ragstore.models import DEFAULT_TENANT, PageRequest
from ragstore.service import (
    answers,
    conversations,
    feedback,
    files,
    ingestion,
    reembed,
    search,
    spaces,
    stores,
    training,
    vector_store_files,
)
from ragstore.store import archive as store_archive
from ragstore.store.db import Database, open_database
from tests.conftest import TEMPLATE, with_database
from tests.support.documents import Document, corpus, long_text
from tests.support.embeddings_server import embeddings_server
from tests.support.ingesting import ingest

MODEL = ("all-MiniLM-L6-v2", 384)
_copies = itertools.count()


def build(db: Database, embedder, chunker, folder: Path) -> dict[str, str]:
    """Three stores (one with attributes, one with expiry and metadata, one imported from JSON documents), answers,
    ratings, a dataset."""
    handbook, _ = ingest(db, embedder, chunker, corpus(), attributes={"team": "hr", "year": 2024})
    policies = stores.create(
        db,
        DEFAULT_TENANT,
        embedder,
        "policies",
        metadata={"owner": "legal"},
        expires_after={"anchor": "last_active_at", "days": 30},
    )
    text = Document("long.txt", long_text(7, 2500), "", "")
    ingest(db, embedder, chunker, [text], store=policies, strategy=ChunkingStrategy(120, 30))
    made = []
    for i, document in enumerate(corpus()[:4]):
        question = answers.Question(document.question, [handbook.id], user_id="ana" if i < 2 else "bo")
        made.append(answers.answer(db, embedder, None, DEFAULT_TENANT, question))
    for answer in made[:3]:
        feedback.rate(db, DEFAULT_TENANT, answer.conversation.id, answer.answer.id, 5, "good")
    feedback.rate(db, DEFAULT_TENANT, made[3].conversation.id, made[3].answer.id, 2, "vague")
    examples = training.list_examples(db, DEFAULT_TENANT, "candidate", PageRequest(10, "asc")).items
    approved = [training.review(db, DEFAULT_TENANT, e.id, "approved").id for e in examples]
    training.create_dataset(db, DEFAULT_TENANT, "support v1", example_ids=approved)
    imported = stores.create(db, DEFAULT_TENANT, embedder, "imported")
    for i, document in enumerate(corpus()[:3]):
        (folder / f"doc-{i}.json").write_text(json.dumps({"id": f"doc-{i}", "text": document.data.decode(), "n": i}))
    jsondocs.import_json(_importing(db, imported, embedder, chunker), folder, jsondocs.Fields(), Report(), Silent())
    return {"handbook": handbook.id, "policies": policies.id, "imported": imported.id, "folder": str(folder)}


def _importing(db: Database, store, embedder, chunker) -> Destination:
    return Destination(db, DEFAULT_TENANT, store, embedder, chunker)


@pytest.fixture(scope="module")
def built(
    server_url: str, template_url: str, embedder, chunker, tmp_path_factory
) -> Iterator[tuple[str, dict[str, str]]]:
    """The source data, built once through the real pipeline in a database that each test copies."""
    name = f"archive_source_{os.getpid()}"
    _create(server_url, name, TEMPLATE)
    database = Database(with_database(server_url, name), pool_size=4)
    database.pool.open(wait=True)
    try:
        made = build(database, embedder, chunker, tmp_path_factory.mktemp("json"))
    finally:
        database.close()
    yield name, made
    _drop(server_url, name)


@pytest.fixture(scope="module")
def remembering(embedder) -> Remembering:
    """The model, each query embedded once for the whole module (the searches themselves are the real ones)."""
    return Remembering(embedder)


@pytest.fixture
def source(built) -> dict[str, str]:
    return built[1]


@pytest.fixture
def db(server_url: str, built) -> Iterator[Database]:
    """A copy of the source database, for this test alone."""
    name = f"archive_copy_{os.getpid()}_{next(_copies)}"
    _create(server_url, name, built[0])
    database = Database(with_database(server_url, name), pool_size=4)
    database.pool.open(wait=True)
    yield database
    database.close()
    _drop(server_url, name)


def _create(server_url: str, name: str, template: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")


def _drop(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def target(empty_database_url, tmp_path) -> Database:
    """A fresh, empty database, migrated as `ragstore restore` migrates it."""
    database = open_database(Settings(database_url=empty_database_url, data_dir=tmp_path / "target"))
    yield database
    database.close()


def everything(db: Database, tenant_id: str) -> dict:
    """Every archived kind's rows; chunks without their ids, which restore renews (and rewrites where cited)."""
    with store_archive.snapshot(db, tenant_id) as conn:
        found = {kind: list(store_archive.select_rows(conn, kind, tenant_id)) for kind in KINDS if kind != "chunks"}
        for kind in ("messages", "training_examples"):
            found[kind] = _without_chunk_ids(found[kind])
        found["chunks"] = {
            store["id"]: [
                {k: v for k, v in row.items() if k != "id"}
                for row in store_archive.select_chunks(conn, tenant_id, store["id"])
            ]
            for store in found["vector_stores"]
        }
        found["embeddings"] = {
            store["id"]: [block.tobytes() for block in store_archive.select_embeddings(conn, tenant_id, store["id"])]
            for store in found["vector_stores"]
        }
    return found


def results(db: Database, embedder, tenant_id: str, store_id: str, ranker: str) -> list[tuple]:
    return [
        (hit.file_id, hit.chunk_index, round(hit.score, 6), hit.text)
        for document in corpus()
        for hit in search.search(db, embedder, tenant_id, [store_id], document.question, 5, ranker=ranker)
    ]


def failures(checks) -> list:
    return [check for check in checks if check.status != "pass"]


def test_a_tenant_round_trip_into_a_fresh_database(db, embedder, chunker, remembering, source, target, tmp_path):
    archive = tmp_path / "tenant.zip"
    report = dump.backup(db, dump.resolve_scope(db, "default"), archive)
    assert report.counts["files"] == len(corpus()) + 1 + 3 and report.counts["vector_stores"] == 3
    assert report.counts["imported_files"] == 3
    assert report.counts["conversations"] == 4 and report.counts["feedback"] == 4
    assert report.counts["training_examples"] == 3 and report.counts["dataset_examples"] == 3
    before = everything(db, DEFAULT_TENANT)

    restored = load.restore(target, archive, MODEL)
    assert restored.target.tenant_id == DEFAULT_TENANT and not restored.target.create
    assert restored.counts == report.counts
    assert everything(target, DEFAULT_TENANT) == before  # every column of every row, embeddings bit for bit

    assert failures(verify.verify(db, embedder, archive, samples=3)) == []
    assert failures(verify.verify(target, embedder, archive, samples=3)) == []
    again = Report()  # the restored store remembers its imports: importing the same documents changes nothing
    restored_store = stores.get(target, DEFAULT_TENANT, source["imported"])
    jsondocs.import_json(
        _importing(target, restored_store, embedder, chunker),
        Path(source["folder"]),
        jsondocs.Fields(),
        again,
        Silent(),
    )
    assert (again.imported, again.replaced, again.unchanged) == (0, 0, 3)
    for store_id in (source["handbook"], source["policies"]):
        for ranker in ("dense", "hybrid", "lexical"):
            assert results(target, remembering, DEFAULT_TENANT, store_id, ranker) == results(
                db, embedder, DEFAULT_TENANT, store_id, ranker
            )
    for row in before["files"]:
        assert files.read_bytes(target, DEFAULT_TENANT, row["id"]) == files.read_bytes(db, DEFAULT_TENANT, row["id"])


def test_conversations_and_feedback_come_back_citing_the_restored_chunks(db, embedder, source, target, tmp_path):
    archive = tmp_path / "tenant.zip"
    dump.backup(db, dump.resolve_scope(db, DEFAULT_TENANT), archive)
    load.restore(target, archive, MODEL, tenant="acme")
    tenant_id = next(t["id"] for t in _tenants(target) if t["name"] == "acme")

    original = conversations.export(db, DEFAULT_TENANT)["conversations"]
    copied = conversations.export(target, tenant_id)["conversations"]
    assert _without_chunk_ids(copied) == _without_chunk_ids(original)
    assert [item["feedback"]["comment"] for c in copied for item in c["items"] if item.get("feedback")] == [
        "good",
        "good",
        "good",
        "vague",
    ]
    cited = [p for c in copied for item in c["items"] for p in item.get("context_used") or []]
    assert cited
    with target.tenant(tenant_id) as conn:
        for passage in cited:
            chunk = int(passage["chunk_id"].removeprefix("chunk_"))
            row = conn.execute("SELECT file_id, text FROM chunks WHERE id = %s", (chunk,)).fetchone()
            assert (row["file_id"], row["text"]) == (passage["file_id"], passage["excerpt"])
    dataset = training.find_dataset(target, tenant_id, "support v1")
    assert dataset.example_count == 3
    assert list(training.export(target, tenant_id, dataset.id, "chat")) == list(
        training.export(db, DEFAULT_TENANT, training.find_dataset(db, DEFAULT_TENANT, "support v1").id, "chat")
    )


def test_a_store_archive_restores_under_a_new_name_and_after_its_deletion(db, embedder, remembering, source, tmp_path):
    handbook = stores.get(db, DEFAULT_TENANT, source["handbook"])
    archive = tmp_path / "store.zip"
    report = dump.backup(db, dump.resolve_scope(db, None, ["handbook"]), archive)
    assert report.counts["vector_stores"] == 1 and report.counts["files"] == len(corpus())
    assert "conversations" not in report.counts  # a store archive holds no chat data
    assert failures(verify.verify(db, embedder, archive, samples=3)) == []
    before = results(db, remembering, DEFAULT_TENANT, handbook.id, "dense")

    stores.delete(db, DEFAULT_TENANT, handbook.id)  # the files stay: restore shares them
    restored = load.restore(db, archive, MODEL, store_name="handbook again")
    assert restored.shared_files == len(corpus()) and restored.counts["chunks"] == report.counts["chunks"]
    assert stores.get(db, DEFAULT_TENANT, handbook.id).name == "handbook again"
    assert results(db, remembering, DEFAULT_TENANT, handbook.id, "dense") == before
    assert failures(verify.verify(db, embedder, archive, samples=3)) == []


def test_restoring_twice_is_refused_and_writes_nothing(db, embedder, source, target, tmp_path):
    archive = tmp_path / "tenant.zip"
    dump.backup(db, dump.resolve_scope(db, DEFAULT_TENANT), archive)
    load.restore(target, archive, MODEL)
    before = everything(target, DEFAULT_TENANT)
    with pytest.raises(
        ArchiveConflict, match=r"has objects of this archive already \(vector store vs_.*nothing was restored"
    ):
        load.restore(target, archive, MODEL)
    assert everything(target, DEFAULT_TENANT) == before


def test_a_tampered_archive_is_refused_and_nothing_is_written(db, embedder, source, target, tmp_path):
    archive = tmp_path / "tenant.zip"
    dump.backup(db, dump.resolve_scope(db, DEFAULT_TENANT), archive)
    member = f"files/{_first_file(archive)}"

    rewritten = tmp_path / "rewritten.zip"  # one byte changed in a member, the zip itself valid
    with zipfile.ZipFile(archive) as original, zipfile.ZipFile(rewritten, "w") as copy:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == member:
                data = bytes([data[0] ^ 1]) + data[1:]
            copy.writestr(info, data)
    flipped = tmp_path / "flipped.zip"  # one byte changed in the archive file, inside a stored member's data
    raw = bytearray(archive.read_bytes())
    raw[_data_offset(archive, f"embeddings/{source['handbook']}.npy") + 1000] ^= 1
    flipped.write_bytes(bytes(raw))

    empty = everything(target, DEFAULT_TENANT)
    with pytest.raises(ArchiveDamaged, match=rf"rewritten.zip is damaged: member {member} does not match its sha256"):
        load.restore(target, rewritten, MODEL, tenant="acme")
    with pytest.raises(ArchiveDamaged, match="flipped.zip is damaged"):
        load.restore(target, flipped, MODEL, tenant="acme")
    assert everything(target, DEFAULT_TENANT) == empty
    assert [t["name"] for t in _tenants(target)] == ["default"]  # acme was not created either
    assert verify.verify(db, embedder, rewritten, samples=3)[0].status == "fail"


def test_foreign_and_newer_archives_get_clear_errors(db, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ArchiveError, match="not a zip file"):
        load.restore(db, tmp_path / "notes.txt", MODEL)
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as other:
        other.writestr("data.csv", "a,b\n")
    with pytest.raises(ArchiveError, match="other.zip is not a ragstore archive \\(it has no manifest.json\\)"):
        load.restore(db, tmp_path / "other.zip", MODEL)
    with zipfile.ZipFile(tmp_path / "newer.zip", "w") as newer:
        newer.writestr("manifest.json", json.dumps({"format": "ragstore-archive", "format_version": 3}))
    with pytest.raises(ArchiveError, match="format version 3.*this ragstore reads version 2"):
        load.restore(db, tmp_path / "newer.zip", MODEL)


def test_another_embedding_model_is_refused(db, embedder, source, tmp_path):
    archive = tmp_path / "store.zip"
    dump.backup(db, dump.resolve_scope(db, None, ["policies"]), archive)
    with pytest.raises(InvalidRequest, match="holds all-MiniLM-L6-v2 embeddings \\(384-d\\), but this ragstore embeds"):
        load.restore(db, archive, ("text-embedding-3-small", 384), tenant="elsewhere")
    assert [t["name"] for t in _tenants(db)] == ["default"]


def test_verify_explains_a_file_deleted_after_the_backup(db, embedder, source, tmp_path):
    archive = tmp_path / "store.zip"
    dump.backup(db, dump.resolve_scope(db, None, [source["handbook"]]), archive)
    gone = next(d for d in corpus() if d.filename == "coffee.txt")
    file_id = next(
        row["file_id"] for row in _attachments(db, source["handbook"]) if _filename(db, row["file_id"]) == gone.filename
    )
    files.delete(db, DEFAULT_TENANT, file_id)

    checks = {check.name: check for check in verify.verify(db, embedder, archive, samples=3)}
    assert checks["count files"].status == "fail"
    assert checks["count files"].detail == f"8 in the archive, 7 live; missing live: {file_id} (coffee.txt)"
    assert checks["files"].detail == f"{file_id} (coffee.txt) is missing"
    assert checks[f"chunks {source['handbook']}"].detail.startswith(f"1 missing live ({file_id} chunk 0)")
    assert checks["archive"].status == "pass"


def test_a_failed_backup_leaves_no_file(db, embedder, source, tmp_path):
    archive = tmp_path / "broken.zip"

    def failing(**options):
        if options["desc"].startswith("chunks"):
            raise RuntimeError("disk full")
        return _Quiet()

    with pytest.raises(RuntimeError, match="disk full"):
        dump.backup(db, dump.resolve_scope(db, DEFAULT_TENANT), archive, progress=failing)
    assert list(tmp_path.iterdir()) == []


class _Quiet:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def update(self, n=1):
        return None


def _tenants(db: Database) -> list[dict]:
    with db.connection() as conn:
        return conn.execute("SELECT id, name FROM tenants ORDER BY name").fetchall()


def _attachments(db: Database, store_id: str) -> list[dict]:
    with db.tenant(DEFAULT_TENANT) as conn:
        return conn.execute("SELECT file_id FROM vector_store_files WHERE vector_store_id = %s", (store_id,)).fetchall()


def _filename(db: Database, file_id: str) -> str:
    return files.get(db, DEFAULT_TENANT, file_id).filename


def _first_file(archive: Path) -> str:
    with zipfile.ZipFile(archive) as opened:
        return json.loads(opened.read("files.jsonl").splitlines()[0])["id"]


def _data_offset(archive: Path, name: str) -> int:
    """Where a member's data starts in the zip file: after its local header, name and extra field."""
    with zipfile.ZipFile(archive) as opened:
        start = opened.getinfo(name).header_offset
    with archive.open("rb") as raw:
        raw.seek(start)
        name_length, extra_length = struct.unpack("<HH", raw.read(30)[26:30])
    return start + 30 + name_length + extra_length


def _without_chunk_ids(found):
    text = json.dumps(found, sort_keys=True, default=str)
    return json.loads(re.sub(r'"chunk_id": "chunk_\d+"', '"chunk_id": ""', text))


def test_a_re_embedded_store_is_archived_in_its_active_space(db, embedder, chunker, source, tmp_path, target):
    store_id = source["policies"]
    with embeddings_server(embedder) as remote:
        space = reembed.start(
            db, DEFAULT_TENANT, store_id, reembed.NewModel(remote.model, remote.dimension, remote.url), embedder
        )
        reembed.build(
            db, DEFAULT_TENANT, space, spaces.embedder_for(embedder, remote.model, remote.dimension, space), chunker
        )
        reembed.switch(db, DEFAULT_TENANT, store_id)
        archive = tmp_path / "switched.zip"
        report = dump.backup(db, dump.resolve_scope(db, None, [store_id]), archive)
        manifest = json.loads(zipfile.ZipFile(archive).read("manifest.json"))
        assert manifest["embedding"]["models"] == [{"model": remote.model, "dimension": 512}]
        with zipfile.ZipFile(archive) as opened:
            vectors = np.load(io.BytesIO(opened.read(f"embeddings/{store_id}.npy")))
        assert vectors.shape == (report.counts["chunks"], 512) and vectors.dtype == np.dtype("<f2")
        assert failures(verify.verify(db, embedder, archive, samples=2)) == []
        space = manifest["vector_stores"][store_id]["space"]
        assert (space["provider_id"], space["model"], space["dimension"], space["base_url"]) == (
            None,
            remote.model,
            512,
            remote.url,
        )
        load.restore(target, archive, MODEL)  # into a 512-d space of its own, embedded by the same URL
        assert failures(verify.verify(target, embedder, archive, samples=2)) == []


def test_a_file_still_in_progress_is_restored_as_failed(db, embedder, source, target, tmp_path):
    store = stores.get(db, DEFAULT_TENANT, source["handbook"])
    waiting = files.upload(db, DEFAULT_TENANT, "late.txt", io.BytesIO(b"Lockers are emptied every Friday evening."))
    ingestion.create_batch(db, DEFAULT_TENANT, store, [waiting.id], AUTO)  # no worker runs it
    archive = tmp_path / "store.zip"
    dump.backup(db, dump.resolve_scope(db, None, [store.id]), archive)
    load.restore(target, archive, MODEL)
    attached = vector_store_files.get(target, DEFAULT_TENANT, store.id, waiting.id)
    assert (attached.status, attached.last_error_code) == ("failed", "server_error")
    assert attached.last_error_message.startswith("It was still being processed when the archive was made")


def test_exact_search_and_comparison_with_ties():
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((1000, 384)).astype(np.float16)
    queries = rng.standard_normal((3, 384)).astype(np.float32)
    blocks = [vectors[i : i + 97] for i in range(0, 1000, 97)]
    found = searches.exact_top(blocks, queries, 5)
    q16 = queries.astype(np.float16).astype(np.float32)
    v32 = vectors.astype(np.float32)
    cosines = (q16 @ v32.T) / np.linalg.norm(q16, axis=1)[:, None] / np.linalg.norm(v32, axis=1)[None, :]
    for row, top in zip(cosines, found, strict=True):
        assert [r for r, _ in top] == list(np.argsort(-row, kind="stable")[:5])
        assert np.allclose([s for _, s in top], np.sort(row)[::-1][:5], atol=1e-6)

    a, b, c = ("file-a", 0), ("file-b", 0), ("file-c", 0)
    expected = [(a, 0.9), (b, 0.8), (c, 0.8), (("file-d", 0), 0.1)]
    assert searches.compare([(a, 0.9), (c, 0.8), (b, 0.8)], expected, 3) is None  # a tie, either order
    assert searches.compare([(a, 0.9), (b, 0.8)], expected, 3) == "2 results instead of 3"
    assert searches.compare([(b, 0.8), (a, 0.9), (c, 0.8)], expected, 3) == "rank 1 scored 0.8000 instead of 0.9000"
    assert searches.compare([(a, 0.9), (b, 0.8), (("file-d", 0), 0.8)], expected, 3) == (
        "rank 3 is file-d chunk 0 instead of file-c chunk 0"
    )
