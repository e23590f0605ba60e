"""/v1/conversations: create, read, update, delete, list by user with pagination, items in order, exports,
feedback and its aggregates, and isolation between tenants."""

from __future__ import annotations

import threading

import openai
import pytest

from ragstore.models import DEFAULT_TENANT, PageRequest
from ragstore.service import conversations
from tests.support.chat import Rest, make_store
from tests.support.documents import corpus


@pytest.fixture
def rest(client):
    return Rest(client)


def test_create_read_update_delete(rest):
    made = rest.post(
        "/conversations",
        {
            "user_id": "ana",
            "title": "Onboarding",
            "metadata": {"channel": "web"},
            "items": [
                {"type": "message", "role": "user", "content": "hello"},
                {"role": "assistant", "content": [{"type": "output_text", "text": "hi"}]},
            ],
        },
    )
    assert made["id"].startswith("conv_") and made["object"] == "conversation"
    assert (made["user_id"], made["title"], made["metadata"]) == ("ana", "Onboarding", {"channel": "web"})
    assert rest.get(f"/conversations/{made['id']}") == made

    renamed = rest.post(f"/conversations/{made['id']}", {"title": "Day one"})
    assert renamed["title"] == "Day one" and renamed["metadata"] == {"channel": "web"}
    cleared = rest.post(f"/conversations/{made['id']}", {"metadata": None})
    assert cleared["title"] == "Day one" and cleared["metadata"] is None and cleared["updated_at"] >= made["updated_at"]

    items = rest.get(f"/conversations/{made['id']}/items", order="asc")["data"]
    assert [(i["role"], i["content"][0]["text"]) for i in items] == [("user", "hello"), ("assistant", "hi")]
    assert all(i["id"].startswith("msg_") and i["context_used"] == [] for i in items)

    assert rest.delete(f"/conversations/{made['id']}") == {
        "id": made["id"],
        "object": "conversation.deleted",
        "deleted": True,
    }
    for call in (
        lambda: rest.get(f"/conversations/{made['id']}"),
        lambda: rest.delete(f"/conversations/{made['id']}"),
        lambda: rest.get(f"/conversations/{made['id']}/items"),
    ):
        with pytest.raises(openai.NotFoundError):
            call()


def test_an_empty_update_changes_nothing(rest, db):
    made = rest.post("/conversations", {"title": "kept"})
    before = conversations.get(db, DEFAULT_TENANT, made["id"])
    assert rest.post(f"/conversations/{made['id']}", {}) == made
    assert conversations.get(db, DEFAULT_TENANT, made["id"]) == before  # updated_at to the microsecond
    with pytest.raises(openai.NotFoundError):
        rest.post("/conversations/conv_missing", {})


def test_deleting_an_item_returns_the_conversation(rest):
    made = rest.post("/conversations", {"items": [{"role": "user", "content": f"m{i}"} for i in range(3)]})
    first, second, third = rest.get(f"/conversations/{made['id']}/items", order="asc")["data"]
    after = rest.delete(f"/conversations/{made['id']}/items/{second['id']}")
    assert after["object"] == "conversation" and after["id"] == made["id"]
    assert after["updated_at"] >= made["updated_at"]
    assert [i["id"] for i in rest.get(f"/conversations/{made['id']}/items")["data"]] == [third["id"], first["id"]]
    added = rest.post(f"/conversations/{made['id']}/items", {"items": [{"role": "user", "content": "m3"}]})
    assert [i["content"][0]["text"] for i in rest.pages(f"/conversations/{made['id']}/items", order="asc")] == [
        "m0",
        "m2",
        "m3",
    ]
    other = rest.post("/conversations", {})
    for path in (
        f"/conversations/{made['id']}/items/{second['id']}",  # gone already
        f"/conversations/{other['id']}/items/{added['data'][0]['id']}",  # not in that conversation
        f"/conversations/conv_missing/items/{first['id']}",
    ):
        with pytest.raises(openai.NotFoundError):
            rest.delete(path)


def test_concurrent_appends_get_positions_one_after_another(rest, db):
    conversation = rest.post("/conversations", {})["id"]
    threads, per_thread = 10, 3
    start = threading.Barrier(threads)
    failures = []

    def append(n: int) -> None:
        batch = [{"role": "user", "content": f"t{n} m{i}"} for i in range(per_thread)]
        start.wait()
        try:
            rest.post(f"/conversations/{conversation}/items", {"items": batch})
        except Exception as exc:  # noqa: BLE001 - reported below, in the test's thread
            failures.append(exc)

    workers = [threading.Thread(target=append, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []

    stored = conversations.messages(db, DEFAULT_TENANT, conversation, PageRequest(100, "asc")).items
    assert [m.position for m in stored] == list(range(1, threads * per_thread + 1))
    texts = [m.content for m in stored]
    for n in range(threads):
        first = texts.index(f"t{n} m0")
        assert texts[first : first + per_thread] == [f"t{n} m{i}" for i in range(per_thread)]


def test_list_by_user_pages_in_both_orders(rest):
    made = [
        rest.post("/conversations", {"user_id": "ana" if i % 3 else "bo", "title": f"c{i}"})["id"] for i in range(7)
    ]
    anas = [cid for i, cid in enumerate(made) if i % 3]
    assert [c["id"] for c in rest.pages("/conversations", user_id="ana", limit=2)] == anas[::-1]
    assert [c["id"] for c in rest.pages("/conversations", user_id="ana", limit=2, order="asc")] == anas
    assert [c["id"] for c in rest.pages("/conversations", limit=3, order="asc")] == made
    page = rest.get("/conversations", user_id="ana", limit=2, order="asc", before=anas[3])
    assert [c["id"] for c in page["data"]] == anas[1:3]


def test_items_append_in_order_and_page(rest):
    conversation = rest.post("/conversations", {})["id"]
    texts = [f"message {i}" for i in range(25)]
    for start in range(0, 25, 5):
        batch = [{"role": "user" if i % 2 == 0 else "assistant", "content": texts[i]} for i in range(start, start + 5)]
        added = rest.post(f"/conversations/{conversation}/items", {"items": batch})
        assert [i["content"][0]["text"] for i in added["data"]] == texts[start : start + 5]
    newest_first = [i["content"][0]["text"] for i in rest.pages(f"/conversations/{conversation}/items", limit=4)]
    assert newest_first == texts[::-1]
    in_order = [i["content"][0]["text"] for i in rest.pages(f"/conversations/{conversation}/items", order="asc")]
    assert in_order == texts
    with pytest.raises(openai.BadRequestError):
        rest.get(f"/conversations/{conversation}/items", after="msg_000000000000000000000000")


def test_bad_conversation_input_is_refused(rest):
    conversation = rest.post("/conversations", {})["id"]
    cases = [
        ("/conversations", {"items": [{"role": "robot", "content": "x"}]}),
        ("/conversations", {"items": [{"role": "user", "content": "   "}]}),
        ("/conversations", {"metadata": {"k": 1}}),
        ("/conversations", {"items": [{"role": "user", "content": "x"}] * 21}),
        ("/conversations", {"owner": "x"}),
        (f"/conversations/{conversation}/items", {"items": []}),
    ]
    for path, body in cases:
        with pytest.raises(openai.BadRequestError):
            rest.post(path, body)
    with pytest.raises(openai.BadRequestError) as failure:
        rest.get("/conversations/export")  # everyone's is the CLI's to export
    assert failure.value.body["param"] == "user_id" and "user_id" in failure.value.body["message"]


def test_feedback_export_and_aggregates(client, rest):
    store_id = make_store(client, corpus())
    document = corpus()[1]
    answers = [
        rest.post("/answers", {"question": document.question, "vector_store_ids": [store_id], "user_id": "ana"})
        for _ in range(3)
    ]
    ratings = [5, 3, 4]
    for answer, rating in zip(answers, ratings, strict=True):
        given = rest.post(
            f"/conversations/{answer['conversation_id']}/items/{answer['id']}/feedback",
            {"rating": 1, "comment": "first"},
        )
        again = rest.post(
            f"/conversations/{answer['conversation_id']}/items/{answer['id']}/feedback", {"rating": rating}
        )
        assert again["id"] == given["id"] and again["rating"] == rating and again["comment"] is None

    item = rest.get(f"/conversations/{answers[0]['conversation_id']}/items/{answers[0]['id']}")
    assert item["feedback"]["rating"] == 5
    listed = rest.get("/feedback", vector_store_id=store_id)["data"]
    assert sorted(f["rating"] for f in listed) == sorted(ratings)
    assert [f["rating"] for f in rest.get("/feedback", rating=4)["data"]] == [4]

    stats = rest.get("/feedback/stats")
    assert stats["by_vector_store"] == [
        {
            "vector_store_id": store_id,
            "count": 3,
            "mean_rating": 4.0,
            "ratings": {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1},
        }
    ]
    assert len(stats["by_day"]) == 1 and stats["by_day"][0]["count"] == 3 and stats["by_day"][0]["mean_rating"] == 4.0

    exported = rest.get("/conversations/export", user_id="ana")
    assert exported["object"] == "conversation.export" and len(exported["conversations"]) == 3
    assert {c["id"] for c in exported["conversations"]} == {a["conversation_id"] for a in answers}
    for conversation in exported["conversations"]:
        question, answer = conversation["items"]
        assert question["role"] == "user" and answer["role"] == "assistant" and answer["feedback"]["rating"] in ratings
        assert answer["context_used"] and "unused_context" in answer

    # A question can't be rated; nor can an answer through another conversation.
    with pytest.raises(openai.BadRequestError):
        rest.post(
            f"/conversations/{answers[0]['conversation_id']}/items/{answers[0]['question_id']}/feedback", {"rating": 5}
        )
    with pytest.raises(openai.NotFoundError):
        rest.post(f"/conversations/{answers[1]['conversation_id']}/items/{answers[0]['id']}/feedback", {"rating": 5})
    with pytest.raises(openai.BadRequestError):
        rest.post(f"/conversations/{answers[0]['conversation_id']}/items/{answers[0]['id']}/feedback", {"rating": 6})

    # Deleting a conversation deletes its feedback.
    rest.delete(f"/conversations/{answers[0]['conversation_id']}")
    assert sorted(f["rating"] for f in rest.get("/feedback")["data"]) == [3, 4]


def test_another_tenant_sees_none_of_it(start_server):
    from tests.api.test_tenancy_api import ADMIN, tenant_client

    api = start_server(admin_key=ADMIN, api_key=None)
    client_a = tenant_client(api, "acme")
    a, b = Rest(client_a), Rest(tenant_client(api, "globex"))
    conversation = a.post("/conversations", {"user_id": "ana", "items": [{"role": "user", "content": "secret"}]})
    item = a.get(f"/conversations/{conversation['id']}/items")["data"][0]
    store_id = make_store(client_a, corpus())
    answer = a.post("/answers", {"question": corpus()[1].question, "vector_store_ids": [store_id], "user_id": "ana"})
    answered_in = answer["conversation_id"]
    a.post(f"/conversations/{answered_in}/items/{answer['id']}/feedback", {"rating": 5})
    (example,) = a.get("/training_examples")["data"]
    a.post(f"/training_examples/{example['id']}", {"status": "approved"})
    dataset = a.post("/datasets", {"name": "acme-v1", "example_ids": [example["id"]]})

    attempts = [
        lambda: b.get(f"/conversations/{conversation['id']}"),
        lambda: b.post(f"/conversations/{conversation['id']}", {"title": "mine"}),
        lambda: b.post(f"/conversations/{conversation['id']}", {}),
        lambda: b.delete(f"/conversations/{conversation['id']}"),
        lambda: b.get(f"/conversations/{conversation['id']}/items"),
        lambda: b.post(f"/conversations/{conversation['id']}/items", {"items": [{"role": "user", "content": "x"}]}),
        lambda: b.get(f"/conversations/{conversation['id']}/items/{item['id']}"),
        lambda: b.delete(f"/conversations/{conversation['id']}/items/{item['id']}"),
        lambda: b.get(f"/conversations/{conversation['id']}/export"),
        lambda: b.post(f"/conversations/{answered_in}/items/{answer['id']}/feedback", {"rating": 1}),
        lambda: b.get(f"/training_examples/{example['id']}"),
        lambda: b.post(f"/training_examples/{example['id']}", {"status": "rejected"}),
        lambda: b.delete(f"/training_examples/{example['id']}"),
        lambda: b.post("/training_examples", {"message_id": answer["id"]}),
        lambda: b.get(f"/datasets/{dataset['id']}"),
        lambda: b.get(f"/datasets/{dataset['id']}/examples"),
        lambda: b.get(f"/datasets/{dataset['id']}/export"),
        lambda: b.post("/answers", {"question": "and?", "vector_store_ids": ["vs_b"], "conversation_id": answered_in}),
    ]
    for attempt in attempts:
        with pytest.raises(openai.NotFoundError):
            attempt()
    assert b.get("/conversations", user_id="ana")["data"] == []
    assert b.get("/conversations/export", user_id="ana")["conversations"] == []
    assert b.get("/feedback")["data"] == [] and b.get("/feedback", conversation_id=answered_in)["data"] == []
    stats = b.get("/feedback/stats")
    assert stats["by_vector_store"] == [] and stats["by_day"] == []
    assert (
        b.get("/training_examples")["data"] == []
        and b.post("/training_examples/collect", {"min_rating": 1})["data"] == []
    )
    assert b.get("/datasets")["data"] == []

    # A's things are as A left them.
    assert a.get(f"/conversations/{conversation['id']}")["title"] is None
    assert [i["content"][0]["text"] for i in a.get(f"/conversations/{conversation['id']}/items")["data"]] == ["secret"]
    assert a.get(f"/conversations/{answered_in}/items/{answer['id']}")["feedback"]["rating"] == 5
    assert a.get(f"/training_examples/{example['id']}")["status"] == "approved"
    assert a.get(f"/datasets/{dataset['id']}")["example_count"] == 1
    assert len(a.get(f"/conversations/{answered_in}/items")["data"]) == 2


def test_an_answer_without_a_question_can_be_rated_and_makes_no_example(rest):
    conversation = rest.post("/conversations", {"items": [{"role": "assistant", "content": "Welcome aboard!"}]})
    item = rest.get(f"/conversations/{conversation['id']}/items")["data"][0]
    given = rest.post(f"/conversations/{conversation['id']}/items/{item['id']}/feedback", {"rating": 5})
    assert given["rating"] == 5 and rest.get(f"/conversations/{conversation['id']}/items")["data"][0]["feedback"]
    assert [e for e in rest.pages("/training_examples") if e["message_id"] == item["id"]] == []
