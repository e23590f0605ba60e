"""Responses (OpenAI's Responses API with the file_search tool): one engine with /v1/answers (service/exchange.py).

How a response is made, by what is configured:
- a model with tool calling (RAGSTORE_LLM_TOOLS on, the default) is offered file_search as a function; ragstore
  runs the searches it asks for (several calls, several queries each) through the search service and feeds the
  passages back, for up to MAX_ROUNDS rounds, then the model answers. A model that answers at once, without
  searching, is asked again with the search run on the user's input first, as the next case;
- a model without tool calling (RAGSTORE_LLM_TOOLS off) gets the search run on the user's input first, the
  passages in the prompt, as /v1/answers gives them;
- no model: the extractive answer of /v1/answers.
The engine yields what happens as it happens (a search starting and done, pieces of text) and ends with the whole
response; a stored response is written in one transaction with its exchange, once whole: a failure stores nothing.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ragstore import ids
from ragstore.cache import QueryCache
from ragstore.chat import extractive, prompt
from ragstore.chat import response_objects as objects
from ragstore.chat.llm import ChatModel, Reply, Usage
from ragstore.errors import ConversationNotFound, InvalidRequest, ResponseNotFound
from ragstore.ingest.embed import Embedder
from ragstore.models import Passage
from ragstore.service import exchange, stores
from ragstore.store import conversations as conversation_store
from ragstore.store import responses as response_store
from ragstore.store.db import Database

RESPONSE = "resp_"
SEARCH_CALL = "fs_"
MAX_ROUNDS = 3  # rounds of searches a model may ask for before it must answer
CHAIN_DEPTH = 20  # responses of a previous_response_id chain the model sees


@dataclass(frozen=True)
class InputItem:
    role: str  # user, assistant, system or developer
    text: str


@dataclass(frozen=True)
class Request:
    input: tuple[InputItem, ...]
    instructions: str | None = None
    file_search: exchange.Retrieval | None = None
    tool_choice: str = "auto"  # auto, none or required
    include_results: bool = False
    previous_response_id: str | None = None
    conversation_id: str | None = None
    store: bool = True
    model_options: Mapping[str, Any] = field(default_factory=dict)  # chat-completions fields: temperature, ...
    echo: Mapping[str, Any] = field(default_factory=dict)  # the request's fields the response object repeats


@dataclass(frozen=True)
class Prepared:
    request: Request
    id: str
    message_id: str
    created_at: int
    history: list[dict[str, Any]]  # the turns before this one, as chat messages
    conversation_id: str  # where the exchange is recorded
    is_new_conversation: bool

    @property
    def question(self) -> str:
        return next(item.text for item in reversed(self.request.input) if item.role == "user")


@dataclass(frozen=True)
class Started:
    body: dict[str, Any]  # the response in progress
    message_id: str  # of the answer to come
    include_results: bool


@dataclass(frozen=True)
class Finished:
    body: dict[str, Any]  # as returned to the request (search results only when included)


Event = Started | objects.SearchCall | str | Finished


@dataclass
class _Run:
    """What a response gathers as it is made."""

    messages: list[dict[str, Any]] = field(default_factory=list)  # the chat the model was last given
    calls: list[objects.SearchCall] = field(default_factory=list)
    used: list[Passage] = field(default_factory=list)  # numbered 1.. as the model was given them
    unused: list[Passage] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)

    def number(self, passage: Passage) -> int:
        for n, given in enumerate(self.used, 1):
            if given.chunk_id == passage.chunk_id:
                return n
        self.used.append(passage)
        return len(self.used)


def prepare(db: Database, tenant_id: str, request: Request, model: ChatModel | None) -> Prepared:
    """Check the request against what is stored and configured, and read the turns before it."""
    _check(request, model)
    if request.file_search is not None:
        for store_id in request.file_search.vector_store_ids:
            stores.get(db, tenant_id, store_id)  # another tenant's store, or none: 404 before anything starts
    history: list[dict[str, Any]] = []
    conversation_id, is_new = request.conversation_id, False
    with db.tenant(tenant_id) as conn:
        if request.previous_response_id is not None:
            previous = response_store.get_response(conn, tenant_id, request.previous_response_id)
            if previous is None:
                raise ResponseNotFound(
                    f"No response found with id '{request.previous_response_id}'.", param="previous_response_id"
                )
            history = response_store.response_chain(conn, tenant_id, previous.id, CHAIN_DEPTH)
            kept = previous.conversation_id
            if kept and conversation_store.get_conversation(conn, tenant_id, kept) is not None:
                conversation_id = kept
        elif request.conversation_id is not None:
            if conversation_store.get_conversation(conn, tenant_id, request.conversation_id) is None:
                raise ConversationNotFound(
                    f"No conversation found with id '{request.conversation_id}'.", param="conversation"
                )
            messages = conversation_store.conversation_messages(conn, tenant_id, request.conversation_id)
            history = [{"role": m.role, "content": m.content} for m in messages]
    if conversation_id is None:
        conversation_id, is_new = ids.new(ids.CONVERSATION), True
    return Prepared(
        request, ids.new(RESPONSE), ids.new(ids.MESSAGE), int(time.time()), history, conversation_id, is_new
    )


def run(
    db: Database,
    embedder: Embedder,
    model: ChatModel | None,
    tenant_id: str,
    prepared: Prepared,
    cache: QueryCache | None = None,
    *,
    stream: bool = False,
) -> Iterator[Event]:
    """The response as it is made: Started, each search (searching, then completed), the text in pieces, Finished."""
    name = model.model if model is not None else extractive.MODEL
    request = prepared.request
    yield Started(
        objects.response(prepared.id, prepared.created_at, name, request.echo),
        prepared.message_id,
        request.include_results,
    )
    engine = _Engine(db, embedder, model, tenant_id, prepared, cache, stream)
    text = yield from engine.answer()
    state = engine.state
    output = [objects.search_call(call, with_results=True) for call in state.calls]
    output.append(objects.message(prepared.message_id, text, state.used))
    body = objects.response(
        prepared.id,
        prepared.created_at,
        name,
        request.echo,
        status="completed",
        output=output,
        counted=state.usage,
        completed_at=int(time.time()),
    )
    if request.store:
        _store(db, tenant_id, prepared, body, text, name, state)
    yield Finished(body if request.include_results else objects.without_results(body))


def create(
    db: Database,
    embedder: Embedder,
    model: ChatModel | None,
    tenant_id: str,
    request: Request,
    cache: QueryCache | None = None,
) -> dict[str, Any]:
    """The whole response, made and (unless store is false) stored."""
    prepared = prepare(db, tenant_id, request, model)
    for event in run(db, embedder, model, tenant_id, prepared, cache):
        if isinstance(event, Finished):
            return event.body
    raise AssertionError("a response's run ends with Finished")


class _Engine:
    """One response being made: which path it takes, and the searches and model turns along it."""

    def __init__(
        self,
        db: Database,
        embedder: Embedder,
        model: ChatModel | None,
        tenant_id: str,
        prepared: Prepared,
        cache: QueryCache | None,
        stream: bool,
    ) -> None:
        self.db, self.embedder, self.model, self.tenant_id = db, embedder, model, tenant_id
        self.prepared, self.request, self.cache, self.stream = prepared, prepared.request, cache, stream
        self.state = _Run()

    def answer(self) -> Generator[Event, None, str]:
        request = self.request
        if self.model is None:
            return (yield from self._extractive())
        if request.file_search is None or request.tool_choice == "none":
            return (yield from self._plain(self.model))
        if not self.model.tools:
            return (yield from self._searched_first(self.model))
        return (yield from self._with_tools(self.model))

    def _extractive(self) -> Generator[Event, None, str]:
        yield from self._search([self.prepared.question])
        self.state.messages = self._passages_prompt()
        text = extractive.answer(self.embedder, self.prepared.question, self.state.used)
        yield text
        return text

    def _plain(self, model: ChatModel) -> Generator[Event, None, str]:
        instructions = self.request.instructions
        system = [{"role": "system", "content": instructions}] if instructions else []
        self.state.messages = [*system, *self.prepared.history, *self._turn_input()]
        reply = yield from self._speak(model, self.state.messages, held=False)
        return reply.content or ""

    def _searched_first(self, model: ChatModel) -> Generator[Event, None, str]:
        yield from self._search([self.prepared.question])
        self.state.messages = self._passages_prompt()
        reply = yield from self._speak(model, self.state.messages, held=False)
        return reply.content or ""

    def _with_tools(self, model: ChatModel) -> Generator[Event, None, str]:
        system = prompt.system(prompt.TOOL_SYSTEM_PROMPT, self.request.instructions)
        messages = [{"role": "system", "content": system}, *self.prepared.history, *self._turn_input()]
        self.state.messages = messages
        for round_ in range(MAX_ROUNDS + 1):
            offer = round_ < MAX_ROUNDS
            held = round_ == 0  # a first answer given without searching is not the response's: see the module
            choice = self.request.tool_choice if round_ == 0 else "auto"
            tools = {"tools": [prompt.FILE_SEARCH_FUNCTION], "tool_choice": choice} if offer else {}
            reply = yield from self._speak(model, messages, held=held, **tools)
            if reply.tool_calls and offer and (held or not reply.content):
                calls = [(call.id, call.name, call.arguments) for call in reply.tool_calls]
                messages.append(prompt.tool_call_message(reply.content, calls))
                for call in reply.tool_calls:
                    queries = prompt.search_queries(call.arguments) or [self.prepared.question]
                    numbered = yield from self._search(queries)
                    messages.append(prompt.tool_result(call.id, numbered))
                continue
            if held:
                return (yield from self._searched_first(model))
            return reply.content or ""
        raise AssertionError("the last round offers no tools")

    def _speak(
        self, model: ChatModel, messages: list[dict[str, Any]], *, held: bool, **tools: Any
    ) -> Generator[Event, None, Reply]:
        """One turn of the model; its text passed on as it comes unless held back."""
        options = {**self.request.model_options, **tools}
        reply: Reply | None = None
        if self.stream:
            for piece in model.chat_stream(messages, **options):
                if isinstance(piece, Reply):
                    reply = piece
                elif not held:
                    yield piece
        else:  # a whole answer: nobody reads its pieces
            reply = model.chat(messages, **options)
        assert reply is not None
        self.state.usage = self.state.usage + reply.usage
        return reply

    def _search(self, queries: Sequence[str]) -> Generator[Event, None, list[tuple[int, Passage]]]:
        """Run one file_search call, each query searched on its own; the passages it gives, numbered."""
        retrieval = self.request.file_search
        assert retrieval is not None
        call_id = ids.new(SEARCH_CALL)
        yield objects.SearchCall(call_id, tuple(queries), "searching")
        numbered: dict[int, Passage] = {}
        results: list[tuple[Passage, Mapping[str, Any]]] = []
        for query in queries:
            found = exchange.find(self.db, self.embedder, self.tenant_id, retrieval, query, self.cache)
            for passage in found.used:
                number = self.state.number(passage)
                if number not in numbered:
                    numbered[number] = passage
                    results.append((passage, found.attributes.get(passage.chunk_id, {})))
            self.state.unused.extend(p for p in found.unused if p not in self.state.unused)
        call = objects.SearchCall(call_id, tuple(queries), "completed", tuple(results))
        self.state.calls.append(call)
        yield call
        return sorted(numbered.items())

    def _turn_input(self) -> list[dict[str, str]]:
        return [{"role": _chat_role(item.role), "content": item.text} for item in self.request.input]

    def _passages_prompt(self) -> list[dict[str, Any]]:
        earlier = [*self.prepared.history, *self._turn_input()[:-1]]
        built = prompt.build_from_turns(earlier, self.state.used, self.prepared.question, self.request.instructions)
        return list(built)


def _chat_role(role: str) -> str:
    return "system" if role == "developer" else role


def _store(
    db: Database, tenant_id: str, prepared: Prepared, body: dict[str, Any], text: str, model: str, state: _Run
) -> None:
    """The response and its exchange, in one transaction."""
    request = prepared.request
    retrieval = request.file_search
    unused = tuple(p for p in state.unused if p not in state.used)
    recorded = exchange.Exchange(
        conversation_id=prepared.conversation_id,
        is_new=prepared.is_new_conversation,
        user_id=None,
        asked=[(item.role, item.text) for item in request.input],
        answer_id=prepared.message_id,
        answer=text,
        model=model,
        vector_store_ids=retrieval.vector_store_ids if retrieval else (),
        used=tuple(state.used),
        unused=unused,
        prompt=state.messages,
    )
    turn = [{"role": _chat_role(i.role), "content": i.text} for i in request.input if i.role in ("user", "assistant")]
    turn.append({"role": "assistant", "content": text})
    with db.tenant(tenant_id) as conn:
        messages = exchange.record(conn, tenant_id, recorded)
        items = [objects.input_item(m.id, m.role, m.content) for m in messages[:-1]]
        stored = response_store.StoredResponse(
            prepared.id, request.previous_response_id, prepared.conversation_id, prepared.message_id, body, items, None
        )
        response_store.insert_response(conn, tenant_id, stored, turn)


def _check(request: Request, model: ChatModel | None) -> None:
    if not any(item.role == "user" and item.text.strip() for item in request.input):
        raise InvalidRequest("The input has no user message to answer.", param="input")
    if request.previous_response_id and request.conversation_id:
        raise InvalidRequest("Give previous_response_id or conversation, not both.", param="previous_response_id")
    if not request.store and request.conversation_id:
        raise InvalidRequest("store: false stores nothing, so it cannot add to a conversation.", param="store")
    if model is None:
        if request.file_search is None:
            raise InvalidRequest(
                "No language model is configured (RAGSTORE_LLM_BASE_URL): give a file_search tool, and the "
                "answer is extracted from its stores.",
                param="tools",
            )
        if request.tool_choice == "none":
            raise InvalidRequest(
                "Without a language model the answer comes from file_search: tool_choice 'none' cannot be honoured.",
                param="tool_choice",
            )
        if "response_format" in request.model_options:
            raise InvalidRequest(
                "Without a language model the answer is extracted text: text.format cannot be honoured.",
                param="text.format",
            )
