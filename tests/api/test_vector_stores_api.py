"""Vector stores, their files and batches through the official SDK, including its polling helpers."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

from ragstore.ingest import parse
from ragstore.ingest.chunk import ChunkingStrategy
from ragstore.worker import Worker, ingestion_tasks
from tests.support.documents import corpus, long_text


def as_upload(document):
    return (document.filename, io.BytesIO(document.data))


def test_create_retrieve_modify_delete(client):
    store = client.vector_stores.create(
        name="handbook", metadata={"team": "hr"}, expires_after={"anchor": "last_active_at", "days": 7}
    )
    assert store.id.startswith("vs_") and store.object == "vector_store" and store.status == "completed"
    assert store.metadata == {"team": "hr"} and store.expires_after.days == 7
    assert store.expires_at > store.created_at and store.file_counts.total == 0 and store.usage_bytes == 0
    assert client.vector_stores.retrieve(store.id).name == "handbook"
    renamed = client.vector_stores.update(store.id, name="policies")
    assert (renamed.name, renamed.metadata) == ("policies", {"team": "hr"})  # omitted: kept
    cleared = client.vector_stores.update(store.id, metadata=None, expires_after=None)
    assert (cleared.metadata, cleared.expires_at, cleared.name) == (None, None, "policies")  # null: cleared
    deleted = client.vector_stores.delete(store.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (store.id, "vector_store.deleted", True)
    with pytest.raises(openai.NotFoundError):
        client.vector_stores.retrieve(store.id)


def test_list_pages_both_ways(client):
    ids = [client.vector_stores.create(name=f"s{i}").id for i in range(5)]
    assert [s.id for s in client.vector_stores.list(limit=2)] == ids[::-1]  # auto-pagination, newest first
    assert [s.id for s in client.vector_stores.list(limit=2, order="asc")] == ids
    middle = client.vector_stores.list(limit=2, order="asc", after=ids[1])
    assert [s.id for s in middle.data] == ids[2:4] and middle.has_more and middle.first_id == ids[2]
    back = client.vector_stores.list(limit=2, order="asc", before=ids[4])
    assert [s.id for s in back.data] == ids[2:4] and back.has_more
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.list(after=ids[0], before=ids[4])


def test_listing_while_deleting_visits_everything(client):
    """The SDK's clean-up idiom: each page starts after a store deleted since."""
    made = {client.vector_stores.create(name=f"d{i}").id for i in range(5)}
    deleted = set()
    for store in client.vector_stores.list(limit=2):
        client.vector_stores.delete(store.id)
        deleted.add(store.id)
    assert deleted == made and client.vector_stores.list().data == []


def test_upload_and_poll_then_file_operations(client):
    document = corpus()[1]  # account.md
    store = client.vector_stores.create(name="kb")
    attached = client.vector_stores.files.upload_and_poll(vector_store_id=store.id, file=as_upload(document))
    assert attached.status == "completed" and attached.last_error is None and attached.usage_bytes > 0
    assert attached.chunking_strategy.type == "static"
    assert attached.chunking_strategy.static.max_chunk_size_tokens == 250
    content = client.vector_stores.files.content(file_id=attached.id, vector_store_id=store.id)
    assert "reset your password" in "".join(part.text for part in content)
    updated = client.vector_stores.files.update(
        file_id=attached.id, vector_store_id=store.id, attributes={"lang": "en", "year": 2024, "public": True}
    )
    assert updated.attributes == {"lang": "en", "year": 2024, "public": True}
    hits = client.vector_stores.search(
        store.id, query="forgot password", filters={"type": "eq", "key": "lang", "value": "en"}
    )
    assert hits.data and hits.data[0].attributes["year"] == 2024
    assert client.vector_stores.retrieve(store.id).file_counts.completed == 1
    detached = client.vector_stores.files.delete(file_id=attached.id, vector_store_id=store.id)
    assert detached.deleted and detached.object == "vector_store.file.deleted"
    assert client.files.retrieve(attached.id).id == attached.id  # detaching keeps the file
    assert client.vector_stores.search(store.id, query="forgot password").data == []


def test_a_bad_file_fails_alone_with_last_error(client):
    store = client.vector_stores.create(name="mixed")
    good = client.files.create(file=as_upload(corpus()[0]), purpose="assistants")
    bad = client.files.create(file=("tool.exe", io.BytesIO(b"MZ\x90\x00")), purpose="assistants")
    broken = client.files.create(file=("broken.pdf", io.BytesIO(b"%PDF-1.4 nope")), purpose="assistants")
    batch = client.vector_stores.file_batches.create_and_poll(
        vector_store_id=store.id, file_ids=[good.id, bad.id, broken.id]
    )
    assert (batch.file_counts.completed, batch.file_counts.failed, batch.file_counts.in_progress) == (1, 2, 0)
    assert batch.status == "completed"
    failed = {
        f.id: f
        for f in client.vector_stores.file_batches.list_files(
            batch_id=batch.id, vector_store_id=store.id, filter="failed"
        )
    }
    assert failed[bad.id].last_error.code == "unsupported_file"
    assert failed[broken.id].last_error.code == "invalid_file" and failed[broken.id].last_error.message


def test_batch_upload_and_poll_with_per_file_strategies(client):
    store = client.vector_stores.create(name="batch")
    documents = corpus()
    batch = client.vector_stores.file_batches.upload_and_poll(
        vector_store_id=store.id,
        files=[as_upload(d) for d in documents],
        chunking_strategy={"type": "static", "static": {"max_chunk_size_tokens": 120, "chunk_overlap_tokens": 20}},
    )
    assert batch.file_counts.completed == len(documents) and batch.file_counts.total == len(documents)
    listed = list(client.vector_stores.files.list(vector_store_id=store.id, limit=3))  # 3 pages
    assert len(listed) == len(documents)
    assert {f.chunking_strategy.static.max_chunk_size_tokens for f in listed} == {120}
    one = client.files.create(file=as_upload(documents[0]), purpose="assistants")
    two = client.files.create(file=as_upload(documents[1]), purpose="assistants")
    per_file = client.vector_stores.file_batches.create_and_poll(
        vector_store_id=store.id,
        files=[
            {"file_id": one.id, "attributes": {"kind": "one"}},
            {
                "file_id": two.id,
                "chunking_strategy": {
                    "type": "static",
                    "static": {"max_chunk_size_tokens": 300, "chunk_overlap_tokens": 0},
                },
            },
        ],
    )
    assert per_file.file_counts.completed == 2
    got = {
        f.id: f for f in client.vector_stores.file_batches.list_files(batch_id=per_file.id, vector_store_id=store.id)
    }
    assert got[one.id].attributes == {"kind": "one"} and got[two.id].attributes is None
    assert got[one.id].chunking_strategy.static.max_chunk_size_tokens == 250  # auto
    assert got[two.id].chunking_strategy.static.max_chunk_size_tokens == 300
    assert client.vector_stores.retrieve(store.id).file_counts.total == len(documents) + 2


def test_cancel_stops_pending_files_and_keeps_completed_ones(start_server):
    api = start_server(workers=0)  # nothing runs until this test drains the queue itself
    client = api.client()
    runtime = api.app.state.runtime
    drain = Worker(runtime.db, ingestion_tasks(runtime.db, runtime.embedder, runtime.chunker)).drain
    store = client.vector_stores.create(name="cancel")
    documents = corpus()
    ids = [client.files.create(file=as_upload(d), purpose="assistants").id for d in documents]
    first = client.vector_stores.file_batches.create(vector_store_id=store.id, file_ids=ids[:2])
    raw = client.vector_stores.file_batches.with_raw_response.retrieve(batch_id=first.id, vector_store_id=store.id)
    assert raw.headers["openai-poll-after-ms"] and raw.parse().status == "in_progress"
    drain()
    second = client.vector_stores.file_batches.create(vector_store_id=store.id, file_ids=ids[2:])
    cancelled = client.vector_stores.file_batches.cancel(batch_id=second.id, vector_store_id=store.id)
    assert cancelled.status == "cancelled"
    assert (cancelled.file_counts.cancelled, cancelled.file_counts.in_progress) == (len(ids) - 2, 0)
    drain()  # the cancelled files' jobs find nothing to do
    counts = client.vector_stores.retrieve(store.id).file_counts
    assert (counts.completed, counts.cancelled, counts.in_progress, counts.total) == (2, len(ids) - 2, 0, len(ids))
    found = {
        hit.file_id
        for hit in client.vector_stores.search(store.id, query=documents[2].question, max_num_results=50).data
    }
    assert found == set(ids[:2])


def test_deleting_a_file_removes_it_from_every_store(client):
    document = corpus()[0]
    file = client.files.create(file=as_upload(document), purpose="assistants")
    stores = [client.vector_stores.create(name=n, file_ids=[file.id]) for n in ("a", "b")]
    for store in stores:
        client.vector_stores.files.poll(file.id, vector_store_id=store.id)
        assert client.vector_stores.search(store.id, query=document.question).data
    client.files.delete(file.id)
    for store in stores:
        assert client.vector_stores.search(store.id, query=document.question).data == []
        assert client.vector_stores.retrieve(store.id).file_counts.total == 0


def test_not_found_and_bad_requests_use_the_error_envelope(client, api):
    with pytest.raises(openai.NotFoundError):
        client.vector_stores.files.retrieve(file_id="file-none", vector_store_id="vs_none")
    store = client.vector_stores.create(name="errors")
    with pytest.raises(openai.NotFoundError) as caught:
        client.vector_stores.files.create(vector_store_id=store.id, file_id="file-none")
    assert caught.value.body["param"] == "file_id"
    with pytest.raises(openai.NotFoundError):
        client.vector_stores.file_batches.retrieve(batch_id="vsfb_none", vector_store_id=store.id)
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.create(metadata={f"k{i}": "v" for i in range(17)})
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.create(
            chunking_strategy={"type": "static", "static": {"max_chunk_size_tokens": 50, "chunk_overlap_tokens": 0}}
        )
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.create(name="x", extra_body={"unknown_field": 1})
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.file_batches.create(vector_store_id=store.id, file_ids=[])
    raw = httpx.post(
        f"{api.url}/v1/vector_stores",
        content=b"{not json",
        headers={"Authorization": "Bearer sk-ragstore-test", "Content-Type": "application/json"},
    )
    assert raw.status_code == 400 and set(raw.json()["error"]) == {"message", "type", "param", "code"}
    assert raw.headers["x-request-id"]
    unknown = httpx.get(f"{api.url}/v1/nothing", headers={"Authorization": "Bearer sk-ragstore-test"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


def test_stats_and_health(client, api):
    store = client.vector_stores.create(name="stats")
    client.vector_stores.files.upload_and_poll(vector_store_id=store.id, file=as_upload(corpus()[0]))
    headers = {"Authorization": "Bearer sk-ragstore-test"}
    stats = httpx.get(f"{api.url}/v1/vector_stores/stats", headers=headers).json()
    assert (stats["vector_stores"], stats["files"], stats["files_by_status"]) == (1, 1, {"completed": 1})
    assert stats["usage_bytes"] == client.vector_stores.retrieve(store.id).usage_bytes > 0
    assert httpx.get(f"{api.url}/healthz").json()["status"] == "ok"


def test_use_pushes_expiry_along_with_last_active_at(client, api):
    store = client.vector_stores.create(name="ttl", expires_after={"anchor": "last_active_at", "days": 2})
    with api.app.state.runtime.db.connection() as conn:
        conn.execute(
            "UPDATE vector_stores SET last_active_at = now() - interval '1 day', "
            "expires_at = now() + interval '1 day' WHERE id = %s",
            (store.id,),
        )
    before = client.vector_stores.retrieve(store.id)
    client.vector_stores.search(store.id, query="anything")
    after = client.vector_stores.retrieve(store.id)
    assert after.last_active_at > before.last_active_at
    assert after.expires_at == pytest.approx(after.last_active_at + 2 * 86400, abs=2)


def test_reattaching_while_queued_uses_only_the_latest_strategy(start_server):
    api = start_server(workers=0)
    client = api.client()
    runtime = api.app.state.runtime
    drain = Worker(runtime.db, ingestion_tasks(runtime.db, runtime.embedder, runtime.chunker)).drain
    store = client.vector_stores.create(name="again")
    file = client.files.create(file=("long.txt", io.BytesIO(long_text(seed=5, words=900))), purpose="assistants")
    client.vector_stores.files.create(vector_store_id=store.id, file_id=file.id)
    static = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}}
    client.vector_stores.files.create(vector_store_id=store.id, file_id=file.id, chunking_strategy=static)
    assert drain() == 2  # the first attach's job finds the file attached again, and writes nothing
    attached = client.vector_stores.files.retrieve(file.id, vector_store_id=store.id)
    chunks = client.vector_stores.files.content(file_id=file.id, vector_store_id=store.id)
    expected = runtime.chunker.chunk(parse.parse("long.txt", long_text(seed=5, words=900)), ChunkingStrategy(100, 0))
    assert attached.status == "completed" and len(list(chunks)) == len(expected)


def test_concurrent_attaches_of_one_file_never_fail(client):
    store = client.vector_stores.create(name="race")
    file = client.files.create(file=as_upload(corpus()[0]), purpose="assistants")
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(
                lambda _: client.vector_stores.files.create(vector_store_id=store.id, file_id=file.id).status, range(8)
            )
        )
    assert set(results) <= {"in_progress", "completed"}
    done = client.vector_stores.files.poll(file.id, vector_store_id=store.id)
    assert done.status == "completed" and client.vector_stores.retrieve(store.id).file_counts.total == 1


def test_a_bad_file_id_leaves_no_store_behind(client):
    good = client.files.create(file=as_upload(corpus()[0]), purpose="assistants")
    with pytest.raises(openai.NotFoundError):
        client.vector_stores.create(name="partial", file_ids=[good.id, "file-nope"])
    assert client.vector_stores.list().data == []


@pytest.mark.parametrize("body", [{"name": "nul\u0000name"}, {"metadata": {"k": "v\u0000"}}])
def test_unstorable_text_is_a_bad_request_not_a_crash(client, body):
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.create(**body)


def test_cancelling_a_finished_batch_changes_nothing(client):
    store = client.vector_stores.create(name="done")
    file = client.files.create(file=as_upload(corpus()[0]), purpose="assistants")
    batch = client.vector_stores.file_batches.create_and_poll(vector_store_id=store.id, file_ids=[file.id])
    after = client.vector_stores.file_batches.cancel(batch_id=batch.id, vector_store_id=store.id)
    assert (after.status, after.file_counts.completed) == ("completed", 1)


def test_list_by_last_activity_pages_on_activity_then_id(client):
    ids = [client.vector_stores.create(name=f"s{i}").id for i in range(5)]
    client.vector_stores.update(ids[1], name="renamed")  # now the most recently active
    by_activity = {"order_by": "last_active_at"}
    expected = [ids[1], ids[4], ids[3], ids[2], ids[0]]
    assert [s.id for s in client.vector_stores.list(limit=2, extra_query=by_activity)] == expected  # every page
    middle = client.vector_stores.list(limit=2, after=ids[4], extra_query=by_activity)
    assert [s.id for s in middle.data] == [ids[3], ids[2]] and middle.has_more
    back = client.vector_stores.list(limit=2, order="asc", before=ids[1], extra_query=by_activity)
    assert [s.id for s in back.data] == [ids[3], ids[4]] and back.has_more
    assert [s.id for s in client.vector_stores.list(limit=5)] == ids[::-1]  # the default order is unchanged
    with pytest.raises(openai.BadRequestError) as caught:
        client.vector_stores.list(after="vs_none", extra_query=by_activity)
    assert caught.value.body["param"] == "after"
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.list(extra_query={"order_by": "name"})
