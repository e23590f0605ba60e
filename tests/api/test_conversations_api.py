"""/v1/conversations: create, read, update, delete, list by user with pagination, items in order, exports,
feedback and its aggregates, and isolation between tenants."""

from __future__ import annotations

import openai
import pytest

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

    items = rest.get(f"/conversations/{made['id']}/items")["data"]
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
    listed = [i["content"][0]["text"] for i in rest.pages(f"/conversations/{conversation}/items", limit=4)]
    assert listed == texts
    backwards = [i["content"][0]["text"] for i in rest.pages(f"/conversations/{conversation}/items", order="desc")]
    assert backwards == texts[::-1]
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
    a, b = Rest(tenant_client(api, "acme")), Rest(tenant_client(api, "globex"))
    conversation = a.post("/conversations", {"user_id": "ana", "items": [{"role": "user", "content": "secret"}]})
    item = a.get(f"/conversations/{conversation['id']}/items")["data"][0]
    attempts = [
        lambda: b.get(f"/conversations/{conversation['id']}"),
        lambda: b.post(f"/conversations/{conversation['id']}", {"title": "mine"}),
        lambda: b.delete(f"/conversations/{conversation['id']}"),
        lambda: b.get(f"/conversations/{conversation['id']}/items"),
        lambda: b.post(f"/conversations/{conversation['id']}/items", {"items": [{"role": "user", "content": "x"}]}),
        lambda: b.get(f"/conversations/{conversation['id']}/items/{item['id']}"),
        lambda: b.get(f"/conversations/{conversation['id']}/export"),
    ]
    for attempt in attempts:
        with pytest.raises(openai.NotFoundError):
            attempt()
    assert b.get("/conversations", user_id="ana")["data"] == []
    assert b.get("/conversations/export")["conversations"] == []
    assert a.get(f"/conversations/{conversation['id']}")["title"] is None
    assert [i["content"][0]["text"] for i in a.get(f"/conversations/{conversation['id']}/items")["data"]] == ["secret"]
