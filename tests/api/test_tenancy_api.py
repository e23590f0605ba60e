"""Two companies on one server: B can neither read, list, search, modify nor delete A's objects, even by id."""

from __future__ import annotations

import io
import time

import httpx
import openai
import pytest

from tests.support.documents import corpus

ADMIN = "admin-secret"


def admin(api, method: str, path: str, **kwargs) -> httpx.Response:
    return httpx.request(method, f"{api.url}/v1/admin{path}", headers={"Authorization": f"Bearer {ADMIN}"}, **kwargs)


def tenant_client(api, name: str) -> openai.OpenAI:
    assert admin(api, "POST", "/tenants", json={"name": name}).status_code == 200
    key = admin(api, "POST", f"/tenants/{name}/api_keys", json={"name": "test"}).json()["key"]
    return openai.OpenAI(base_url=f"{api.url}/v1", api_key=key, max_retries=0)


@pytest.fixture
def companies(start_server):
    api = start_server(admin_key=ADMIN, api_key=None)
    a, b = tenant_client(api, "acme"), tenant_client(api, "globex")
    document = corpus()[1]
    file = a.files.create(file=(document.filename, io.BytesIO(document.data)), purpose="assistants")
    store = a.vector_stores.create(name="acme-kb")
    attached = a.vector_stores.files.create_and_poll(
        vector_store_id=store.id, file_id=file.id, attributes={"owner": "acme"}
    )
    other = a.files.create(file=("other.txt", io.BytesIO(corpus()[0].data)), purpose="assistants")
    batch = a.vector_stores.file_batches.create_and_poll(vector_store_id=store.id, file_ids=[other.id])
    assert attached.status == "completed" and batch.file_counts.completed == 1
    return api, a, b, file, store, batch, document


def test_b_gets_404_for_each_of_a_objects(companies):
    api, a, b, file, store, batch, document = companies
    attempts = {
        "files.retrieve": lambda: b.files.retrieve(file.id),
        "files.content": lambda: b.files.content(file.id),
        "files.delete": lambda: b.files.delete(file.id),
        "vector_stores.retrieve": lambda: b.vector_stores.retrieve(store.id),
        "vector_stores.update": lambda: b.vector_stores.update(store.id, name="mine"),
        "vector_stores.delete": lambda: b.vector_stores.delete(store.id),
        "vector_stores.search": lambda: b.vector_stores.search(store.id, query=document.question),
        "files.create (attach)": lambda: b.vector_stores.files.create(
            vector_store_id=b.vector_stores.create(name="b").id, file_id=file.id
        ),
        "files.retrieve (store)": lambda: b.vector_stores.files.retrieve(file.id, vector_store_id=store.id),
        "files.update": lambda: b.vector_stores.files.update(file.id, vector_store_id=store.id, attributes={}),
        "files.content (store)": lambda: b.vector_stores.files.content(file_id=file.id, vector_store_id=store.id),
        "files.delete (store)": lambda: b.vector_stores.files.delete(file.id, vector_store_id=store.id),
        "files.list (store)": lambda: b.vector_stores.files.list(vector_store_id=store.id),
        "file_batches.retrieve": lambda: b.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id),
        "file_batches.cancel": lambda: b.vector_stores.file_batches.cancel(batch.id, vector_store_id=store.id),
        "file_batches.list_files": lambda: b.vector_stores.file_batches.list_files(batch.id, vector_store_id=store.id),
        "file_batches.create": lambda: b.vector_stores.file_batches.create(
            vector_store_id=store.id, file_ids=[file.id]
        ),
    }
    outcomes = {}
    for name, attempt in attempts.items():
        try:
            attempt()
            outcomes[name] = "served"
        except openai.NotFoundError:
            outcomes[name] = 404
    assert outcomes == dict.fromkeys(attempts, 404)
    assert file.id not in {f.id for f in b.files.list()}
    assert store.id not in {s.id for s in b.vector_stores.list()}
    # A's objects are untouched.
    assert a.vector_stores.retrieve(store.id).name == "acme-kb"
    assert a.vector_stores.files.retrieve(file.id, vector_store_id=store.id).attributes == {"owner": "acme"}
    assert a.vector_stores.search(store.id, query=document.question).data[0].file_id == file.id
    assert a.files.content(file.id).read() == document.data


def test_b_searching_its_own_store_never_sees_a_chunks(companies):
    api, a, b, file, store, batch, document = companies
    own = b.vector_stores.create(name="globex-kb")
    b.vector_stores.files.upload_and_poll(vector_store_id=own.id, file=("g.txt", io.BytesIO(corpus()[0].data)))
    hits = b.vector_stores.search(own.id, query=document.question, max_num_results=50).data
    assert hits and {hit.filename for hit in hits} == {"g.txt"}


def test_keys_are_required_shown_once_and_revocable(companies):
    api, a, b, *_ = companies
    anonymous = openai.OpenAI(base_url=f"{api.url}/v1", api_key="rs_unknown", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        anonymous.files.list()
    assert httpx.get(f"{api.url}/v1/files").status_code == 401
    keys = admin(api, "GET", "/api_keys", params={"tenant": "acme"}).json()["data"]
    assert len(keys) == 1 and "key" not in keys[0] and keys[0]["last_used_at"] is not None
    assert admin(api, "DELETE", f"/api_keys/{keys[0]['id']}").json()["revoked_at"] is not None
    with pytest.raises(openai.AuthenticationError):
        a.files.list()
    b.files.list()  # the other tenant's key still works


def test_a_key_revoked_through_another_process_is_refused_there_once_its_ttl_passed(start_server):
    # Two servers on one database, as two replicas: one remembers keys for a moment, the other not at all.
    remembering = start_server(admin_key=ADMIN, api_key=None, api_key_cache_seconds=0.5)
    looking_up = start_server(admin_key=ADMIN, api_key=None, api_key_cache_seconds=0)
    client = tenant_client(looking_up, "acme")
    auth = {"Authorization": f"Bearer {client.api_key}"}
    for api in (remembering, looking_up):
        assert httpx.get(f"{api.url}/v1/files", headers=auth).status_code == 200
    key_id = admin(looking_up, "GET", "/api_keys", params={"tenant": "acme"}).json()["data"][0]["id"]
    assert admin(looking_up, "DELETE", f"/api_keys/{key_id}").status_code == 200
    assert httpx.get(f"{looking_up.url}/v1/files", headers=auth).status_code == 401
    time.sleep(0.6)  # within its TTL the other server may still accept the key; never after
    assert httpx.get(f"{remembering.url}/v1/files", headers=auth).status_code == 401


def test_the_admin_api_needs_the_admin_key(companies):
    api, a, *_ = companies
    assert httpx.get(f"{api.url}/v1/admin/tenants").status_code == 401
    assert httpx.get(f"{api.url}/v1/admin/tenants", headers={"Authorization": f"Bearer {a.api_key}"}).status_code == 401
    names = {t["name"] for t in admin(api, "GET", "/tenants").json()["data"]}
    assert names == {"default", "acme", "globex"}
    assert admin(api, "POST", "/tenants", json={"name": "acme"}).status_code == 400
    answer = admin(api, "GET", "/stats")
    assert answer.status_code == 200, answer.text
    stats = answer.json()
    acme = next(t for t in stats["tenants"] if t["name"] == "acme")
    assert acme["chunks"] > 0 and acme["partition"].startswith("chunks_p") and len(stats["partitions"]) == 16
    assert acme["partition"] in {p["partition"] for p in stats["partitions"]}


def test_rate_limits_answer_429_with_retry_after(start_server):
    api = start_server(rate_limit_per_minute=3)
    client = api.client()
    for _ in range(3):
        client.files.list()
    with pytest.raises(openai.RateLimitError) as caught:
        client.files.list()
    assert int(caught.value.response.headers["retry-after"]) >= 1
    assert caught.value.body["code"] == "rate_limit_exceeded"
