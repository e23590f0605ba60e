"""POST /v1/responses with the file_search tool, through the official SDK: a stand-in chat model over real HTTP
that calls file_search as a function (whole and streamed tool_calls), or no model at all (extractive answers).
Every JSON body the server sends is checked against OpenAI's Responses schemas by the api conftest."""

from __future__ import annotations

import io

import openai
import pytest

from ragstore.chat import extractive, prompt
from tests.support.chat import Rest, make_store, stream_events
from tests.support.chat_server import chat_server, reply_from_tools
from tests.support.documents import corpus
from tests.support.openapi import _spec, validate

LLM_MODEL = "stand-in-chat-1"
RESULTS = ["file_search_call.results"]


@pytest.fixture
def chat():
    with chat_server() as server:
        yield server


@pytest.fixture
def llm_api(start_server, chat):
    return start_server(llm_base_url=chat.url, llm_model=LLM_MODEL, llm_api_key="sk-remote")


def doc(name: str):
    return next(d for d in corpus() if d.filename == name)


@pytest.fixture
def two_stores(llm_api):
    client = llm_api.client()
    docs = corpus()
    first = make_store(client, [d for d in docs if d.filename == "account.md"], "accounts")
    second = make_store(client, [d for d in docs if d.filename in ("coffee.txt", "parking.html")], "office")
    return llm_api, client, [first, second]


def validate_event(data: dict) -> None:
    """An event against the reference schema of its own type (the union's error messages say nothing)."""
    schemas = _spec("responses")["components"]["schemas"]
    for ref in schemas["ResponseStreamEvent"]["anyOf"]:
        name = ref["$ref"].rsplit("/", 1)[-1]
        if data["type"] in schemas[name].get("properties", {}).get("type", {}).get("enum", []):
            return validate(name, data, "responses")
    raise AssertionError(f"no stream event of type {data['type']}")


def file_search(store_ids, **options):
    return [{"type": "file_search", "vector_store_ids": store_ids, **options}]


def test_a_question_over_two_stores_is_searched_by_the_model_and_answered_with_citations(two_stores, chat):
    api, client, stores = two_stores
    account = doc("account.md")
    response = client.responses.create(
        model="gpt-4o-mini", input=account.question, tools=file_search(stores), include=RESULTS
    )
    # The model was offered file_search as a function, called it, and got the passages back as a tool message.
    offered, answered = chat.requests[-2]["body"], chat.requests[-1]["body"]
    assert offered["tools"] == [prompt.FILE_SEARCH_FUNCTION] and offered["tool_choice"] == "auto"
    assert [m["role"] for m in offered["messages"]] == ["system", "user"]
    tool_message = answered["messages"][-1]
    assert tool_message["role"] == "tool" and account.passage in tool_message["content"]
    assert answered["messages"][-2]["tool_calls"][0]["function"]["name"] == "file_search"

    call, message = response.output
    assert call.type == "file_search_call" and call.status == "completed" and call.queries == [account.question]
    assert call.results[0].filename == "account.md" and account.passage in call.results[0].text
    assert {r.filename for r in call.results} <= {"account.md", "coffee.txt", "parking.html"}
    assert message.type == "message" and message.role == "assistant"
    assert response.output_text == reply_from_tools(answered["messages"]) and response.output_text.endswith("[1]")
    (citation,) = message.content[0].annotations
    assert citation.type == "file_citation" and citation.filename == "account.md"
    assert citation.file_id == call.results[0].file_id and response.output_text[citation.index :] == "[1]"
    assert response.model == LLM_MODEL and response.status == "completed"
    assert response.usage.input_tokens == 20 and response.usage.total_tokens == 40  # two turns of the model


def test_results_come_only_when_included(two_stores):
    api, client, stores = two_stores
    response = client.responses.create(model="m", input=doc("account.md").question, tools=file_search(stores))
    assert response.output[0].results is None
    again = client.responses.retrieve(response.id, include=RESULTS)
    assert again.output[0].results and again.output_text == response.output_text


def test_several_queries_are_each_searched(two_stores, chat):
    api, client, stores = two_stores
    chat.tool_queries = ["password reset", "where to park"]
    response = client.responses.create(model="m", input="two things", tools=file_search(stores), include=RESULTS)
    call = response.output[0]
    assert call.queries == ["password reset", "where to park"]
    assert {"account.md", "parking.html"} <= {r.filename for r in call.results}


def test_filters_are_respected(llm_api):
    client = llm_api.client()
    store = client.vector_stores.create(name="tagged")
    for document, team in ((doc("account.md"), "it"), (doc("coffee.txt"), "facilities")):
        uploaded = client.files.create(file=(document.filename, io.BytesIO(document.data)), purpose="assistants")
        client.vector_stores.files.create_and_poll(
            vector_store_id=store.id, file_id=uploaded.id, attributes={"team": team}
        )
    only = {"type": "eq", "key": "team", "value": "facilities"}
    response = client.responses.create(
        model="m",
        input=doc("account.md").question,
        tools=file_search([store.id], filters=only),
        include=RESULTS,
    )
    assert {r.filename for r in response.output[0].results} == {"coffee.txt"}
    assert all(r.attributes == {"team": "facilities"} for r in response.output[0].results)


def test_an_empty_store_finds_nothing_and_still_answers(llm_api):
    client = llm_api.client()
    empty = client.vector_stores.create(name="empty")
    response = client.responses.create(model="m", input="anything?", tools=file_search([empty.id]), include=RESULTS)
    assert response.output[0].results == [] and response.output_text == "The knowledge base does not say."
    assert response.output[1].content[0].annotations == []


def test_previous_response_id_shows_the_model_the_earlier_turns(two_stores, chat):
    api, client, stores = two_stores
    first = client.responses.create(model="m", input=doc("account.md").question, tools=file_search(stores))
    second = client.responses.create(
        model="m", input="and where do I park?", tools=file_search(stores), previous_response_id=first.id
    )
    messages = chat.requests[-2]["body"]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == doc("account.md").question and messages[2]["content"] == first.output_text
    assert second.previous_response_id == first.id


def test_a_conversation_receives_the_turns_items(two_stores, chat):
    api, client, stores = two_stores
    rest = Rest(client)
    conversation = rest.post("/conversations", {"items": [{"role": "user", "content": "hello there"}]})["id"]
    response = client.responses.create(
        model="m", input=doc("account.md").question, tools=file_search(stores), conversation=conversation
    )
    assert response.conversation.id == conversation
    assert chat.requests[-2]["body"]["messages"][1] == {"role": "user", "content": "hello there"}
    items = rest.get(f"/conversations/{conversation}/items", order="asc")["data"]
    assert [(i["role"], i["content"][0]["text"]) for i in items] == [
        ("user", "hello there"),
        ("user", doc("account.md").question),
        ("assistant", response.output_text),
    ]
    assert items[-1]["id"] == response.output[1].id and items[-1]["context_used"][0]["filename"] == "account.md"


def test_the_sdk_stream_helper_gets_the_events_in_order(two_stores, chat):
    api, client, stores = two_stores
    with client.responses.stream(model="m", input=doc("account.md").question, tools=file_search(stores)) as stream:
        events = list(stream)
        final = stream.get_final_response()
    assert chat.requests[-1]["body"]["stream"] is True and chat.requests[-2]["body"]["stream"] is True
    kinds = [e.type for e in events]
    deltas = kinds.count("response.output_text.delta")
    assert deltas > 1
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.file_search_call.in_progress",
        "response.file_search_call.searching",
        "response.file_search_call.completed",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * deltas,
        "response.output_text.annotation.added",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert final.output_text == "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert final.output_text.endswith("[1]") and final.usage.total_tokens == 40
    stored = client.responses.retrieve(final.id)
    assert stored.output_text == final.output_text and stored.output[1].id == final.output[1].id


def test_streamed_events_match_the_reference_schemas(two_stores, chat):
    api, client, stores = two_stores
    body = {"model": "m", "input": doc("coffee.txt").question, "tools": file_search(stores), "stream": True}
    status, events = stream_events(f"{api.url}/v1/responses", api.settings.api_key, body)
    assert status == 200 and events[-1][0] == "response.completed"
    for kind, data in events:
        assert data["type"] == kind
        validate_event(data)
    validate("Response", events[-1][1]["response"], "responses")


def test_retrieve_input_items_and_delete(two_stores):
    api, client, stores = two_stores
    response = client.responses.create(
        model="m",
        instructions="Answer briefly.",
        input=[
            {"role": "developer", "content": "The user works in IT."},
            {"role": "user", "content": [{"type": "input_text", "text": doc("account.md").question}]},
        ],
        tools=file_search(stores),
        metadata={"ticket": "42"},
    )
    stored = client.responses.retrieve(response.id)
    assert stored.output_text == response.output_text and stored.metadata == {"ticket": "42"}
    assert stored.instructions == "Answer briefly."
    items = client.responses.input_items.list(response.id, order="asc")
    assert [(i.role, i.content[0].text) for i in items.data] == [
        ("developer", "The user works in IT."),
        ("user", doc("account.md").question),
    ]
    with pytest.raises(openai.BadRequestError):
        client.responses.cancel(response.id)
    client.responses.delete(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(response.id)


def test_store_false_stores_nothing(two_stores):
    api, client, stores = two_stores
    response = client.responses.create(model="m", input="hi", tools=file_search(stores), store=False)
    assert response.output_text
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    assert Rest(client).get("/conversations")["data"] == []


def test_a_model_failing_before_answering_is_an_error_and_stores_nothing(two_stores, chat):
    api, client, stores = two_stores
    chat.fail_with = 503
    with pytest.raises(openai.APIStatusError) as failed:
        client.responses.create(model="m", input="hi", tools=file_search(stores))
    assert failed.value.status_code == 502 and "overloaded" in failed.value.message
    assert Rest(client).get("/conversations")["data"] == []


def test_a_model_failing_mid_stream_ends_with_error_and_failed_and_stores_nothing(two_stores, chat):
    api, client, stores = two_stores
    chat.fail_midway = "error"
    body = {"model": "m", "input": doc("account.md").question, "tools": file_search(stores), "stream": True}
    status, events = stream_events(f"{api.url}/v1/responses", api.settings.api_key, body)
    kinds = [kind for kind, _ in events]
    assert status == 200 and "response.output_text.delta" in kinds and kinds[-2:] == ["error", "response.failed"]
    error, failed = events[-2][1], events[-1][1]
    assert "crashed" in error["message"] and failed["response"]["status"] == "failed"
    assert failed["response"]["error"]["code"] == "server_error"
    for _, data in events:
        validate_event(data)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(failed["response"]["id"])
    assert Rest(client).get("/conversations")["data"] == []


def test_unsupported_fields_are_a_clear_400(two_stores):
    api, client, stores = two_stores
    with pytest.raises(openai.BadRequestError) as failed:
        client.responses.create(model="m", input="hi", tools=[{"type": "web_search"}])
    assert failed.value.body["param"] == "tools[0].type"
    with pytest.raises(openai.BadRequestError) as failed:
        client.responses.create(
            model="m", input="hi", tools=file_search(stores), include=["reasoning.encrypted_content"]
        )
    assert failed.value.body["param"] == "include[0]"
    with pytest.raises(openai.BadRequestError) as failed:
        client.responses.create(model="m", input="hi", tools=file_search(stores), background=True)
    assert failed.value.body["param"] == "background"
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="m", input="hi", tools=file_search(["vs_missing"]))


def test_a_rated_response_becomes_a_training_example(two_stores, chat):
    api, client, stores = two_stores
    rest = Rest(client)
    response = client.responses.create(model="m", input=doc("account.md").question, tools=file_search(stores))
    sent = chat.requests[-1]["body"]["messages"]
    rest.post(f"/responses/{response.id}/feedback", {"rating": 5})
    (example,) = rest.get("/training_examples")["data"]
    assert example["query"] == doc("account.md").question and example["answer"] == response.output_text
    assert example["messages"][-1] == {"role": "assistant", "content": response.output_text}
    assert [m["role"] for m in example["messages"][:-1]] == [m["role"] for m in sent]
    assert example["context_used"][0]["filename"] == "account.md" and example["model"] == LLM_MODEL


def test_a_model_that_answers_without_searching_gets_the_search_run_first(two_stores, chat):
    api, client, stores = two_stores
    chat.ignore_tools = True
    response = client.responses.create(model="m", input=doc("account.md").question, tools=file_search(stores))
    last = chat.requests[-1]["body"]
    assert "tools" not in last and doc("account.md").passage in last["messages"][-1]["content"]
    assert response.output[0].queries == [doc("account.md").question]
    assert response.output_text.endswith("[1]")


def test_without_a_model_the_answer_is_extractive(api):
    client = api.client()
    stores = [make_store(client, corpus())]
    account = doc("account.md")
    response = client.responses.create(model="gpt-4o", input=account.question, tools=file_search(stores))
    assert response.model == extractive.MODEL and response.output[0].queries == [account.question]
    assert "[1]" in response.output_text and response.output[1].content[0].annotations[0].filename == "account.md"
    with client.responses.stream(model="gpt-4o", input=account.question, tools=file_search(stores)) as stream:
        final = stream.get_final_response()
    assert final.output_text == response.output_text
    with pytest.raises(openai.BadRequestError) as failed:
        client.responses.create(model="gpt-4o", input="hi")
    assert failed.value.body["param"] == "tools"


def test_another_tenants_store_is_404(start_server):
    import httpx

    admin_key = "admin-secret"
    api = start_server(admin_key=admin_key, api_key=None)

    def tenant(name: str) -> openai.OpenAI:
        headers = {"Authorization": f"Bearer {admin_key}"}
        httpx.post(f"{api.url}/v1/admin/tenants", json={"name": name}, headers=headers).raise_for_status()
        made = httpx.post(f"{api.url}/v1/admin/tenants/{name}/api_keys", json={"name": "t"}, headers=headers)
        return openai.OpenAI(base_url=f"{api.url}/v1", api_key=made.json()["key"], max_retries=0)

    a, b = tenant("a"), tenant("b")
    store = make_store(a, [doc("account.md")])
    response = a.responses.create(model="m", input=doc("account.md").question, tools=file_search([store]))
    with pytest.raises(openai.NotFoundError):
        b.responses.create(model="m", input="hi", tools=file_search([store]))
    with pytest.raises(openai.NotFoundError):
        b.responses.retrieve(response.id)
