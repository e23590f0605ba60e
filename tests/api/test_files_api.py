"""Files through the official SDK: upload, list with pagination, retrieve, download, delete."""

from __future__ import annotations

import io

import openai
import pytest


def upload(client, name: str, data: bytes, purpose: str = "assistants"):
    return client.files.create(file=(name, io.BytesIO(data)), purpose=purpose)


def test_upload_retrieve_download_delete(client):
    data = b"Lunch is served from noon until two.\n" * 1000
    created = upload(client, "lunch.txt", data)
    assert created.id.startswith("file-") and created.bytes == len(data) and created.filename == "lunch.txt"
    assert created.purpose == "assistants" and created.status == "processed" and created._request_id
    assert client.files.retrieve(created.id).model_dump() == created.model_dump()
    assert client.files.content(created.id).read() == data
    deleted = client.files.delete(created.id)
    assert (deleted.id, deleted.deleted) == (created.id, True)
    with pytest.raises(openai.NotFoundError) as caught:
        client.files.retrieve(created.id)
    assert caught.value.body["code"] == "not_found" and created.id in caught.value.body["message"]


@pytest.mark.parametrize("purpose", ["assistants", "batch", "fine-tune", "vision", "user_data", "evals"])
def test_every_purpose_is_accepted(client, purpose):
    assert upload(client, "p.txt", b"x", purpose).purpose == purpose


def test_expires_after_sets_expires_at(client):
    created = client.files.create(
        file=("e.txt", io.BytesIO(b"soon gone")),
        purpose="assistants",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    assert created.expires_at == created.created_at + 3600 or created.expires_at == created.created_at + 3601


def test_bad_purpose_and_bounds_are_bad_requests(client):
    with pytest.raises(openai.BadRequestError):
        upload(client, "x.txt", b"x", purpose="nonsense")
    with pytest.raises(openai.BadRequestError):
        client.files.create(
            file=("x.txt", io.BytesIO(b"x")),
            purpose="assistants",
            expires_after={"anchor": "created_at", "seconds": 10},
        )


def test_an_oversize_upload_is_refused_and_leaves_nothing(client, api):
    before = {f.id for f in client.files.list()}
    with pytest.raises(openai.APIStatusError) as caught:
        upload(client, "big.bin", b"\0" * (api.settings.max_upload_bytes + 1))
    assert caught.value.status_code == 413
    assert {f.id for f in client.files.list()} == before


def test_list_pages_in_both_orders_and_filters_by_purpose(client):
    ids = [upload(client, f"page{i}.txt", b"p", "user_data").id for i in range(5)]
    newest_first = [f.id for f in client.files.list(purpose="user_data", limit=2)]  # auto-pagination
    assert newest_first == ids[::-1]
    first = client.files.list(purpose="user_data", limit=2, order="asc")
    assert [f.id for f in first.data] == ids[:2] and first.has_more
    assert [f.id for f in first] == ids  # the SDK follows `after` across pages
    assert all(f.purpose == "user_data" for f in client.files.list(purpose="user_data"))


def test_without_a_valid_key_nothing_is_served(api):
    anonymous = openai.OpenAI(base_url=f"{api.url}/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        anonymous.files.list()
    assert caught.value.body["code"] == "invalid_api_key"


def test_expired_files_are_deleted_by_housekeeping(client, api):
    from ragstore.worker import housekeeping

    keep = upload(client, "keep.txt", b"stays")
    gone = client.files.create(
        file=("gone.txt", io.BytesIO(b"goes")),
        purpose="assistants",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    with api.app.state.runtime.db.connection() as conn:
        conn.execute("UPDATE files SET expires_at = now() - interval '1 second' WHERE id = %s", (gone.id,))
    housekeeping(api.app.state.runtime.db)()
    assert {f.id for f in client.files.list()} == {keep.id}
