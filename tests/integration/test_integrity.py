"""`ragstore check`: each kind of problem, injected with SQL as the tables' owner, is found and explained, and
`--repair` fixes it; a clean store (ingested, or imported without jobs) is reported clean."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.rows import dict_row

from ragstore.importers import csvrows, jsondocs
from ragstore.importers.common import Report, Silent
from ragstore.importers.records import Destination
from ragstore.ingest.chunk import AUTO
from ragstore.models import DEFAULT_TENANT
from ragstore.service import integrity, search, stores, tenants
from ragstore.worker import Worker, ingestion_tasks
from tests.support.documents import corpus
from tests.support.ingesting import ingest


@pytest.fixture
def owner(database_url):
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        yield conn


def _file_ids(owner) -> dict[str, str]:
    rows = owner.execute("SELECT v.file_id, f.filename FROM vector_store_files v JOIN files f ON f.id = v.file_id")
    return {row["filename"]: row["file_id"] for row in rows}


def _best(db, embedder, store, query) -> str:
    hits = search.search(db, embedder, DEFAULT_TENANT, [store.id], query, k=1, ranker="dense")
    return hits[0].filename if hits else ""


def test_ingested_and_imported_stores_are_clean(db, embedder, chunker, tmp_path):
    store, _ = ingest(db, embedder, chunker, corpus())
    (tmp_path / "stats.csv").write_text("scenario,score\nGridshot,810\nTile Frenzy,95\n")
    (tmp_path / "docs.jsonl").write_text('{"id": "a", "text": "Lunch is at noon."}\n')
    imported = stores.create(db, DEFAULT_TENANT, embedder, "imported")
    target = Destination(db, DEFAULT_TENANT, imported, embedder, chunker, None)
    csvrows.import_csv(target, tmp_path / "stats.csv", csvrows.Columns(), Report(), Silent())
    target = Destination(db, DEFAULT_TENANT, imported, embedder, chunker, AUTO)
    jsondocs.import_json(target, tmp_path / "docs.jsonl", jsondocs.Fields(), Report(), Silent())

    findings = integrity.check(db, DEFAULT_TENANT)
    assert findings.clean, findings.problems
    assert findings.totals == {"stores": 2, "files": len(corpus()) + 3, "chunks": len(corpus()) + 1 + 3}


def test_each_problem_is_found_explained_and_repaired(db, owner, embedder, chunker):
    store, _ = ingest(db, embedder, chunker, corpus())
    ids = _file_ids(owner)
    # The attachment deleted behind its foreign key's back (as a partial restore could): its chunks stay.
    owner.execute("SET session_replication_role = replica")
    owner.execute("DELETE FROM vector_store_files WHERE file_id = %s", (ids["gym.json"],))
    owner.execute("SET session_replication_role = origin")
    owner.execute("UPDATE vector_store_files SET status = 'failed' WHERE file_id = %s", (ids["laptops.jsonl"],))
    owner.execute("UPDATE vector_store_files SET status = 'in_progress' WHERE file_id = %s", (ids["remote.docx"],))
    owner.execute("DELETE FROM chunks WHERE file_id = %s", (ids["coffee.txt"],))
    owner.execute(
        "UPDATE vector_store_files SET chunk_count = 9, usage_bytes = 1 WHERE file_id = %s", (ids["parking.html"],)
    )
    new_text = "The staff canteen now serves a free breakfast every Tuesday morning."
    owner.execute("UPDATE chunks SET text = %s WHERE file_id = %s", (new_text, ids["account.md"]))
    owner.execute(
        "UPDATE chunks SET embedding = array_fill(0.01::real, ARRAY[384])::halfvec WHERE file_id = %s",
        (ids["offices.csv"],),
    )

    findings = integrity.check(db, DEFAULT_TENANT)
    found = {(p.kind, p.filename): p.detail for p in findings.problems}
    assert found == {
        ("orphan_chunks", "gym.json"): "1 chunk of an attachment that no longer exists",
        ("orphan_chunks", "laptops.jsonl"): "1 chunk of a failed attachment",
        ("orphan_chunks", "remote.docx"): "1 chunk of an in-progress attachment",
        ("stale_embeddings", "account.md"): "1 chunk (index 0): text changed since embedded",
        ("stale_embeddings", "offices.csv"): "1 chunk (index 0): embedding not a unit vector",
        ("count_mismatches", "account.md"): found[("count_mismatches", "account.md")],
        ("count_mismatches", "parking.html"): found[("count_mismatches", "parking.html")],
        ("empty_files", "coffee.txt"): "completed with 0 chunks",
        ("stuck_files", "remote.docx"): "in progress without a job",
    }
    assert found[("count_mismatches", "parking.html")].startswith("chunk_count 9, actually 1; usage_bytes 1, actually")
    assert found[("count_mismatches", "account.md")].startswith("usage_bytes ")  # the text changed length

    repairs = integrity.repair(db, embedder, chunker, findings)
    Worker(db, ingestion_tasks(db, embedder, chunker)).drain()
    assert (repairs.deleted_chunks, repairs.reembedded_chunks, repairs.recounted_files) == (3, 2, 3)
    assert (repairs.requeued_files, repairs.skipped) == (2, [])
    assert integrity.check(db, DEFAULT_TENANT).clean

    assert _best(db, embedder, store, "is there free breakfast on some weekday?") == "account.md"
    assert _best(db, embedder, store, "who cleans the espresso maker, and how often?") == "coffee.txt"
    assert _best(db, embedder, store, "how many days a week can I telecommute?") == "remote.docx"
    assert _best(db, embedder, store, "what time does the Lisbon branch open in the morning?") == "offices.csv"
    assert _best(db, embedder, store, "is there a fitness centre I can use late in the evening?") != "gym.json"


def test_a_check_sees_only_its_own_tenant(db, owner, embedder, chunker):
    acme = tenants.create_tenant(db, "acme")
    ingest(db, embedder, chunker, corpus()[:2], tenant_id=acme.id)
    ingest(db, embedder, chunker, corpus()[:2])
    owner.execute("UPDATE vector_store_files SET chunk_count = 7 WHERE tenant_id = %s", (acme.id,))

    assert integrity.check(db, DEFAULT_TENANT).clean
    theirs = integrity.check(db, acme.id)
    assert [p.kind for p in theirs.problems] == ["count_mismatches"] * 2
    integrity.repair(db, embedder, chunker, theirs)
    assert integrity.check(db, acme.id).clean


@pytest.mark.parametrize("damage", ["orphan", "stale"])
def test_a_repair_changes_the_store_fingerprint_the_query_cache_keys_on(db, owner, embedder, chunker, damage):
    store, _ = ingest(db, embedder, chunker, corpus())
    ids = _file_ids(owner)
    if damage == "orphan":
        owner.execute("UPDATE vector_store_files SET status = 'failed' WHERE file_id = %s", (ids["laptops.jsonl"],))
    else:
        owner.execute("UPDATE chunks SET text = 'A changed text.' WHERE file_id = %s", (ids["account.md"],))
    before = stores.get(db, DEFAULT_TENANT, store.id).content_fingerprint
    integrity.repair(db, embedder, chunker, integrity.check(db, DEFAULT_TENANT))
    assert stores.get(db, DEFAULT_TENANT, store.id).content_fingerprint != before


def test_the_same_bytes_attached_twice_are_duplicates_and_the_identical_copies_detached(db, embedder, chunker):
    first, second = corpus()[:2]
    store, _ = ingest(db, embedder, chunker, [first, second])
    ingest(db, embedder, chunker, [first, second], store=store)  # an ingest run twice
    ingest(db, embedder, chunker, [first], store=store, attributes={"team": "support"})  # meant to differ, maybe

    findings = integrity.check(db, DEFAULT_TENANT)
    duplicates = findings.of_kind("duplicate_files")
    assert sorted(p.filename for p in duplicates) == sorted([first.filename, first.filename, second.filename])
    assert [p.kind for p in findings.problems] == ["duplicate_files"] * 3
    differing = [p for p in duplicates if not p.same_as_first]
    assert len(differing) == 1 and differing[0].detail.endswith(
        "chunked or attributed differently: not detached by --repair"
    )
    hits = search.search(db, embedder, DEFAULT_TENANT, [store.id], second.question, k=10, ranker="dense")
    assert [hit.filename for hit in hits].count(second.filename) == 2  # each passage once per copy

    repairs = integrity.repair(db, embedder, chunker, findings)
    assert repairs.detached_files == 2 and len(repairs.skipped) == 1
    after = integrity.check(db, DEFAULT_TENANT)
    assert [p.file_id for p in after.problems] == [differing[0].file_id]
    hits = search.search(db, embedder, DEFAULT_TENANT, [store.id], second.question, k=10, ranker="dense")
    assert [hit.filename for hit in hits].count(second.filename) == 1
