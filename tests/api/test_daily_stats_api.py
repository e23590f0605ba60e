"""GET /v1/vector_stores/stats/daily: a tenant's files and storage per UTC day, from what is stored now."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import httpx

from tests.support.documents import corpus

HEADERS = {"Authorization": "Bearer sk-ragstore-test"}


def as_upload(document):
    return (document.filename, io.BytesIO(document.data))


def daily(api, **query) -> httpx.Response:
    return httpx.get(f"{api.url}/v1/vector_stores/stats/daily", headers=HEADERS, params=query)


def test_days_hold_uploads_and_running_totals(client, api):
    store = client.vector_stores.create(name="history")
    old, new = corpus()[0], corpus()[1]
    first = client.vector_stores.files.upload_and_poll(vector_store_id=store.id, file=as_upload(old))
    second = client.vector_stores.files.upload_and_poll(vector_store_id=store.id, file=as_upload(new))
    with api.app.state.runtime.db.connection() as conn:  # the first file came three days ago
        conn.execute("UPDATE files SET created_at = now() - interval '3 days' WHERE id = %s", (first.id,))
        conn.execute(
            "UPDATE vector_store_files SET created_at = now() - interval '3 days' WHERE file_id = %s", (first.id,)
        )

    body = daily(api, days=5).json()
    assert body["object"] == "vector_store.stats.daily"
    days = body["days"]
    today = datetime.now(UTC).date()
    assert [d["day"] for d in days] == [str(today - timedelta(days=n)) for n in range(4, -1, -1)]
    sizes = {f.id: client.files.retrieve(f.id).bytes for f in (first, second)}
    usage = {
        f.id: client.vector_stores.files.retrieve(f.id, vector_store_id=store.id).usage_bytes for f in (first, second)
    }
    assert [d["files_added"] for d in days] == [0, 1, 0, 0, 1]
    assert [d["files"] for d in days] == [0, 1, 1, 1, 2]
    assert days[1]["bytes_added"] == days[1]["file_bytes"] == sizes[first.id]
    assert days[4]["file_bytes"] == sum(sizes.values())
    assert [d["usage_bytes"] for d in days] == [0, *[usage[first.id]] * 3, sum(usage.values())]
    assert len(daily(api).json()["days"]) == 30  # the default


def test_days_out_of_range_get_the_error_envelope(api):
    for days in (0, 367, "many"):
        answer = daily(api, days=days)
        assert answer.status_code == 400, days
        assert answer.json()["error"]["param"] in ("days", "query.days"), answer.json()
