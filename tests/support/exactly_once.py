"""Nothing lost, nothing twice: what the fault tests check once a batch has finished after a fault.

Through the SDK: the batch's and the store's file_counts are exact, and the store lists each file once, completed.
In PostgreSQL: each file has exactly the chunks the chunker makes of it (no duplicates, no gaps), no chunk lacks a
completed attachment, and `ragstore check`'s own findings are empty.
"""

from __future__ import annotations

from openai import OpenAI
from openai.types.vector_stores.vector_store_file_batch import FileCounts

from ragstore.ingest import parse
from ragstore.ingest.chunk import AUTO, Chunker
from ragstore.models import DEFAULT_TENANT
from ragstore.service import integrity
from ragstore.store.db import Database

# Chunks whose file is not a completed attachment of their store: search would return what nobody can see.
ORPHAN_CHUNKS = """
SELECT count(*) AS n FROM chunks c
WHERE NOT EXISTS (
    SELECT 1 FROM vector_store_files f
    WHERE f.tenant_id = c.tenant_id AND f.vector_store_id = c.vector_store_id AND f.file_id = c.file_id
      AND f.status = 'completed'
)
"""

PER_FILE = """
SELECT file_id, count(*) AS n, count(DISTINCT chunk_index) AS distinct_n, min(chunk_index) AS low,
       max(chunk_index) AS high
FROM chunks WHERE vector_store_id = %(store)s GROUP BY file_id
"""


def check_counts(client: OpenAI, store_id: str, batch_id: str, file_ids: list[str]) -> None:
    """Every file of the batch completed, once; the batch's and the store's file_counts say exactly that."""
    exact = FileCounts(cancelled=0, completed=len(file_ids), failed=0, in_progress=0, total=len(file_ids))
    batch = client.vector_stores.file_batches.retrieve(batch_id, vector_store_id=store_id)
    assert (batch.status, batch.file_counts) == ("completed", exact)
    store = client.vector_stores.retrieve(store_id)
    assert (store.status, store.file_counts.model_dump()) == ("completed", exact.model_dump())
    listed = [f for f in client.vector_stores.files.list(store_id, limit=100)]
    assert sorted(f.id for f in listed) == sorted(file_ids)
    assert {f.status for f in listed} == {"completed"}
    in_batch = client.vector_stores.file_batches.list_files(batch_id, vector_store_id=store_id, limit=100)
    assert sorted(f.id for f in in_batch) == sorted(file_ids)


def check_chunks(db: Database, chunker: Chunker, store_id: str, documents: dict[str, tuple[str, bytes]]) -> None:
    """documents: file id -> (filename, bytes). Each has exactly its chunks in the store; nothing is orphaned."""
    expected = {
        file_id: len(chunker.chunk(parse.parse(name, data), AUTO)) for file_id, (name, data) in documents.items()
    }
    with db.connection() as conn:
        per_file = conn.execute(PER_FILE, {"store": store_id}).fetchall()
        orphans = conn.execute(ORPHAN_CHUNKS).fetchone()["n"]
    assert {row["file_id"]: row["n"] for row in per_file} == expected
    assert all(row["n"] == row["distinct_n"] == row["high"] + 1 and row["low"] == 0 for row in per_file)
    assert orphans == 0
    findings = integrity.check(db, DEFAULT_TENANT)
    assert findings.clean, findings.problems
