"""POST /v1/answers: context retrieved by the API's own search, answered by a chat model over real HTTP (a
stand-in speaking OpenAI's chat completions format, streaming included) or extractively, and remembered."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest

from tests.support.chat import Rest, make_store, stream_events
from tests.support.chat_server import chat_server, reply_to
from tests.support.documents import corpus
from tests.support.scrape import scrape, value

LLM_KEY = "sk-remote-llm"
LLM_MODEL = "stand-in-chat-1"


@pytest.fixture
def chat():
    with chat_server() as server:
        yield server


@pytest.fixture
def llm_api(start_server, chat):
    return start_server(llm_base_url=chat.url, llm_model=LLM_MODEL, llm_api_key=LLM_KEY)


@pytest.fixture
def kb(llm_api):
    client = llm_api.client()
    return llm_api, Rest(client), make_store(client, corpus())


def account():
    return next(d for d in corpus() if d.filename == "account.md")


def search_cache_hits(url: str) -> float:
    return value(scrape(url), "ragstore_cache_requests_total", kind="search", result="hit")


def test_a_question_asked_again_of_unchanged_stores_is_searched_from_the_cache(kb):
    api, rest, store_id = kb
    question = {"question": account().question, "vector_store_ids": [store_id]}
    before = search_cache_hits(api.url)
    first = rest.post("/answers", question)
    assert search_cache_hits(api.url) == before
    second = rest.post("/answers", {**question, "stream": False})
    assert search_cache_hits(api.url) == before + 1
    assert [p["chunk_id"] for p in second["context_used"]] == [p["chunk_id"] for p in first["context_used"]]


def test_an_answer_from_the_chat_model_is_grounded_cited_and_stored(kb, chat):
    api, rest, store_id = kb
    document = account()
    answer = rest.post("/answers", {"question": document.question, "vector_store_ids": [store_id], "user_id": "ana"})

    # The model got the instructions, the passages found by the search, and the question, with its key.
    sent = chat.requests[-1]
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == f"Bearer {LLM_KEY}"
    assert sent["body"]["model"] == LLM_MODEL and sent["body"]["stream"] is False
    roles = [m["role"] for m in sent["body"]["messages"]]
    assert roles == ["system", "user"]
    prompt = sent["body"]["messages"][-1]["content"]
    assert prompt.endswith(f"Question: {document.question}") and document.passage in prompt

    # The answer is the model's, its citation points at the passage it quoted.
    assert answer["object"] == "answer" and answer["model"] == LLM_MODEL
    assert answer["answer"] == reply_to(sent["body"]["messages"])
    assert [c["number"] for c in answer["citations"]] == [1]
    assert answer["citations"][0]["filename"] == document.filename == answer["context_used"][0]["filename"]
    assert document.passage in answer["context_used"][0]["excerpt"]
    assert len(answer["context_used"]) == 5

    # Stored: a conversation for the user, titled by the question, holding the question and the answer with the
    # context it used.
    conversation = rest.get(f"/conversations/{answer['conversation_id']}")
    assert conversation["user_id"] == "ana" and conversation["title"] == document.question[:80]
    items = rest.get(f"/conversations/{answer['conversation_id']}/items", order="asc")["data"]
    assert [(i["role"], i["content"][0]["type"]) for i in items] == [
        ("user", "input_text"),
        ("assistant", "output_text"),
    ]
    assert items[0]["id"] == answer["question_id"] and items[0]["content"][0]["text"] == document.question
    assert items[1]["id"] == answer["id"] and items[1]["content"][0]["text"] == answer["answer"]
    assert items[1]["context_used"] == answer["context_used"] and items[1]["model"] == LLM_MODEL
    assert items[1]["vector_store_ids"] == [store_id] and items[1]["feedback"] is None

    # The passages found beyond those used are kept for training (exports show them), apart from the used ones.
    exported = rest.get(f"/conversations/{answer['conversation_id']}/export")["conversations"][0]["items"][1]
    used = {p["chunk_id"] for p in exported["context_used"]}
    unused = {p["chunk_id"] for p in exported["unused_context"]}
    assert unused and not used & unused


def test_a_follow_up_question_gives_the_model_the_earlier_turns(kb, chat):
    api, rest, store_id = kb
    first = rest.post("/answers", {"question": account().question, "vector_store_ids": [store_id]})
    follow = rest.post(
        "/answers",
        {
            "question": "and how long is the link valid?",
            "vector_store_ids": [store_id],
            "conversation_id": first["conversation_id"],
        },
    )
    messages = chat.requests[-1]["body"]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == account().question and messages[2]["content"] == first["answer"]
    assert follow["conversation_id"] == first["conversation_id"]
    items = rest.get(f"/conversations/{first['conversation_id']}/items", order="asc")["data"]
    assert [i["id"] for i in items] == [first["question_id"], first["id"], follow["question_id"], follow["id"]]
    newest_first = rest.get(f"/conversations/{first['conversation_id']}/items")["data"]
    assert [i["id"] for i in newest_first] == [i["id"] for i in reversed(items)]


def test_a_training_example_holds_the_chat_the_model_was_given(kb, chat):
    api, rest, store_id = kb
    first = rest.post("/answers", {"question": account().question, "vector_store_ids": [store_id]})
    conversation = first["conversation_id"]
    follow = rest.post(
        "/answers",
        {
            "question": "and how long is the link valid?",
            "vector_store_ids": [store_id],
            "conversation_id": conversation,
        },
    )
    sent = chat.requests[-1]["body"]["messages"]
    # The first exchange is deleted before the rating: the example still holds what the model was given.
    assert rest.delete(f"/conversations/{conversation}/items/{first['question_id']}")["id"] == conversation
    rest.post(f"/conversations/{conversation}/items/{follow['id']}/feedback", {"rating": 5})
    (example,) = rest.get("/training_examples")["data"]
    assert example["model"] == LLM_MODEL and example["query"] == "and how long is the link valid?"
    assert example["messages"][-1] == {"role": "assistant", "content": follow["answer"]}
    earlier_answers = [{**m, "weight": 0} if m["role"] == "assistant" else m for m in sent]
    assert example["messages"][:-1] == earlier_answers and example["messages"][2]["weight"] == 0


def test_a_streamed_answer_arrives_in_pieces_and_is_stored_whole(kb, chat):
    api, rest, store_id = kb
    body = {"question": account().question, "vector_store_ids": [store_id], "stream": True}
    status, events = stream_events(f"{api.url}/v1/answers", api.settings.api_key, body)

    assert status == 200 and chat.requests[-1]["body"]["stream"] is True
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "answer.context" and kinds[-1] == "answer.completed"
    assert set(kinds[1:-1]) == {"answer.delta"} and len(kinds) > 4
    assert all(data["type"] == kind for kind, data in events)
    completed = events[-1][1]["answer"]
    assert "".join(data["delta"] for kind, data in events if kind == "answer.delta") == completed["answer"]
    assert completed["answer"] == reply_to(chat.requests[-1]["body"]["messages"])
    assert events[0][1]["conversation_id"] == completed["conversation_id"]
    assert events[0][1]["context_used"] == completed["context_used"]

    items = rest.get(f"/conversations/{completed['conversation_id']}/items", order="asc")["data"]
    assert [i["id"] for i in items] == [completed["question_id"], completed["id"]]
    assert items[1]["content"][0]["text"] == completed["answer"] and items[1]["model"] == LLM_MODEL
    assert items[1]["context_used"] == completed["context_used"] == events[0][1]["context_used"]
    exported = rest.get(f"/conversations/{completed['conversation_id']}/export")["conversations"][0]["items"][1]
    used = {p["chunk_id"] for p in exported["context_used"]}
    unused = {p["chunk_id"] for p in exported["unused_context"]}
    assert len(used) == 5 and unused and not used & unused


def stored_items(rest: Rest, conversation_id: str) -> list[dict]:
    """The conversation's items once it exists and holds two (polled: the answer is stored after the response)."""
    for _ in range(100):
        try:
            items = rest.get(f"/conversations/{conversation_id}/items", order="asc")["data"]
        except openai.NotFoundError:
            items = []
        if len(items) >= 2:
            return items
        time.sleep(0.1)
    raise AssertionError(f"conversation {conversation_id} was not stored")


def test_a_stream_the_client_abandons_is_still_answered_and_stored(kb, chat):
    api, rest, store_id = kb
    chat.pace = 0.1  # the model is still answering when the client leaves
    body = {"question": account().question, "vector_store_ids": [store_id], "stream": True, "user_id": "cy"}
    headers = {"Authorization": f"Bearer {api.settings.api_key}"}
    with httpx.stream("POST", f"{api.url}/v1/answers", json=body, headers=headers, timeout=60) as response:
        lines = response.iter_lines()
        assert next(lines) == "event: answer.context"
        context = json.loads(next(lines).removeprefix("data:"))
    # The connection is closed here, before any piece of the answer has been read.

    question, answer = stored_items(rest, context["conversation_id"])
    assert question["content"][0]["text"] == account().question
    assert answer["content"][0]["text"] == reply_to(chat.requests[-1]["body"]["messages"])
    assert answer["context_used"] == context["context_used"] and answer["model"] == LLM_MODEL


def test_a_model_failing_mid_stream_ends_it_with_an_error_and_stores_nothing(kb, chat):
    api, rest, store_id = kb
    chat.fail_midway = "close"
    body = {"question": account().question, "vector_store_ids": [store_id], "stream": True, "user_id": "di"}
    status, events = stream_events(f"{api.url}/v1/answers", api.settings.api_key, body)
    assert status == 200 and [kind for kind, _ in events] == ["answer.context", *["answer.delta"] * 2, "error"]
    assert events[-1][1]["error"]["code"] == "llm_error"
    assert rest.get("/conversations", user_id="di")["data"] == []
    with pytest.raises(openai.NotFoundError):
        rest.get(f"/conversations/{events[0][1]['conversation_id']}")


def test_a_store_named_twice_counts_once(kb):
    api, rest, store_id = kb
    answer = rest.post("/answers", {"question": account().question, "vector_store_ids": [store_id, store_id]})
    item = rest.get(f"/conversations/{answer['conversation_id']}/items/{answer['id']}")
    assert item["vector_store_ids"] == [store_id]
    rest.post(f"/conversations/{answer['conversation_id']}/items/{answer['id']}/feedback", {"rating": 4})
    (group,) = rest.get("/feedback/stats")["by_vector_store"]
    assert (group["vector_store_id"], group["count"]) == (store_id, 1)


def test_a_failing_model_gives_a_clear_error_and_stores_nothing(kb, chat):
    api, rest, store_id = kb
    chat.fail_with, chat.retry_after = 503, "0"  # every attempt fails, each retry at once
    body = {"question": account().question, "vector_store_ids": [store_id], "user_id": "bo"}
    asked = len(chat.requests)
    with pytest.raises(openai.APIStatusError) as failure:
        rest.post("/answers", body)
    assert len(chat.requests) - asked == 4  # retried 3 times, then the error
    assert failure.value.status_code == 502 and failure.value.body["code"] == "llm_error"
    assert "The model is overloaded." in failure.value.body["message"] and LLM_KEY not in failure.value.body["message"]

    status, events = stream_events(f"{api.url}/v1/answers", api.settings.api_key, {**body, "stream": True})
    assert status == 200 and [kind for kind, _ in events] == ["answer.context", "error"]
    assert events[-1][1]["error"]["code"] == "llm_error"
    assert rest.get("/conversations", user_id="bo")["data"] == []


def test_without_a_chat_model_the_answer_is_extractive(start_server):
    api = start_server()
    client = api.client()
    rest = Rest(client)
    store_id = make_store(client, corpus())
    document = account()
    answer = rest.post("/answers", {"question": document.question, "vector_store_ids": [store_id]})
    assert answer["model"] == "extractive"
    assert "To reset your password, open Settings, choose Security and click 'Forgot password'. [1]" in answer["answer"]
    assert answer["citations"][0]["number"] == 1 and answer["citations"][0]["filename"] == document.filename

    nothing = rest.post(
        "/answers",
        {
            "question": document.question,
            "vector_store_ids": [store_id],
            "filters": {"type": "eq", "key": "no-such-attribute", "value": "x"},
        },
    )
    assert nothing["context_used"] == [] and nothing["citations"] == []
    assert nothing["answer"] == "The knowledge base has nothing on this question."

    status, events = stream_events(
        f"{api.url}/v1/answers",
        api.settings.api_key,
        {"question": document.question, "vector_store_ids": [store_id], "stream": True},
    )
    assert status == 200 and [kind for kind, _ in events] == ["answer.context", "answer.delta", "answer.completed"]


def test_bad_questions_get_clear_errors(kb):
    api, rest, store_id = kb
    anas = rest.post("/conversations", {"user_id": "ana"})["id"]
    cases = [
        ({"question": "  ", "vector_store_ids": [store_id]}, 400, "question"),
        ({"question": "hi", "vector_store_ids": []}, 400, "vector_store_ids"),
        ({"question": "hi", "vector_store_ids": ["vs_missing"]}, 404, "vector_store_id"),
        ({"question": "hi", "vector_store_ids": [store_id], "conversation_id": "conv_missing"}, 404, "conversation_id"),
        ({"question": "hi", "vector_store_ids": [store_id], "max_num_results": 0}, 400, "max_num_results"),
        ({"question": "hi", "vector_store_ids": [store_id], "conversation_id": anas, "user_id": "bo"}, 400, "user_id"),
        ({"question": "hi", "vector_store_ids": [store_id], "tools": []}, 400, "tools"),
    ]
    for body, status, param in cases:
        with pytest.raises(openai.APIStatusError) as failure:
            rest.post("/answers", body)
        assert (failure.value.status_code, failure.value.body["param"]) == (status, param), body
    status, events = stream_events(
        f"{api.url}/v1/answers", api.settings.api_key, {"question": "hi", "vector_store_ids": ["vs_x"], "stream": True}
    )
    assert status == 404 and events[0][1]["error"]["param"] == "vector_store_id"
