"""From ratings to fine-tuning data: rating -> candidate -> approved -> dataset -> export, each exported line checked
(OpenAI's fine-tuning chat format; triplets whose positive really comes from the answer's context_used)."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.support.chat import Rest, make_store
from tests.support.documents import Document, corpus

CONTACTS = Document(
    "contacts.txt",
    b"Payroll questions go to the payroll team: write to payroll@acme.example or call +33 1 23 45 67 89.",
    "who do I contact about my salary slip?",
    "payroll team",
)
# OpenAI's fine-tuning chat format: one JSON object per line with `messages`; each message a role among these and
# string content; only these keys; weight (0 or 1) only on assistant messages; at least one assistant message.
ROLES = {"system", "user", "assistant", "tool"}
MESSAGE_KEYS = {"role", "content", "name", "weight", "tool_calls", "tool_call_id"}


def check_chat_line(line: str) -> dict:
    record = json.loads(line)
    assert set(record) == {"messages"}, record.keys()
    messages = record["messages"]
    assert isinstance(messages, list) and messages
    for message in messages:
        assert set(message) <= MESSAGE_KEYS and message["role"] in ROLES, message
        assert isinstance(message["content"], str) and message["content"].strip(), message
        if "weight" in message:
            assert message["role"] == "assistant" and message["weight"] in (0, 1), message
    assert messages[0]["role"] == "system" and messages[-1]["role"] == "assistant" and "weight" not in messages[-1]
    assert any(m["role"] == "user" for m in messages)
    return record


def export(api, dataset_id: str, **params) -> list[str]:
    response = httpx.get(
        f"{api.url}/v1/datasets/{dataset_id}/export",
        params=params,
        headers={"Authorization": f"Bearer {api.settings.api_key}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/jsonl")
    return response.text.splitlines()


@pytest.fixture
def rated(api, client):
    """Answers rated 5, 4 and 2, a duplicate of the first rated 5, and one left unrated."""
    rest = Rest(client)
    store_id = make_store(client, [*corpus(), CONTACTS])
    documents = {d.filename: d for d in [*corpus(), CONTACTS]}

    def ask(filename: str, rating: int | None) -> dict:
        answer = rest.post(
            "/answers", {"question": documents[filename].question, "vector_store_ids": [store_id], "user_id": "ana"}
        )
        if rating is not None:
            path = f"/conversations/{answer['conversation_id']}/items/{answer['id']}/feedback"
            rest.post(path, {"rating": rating, "comment": "thanks"})
        return answer

    answers = {
        "account": ask("account.md", 5),
        "contacts": ask("contacts.txt", 4),
        "coffee": ask("coffee.txt", 2),
        "account again": ask("account.md", 5),
        "parking": ask("parking.html", None),
    }
    return rest, store_id, answers


def test_rating_candidate_approved_dataset_export(api, rated):
    rest, store_id, answers = rated
    by_message = {e["message_id"]: e for e in rest.pages("/training_examples", status="candidate")}
    # Ratings of 4 and more made candidates; the rating of 2 did not; nothing unrated did.
    assert set(by_message) == {answers[k]["id"] for k in ("account", "contacts", "account again")}
    example = by_message[answers["account"]["id"]]
    assert (example["source"], example["rating"], example["status"]) == ("rating", 5, "candidate")
    assert example["model"] == "extractive"
    question = rest.get(f"/conversations/{answers['account']['conversation_id']}/items", order="asc")["data"][0]
    assert example["query"] == question["content"][0]["text"]
    # The example's chat is what a model answering this question is given, then the answer.
    assert example["messages"][-1] == {"role": "assistant", "content": answers["account"]["answer"]}
    assert answers["account"]["context_used"][0]["excerpt"] in example["messages"][-2]["content"]

    # Picked by hand, then rejected: it may not join a dataset.
    picked = rest.post("/training_examples", {"message_id": answers["parking"]["id"]})
    assert (picked["source"], picked["status"], picked["rating"]) == ("manual", "candidate", None)
    assert rest.post("/training_examples", {"message_id": answers["parking"]["id"]})["id"] == picked["id"]
    rejected = rest.post(f"/training_examples/{picked['id']}", {"status": "rejected"})
    assert rejected["status"] == "rejected"

    approved = [rest.post(f"/training_examples/{e['id']}", {"status": "approved"})["id"] for e in by_message.values()]
    dataset = rest.post("/datasets", {"name": "support-v1", "description": "first cut", "example_ids": approved})
    assert dataset["example_count"] == 3 and dataset["id"].startswith("ds_")
    with pytest.raises(openai.BadRequestError, match="not approved"):
        rest.post(f"/datasets/{dataset['id']}/examples", {"example_ids": [picked["id"]]})
    with pytest.raises(openai.ConflictError):
        rest.post("/datasets", {"name": "support-v1"})

    # Chat JSONL: the two identical exchanges about the account export once.
    lines = export(api, dataset["id"], format="chat")
    records = [check_chat_line(line) for line in lines]
    assert len(records) == 2
    answers_exported = {r["messages"][-1]["content"] for r in records}
    assert answers_exported == {answers["account"]["answer"], answers["contacts"]["answer"]}
    contacts_line = next(line for line in lines if "payroll" in line)
    assert "payroll@acme.example" in contacts_line and "+33 1 23 45 67 89" in contacts_line

    scrubbed = export(api, dataset["id"], format="chat", scrub="true")
    assert len(scrubbed) == 2 and all(check_chat_line(line) for line in scrubbed)
    assert "@" not in "".join(scrubbed) and "23 45 67" not in "".join(scrubbed)
    assert "[email]" in "".join(scrubbed) and "[phone]" in "".join(scrubbed)

    # Triplets: the positive is the passage the answer cited, from its context_used; the negatives come from the
    # same search, were not given to the model, and are not the positive.
    items = {
        a["id"]: rest.get(f"/conversations/{a['conversation_id']}/export")["conversations"][0]["items"][1]
        for a in answers.values()
    }
    triplets = [json.loads(line) for line in export(api, dataset["id"], format="triplets")]
    assert len(triplets) == 2
    for triplet in triplets:
        example = rest.get(f"/training_examples/{triplet['example_id']}")
        item = items[example["message_id"]]
        assert triplet["query"] == example["query"]
        used = {p["chunk_id"]: p["excerpt"] for p in item["context_used"]}
        unused = {p["chunk_id"]: p["excerpt"] for p in item["unused_context"]}
        cited = example["answer"].split("[")[1].split("]")[0]
        assert triplet["positive_chunk_id"] == item["context_used"][int(cited) - 1]["chunk_id"]
        assert triplet["positive"] == used[triplet["positive_chunk_id"]]
        assert triplet["negatives"] and set(triplet["negative_chunk_ids"]) <= set(unused)
        assert not set(triplet["negative_chunk_ids"]) & set(used)
        assert triplet["negatives"] == [unused[c] for c in triplet["negative_chunk_ids"]]
        assert triplet["positive"] not in triplet["negatives"]


def test_collect_with_another_threshold_and_datasets_keep_their_examples(rated):
    rest, store_id, answers = rated
    collected = rest.post("/training_examples/collect", {"min_rating": 2})["data"]
    assert [e["message_id"] for e in collected] == [answers["coffee"]["id"]] and collected[0]["rating"] == 2
    assert rest.post("/training_examples/collect", {"min_rating": 2})["data"] == []

    example = collected[0]
    approved = rest.post(f"/training_examples/{example['id']}", {"status": "approved"})
    dataset = rest.post("/datasets", {"name": "low"})
    assert rest.post(f"/datasets/{dataset['id']}/examples", {"example_ids": [approved["id"]] * 2})["example_count"] == 1
    listed = rest.get(f"/datasets/{dataset['id']}/examples")["data"]
    assert [e["id"] for e in listed] == [example["id"]]
    assert rest.delete(f"/datasets/{dataset['id']}/examples/{example['id']}")["example_count"] == 0
    rest.delete(f"/datasets/{dataset['id']}")
    with pytest.raises(openai.NotFoundError):
        rest.get(f"/datasets/{dataset['id']}")

    # Examples are snapshots: they outlive the dataset and the conversation they came from.
    rest.delete(f"/conversations/{answers['coffee']['conversation_id']}")
    kept = rest.get(f"/training_examples/{example['id']}")
    assert kept["answer"] == answers["coffee"]["answer"] and kept["status"] == "approved"


def test_a_new_rating_follows_the_answer_to_its_example(rated):
    rest, store_id, answers = rated
    examples = {e["message_id"]: e for e in rest.get("/training_examples")["data"]}

    def rate(key: str, rating: int) -> tuple[str, int]:
        """Rate the answer again; its example's status and rating afterwards."""
        answer = answers[key]
        rest.post(f"/conversations/{answer['conversation_id']}/items/{answer['id']}/feedback", {"rating": rating})
        example = rest.get(f"/training_examples/{examples[answer['id']]['id']}")
        return example["status"], example["rating"]

    # A candidate rated down is rejected; rated up again, it stays rejected (a reviewer may take it back).
    assert rate("account", 2) == ("rejected", 2)
    assert rate("account", 5) == ("rejected", 5)

    # An approved one rated down goes back to the candidates, out of the dataset's export, for a reviewer to look at.
    approved = rest.post(f"/training_examples/{examples[answers['contacts']['id']]['id']}", {"status": "approved"})
    dataset = rest.post("/datasets", {"name": "rerated", "example_ids": [approved["id"]]})
    assert rate("contacts", 5) == ("approved", 5)
    assert rate("contacts", 3) == ("candidate", 3)
    assert rest.get(f"/datasets/{dataset['id']}")["example_count"] == 1
    assert list(rest.pages("/training_examples", status="approved")) == []

    # One picked by hand keeps its status whatever the rating; only the rating changes.
    picked = rest.post("/training_examples", {"message_id": answers["parking"]["id"]})
    examples[answers["parking"]["id"]] = picked
    assert rate("parking", 1) == ("candidate", 1)


def test_deleting_an_example_takes_it_out_of_its_datasets(rated):
    rest, store_id, answers = rated
    example = rest.get("/training_examples")["data"][0]
    approved = rest.post(f"/training_examples/{example['id']}", {"status": "approved"})
    dataset = rest.post("/datasets", {"name": "shrinking", "example_ids": [approved["id"]]})
    assert rest.delete(f"/training_examples/{example['id']}") == {
        "id": example["id"],
        "object": "training_example.deleted",
        "deleted": True,
    }
    assert rest.get(f"/datasets/{dataset['id']}")["example_count"] == 0
    for call in (
        lambda: rest.get(f"/training_examples/{example['id']}"),
        lambda: rest.delete(f"/training_examples/{example['id']}"),
    ):
        with pytest.raises(openai.NotFoundError):
            call()
    # The answer it was made from is still there, and can make a new one.
    assert rest.post("/training_examples", {"message_id": example["message_id"]})["id"] != example["id"]


def test_bad_training_requests(api, rated):
    rest, store_id, answers = rated
    cases = [
        (lambda: rest.post("/training_examples", {"message_id": answers["account"]["question_id"]}), 400),
        (lambda: rest.post("/training_examples", {"message_id": "msg_missing"}), 404),
        (lambda: rest.post("/training_examples/tex_missing", {"status": "approved"}), 404),
        (lambda: rest.post("/training_examples/collect", {"min_rating": 0}), 400),
        (lambda: rest.get("/training_examples", status="maybe"), 400),
        (lambda: rest.post("/datasets", {"name": ""}), 400),
        (lambda: rest.post("/datasets", {"name": "x", "example_ids": ["tex_missing"]}), 400),
        (lambda: rest.get("/datasets/ds_missing"), 404),
    ]
    for call, status in cases:
        with pytest.raises(openai.APIStatusError) as failure:
            call()
        assert failure.value.status_code == status
    response = httpx.get(
        f"{api.url}/v1/datasets/ds_missing/export", headers={"Authorization": f"Bearer {api.settings.api_key}"}
    )
    assert response.status_code == 404 and response.json()["error"]["param"] == "dataset_id"
    dataset = rest.post("/datasets", {"name": "fmt"})
    response = httpx.get(
        f"{api.url}/v1/datasets/{dataset['id']}/export",
        params={"format": "csv"},
        headers={"Authorization": f"Bearer {api.settings.api_key}"},
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "format"
