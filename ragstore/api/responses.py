"""/v1/responses: OpenAI's Responses API with the file_search tool, answered from ragstore's vector stores.

`stream: true` sends server-sent events in OpenAI's order and names, each with its sequence_number:
response.created, response.in_progress, per search output_item.added, file_search_call.in_progress, .searching,
.completed, output_item.done; then the message's output_item.added, content_part.added, output_text.delta...,
output_text.annotation.added per citation, output_text.done, content_part.done, output_item.done, and
response.completed. A failure mid-stream sends `error` and `response.failed`, and stores nothing; a client that goes
away does not lose the response: it is still made and stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from ragstore.api import response_schemas as wire
from ragstore.api.chat_schemas import FeedbackObject
from ragstore.api.deps import RuntimeDep, TenantDep
from ragstore.api.listing import Limit, Order
from ragstore.api.relay import Relay
from ragstore.api.vector_stores import RANKERS
from ragstore.chat import objects as chat_objects
from ragstore.chat import response_objects as objects
from ragstore.errors import InvalidRequest, RagstoreError
from ragstore.models import PageRequest
from ragstore.service import exchange, responses, stored_responses

router = APIRouter(prefix="/v1/responses", tags=["Responses"])
STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "the response, or its event stream"}
}


@router.post("", responses=STREAM_DOC)
def create_response(body: wire.CreateResponse, runtime: RuntimeDep, tenant: TenantDep) -> Any:
    """Answer the input, searching the file_search tool's vector stores: with the chat model at
    RAGSTORE_LLM_BASE_URL when one is set (offered file_search as a function), else extractively."""
    request = _request(body)
    model = runtime.chat_model
    if not body.stream:
        made = responses.create(runtime.db, runtime.queries, model, tenant, request, runtime.cache)
        return JSONResponse(made)
    prepared = responses.prepare(runtime.db, tenant, request, model)  # errors before the stream: plain responses
    events = Relay(responses.run(runtime.db, runtime.queries, model, tenant, prepared, runtime.cache, stream=True))
    return StreamingResponse(Events(events).stream(), media_type="text/event-stream")


@router.get("/{response_id}")
def get_response(
    request: Request,
    response_id: str,
    runtime: RuntimeDep,
    tenant: TenantDep,
    include: Annotated[list[str] | None, Query()] = None,
) -> JSONResponse:
    """A stored response; include=file_search_call.results adds the search results."""
    include = [*(include or []), *request.query_params.getlist("include[]")]  # the SDK's way of sending a list
    _check_include(include)
    return JSONResponse(stored_responses.get(runtime.db, tenant, response_id, include_results=bool(include)))


@router.delete("/{response_id}")
def delete_response(response_id: str, runtime: RuntimeDep, tenant: TenantDep) -> JSONResponse:
    """Forget a stored response; its exchange stays in its conversation."""
    stored_responses.delete(runtime.db, tenant, response_id)
    return JSONResponse({"id": response_id, "object": "response", "deleted": True})


@router.post("/{response_id}/cancel")
def cancel_response(response_id: str, runtime: RuntimeDep, tenant: TenantDep) -> JSONResponse:
    """Cancel a background response: ragstore makes none in the background, so this is a 400 for any it stored."""
    return JSONResponse(stored_responses.cancel(runtime.db, tenant, response_id))


@router.get("/{response_id}/input_items")
def list_input_items(
    response_id: str,
    runtime: RuntimeDep,
    tenant: TenantDep,
    limit: Limit = 20,
    order: Order = "desc",
    after: str | None = None,
    before: str | None = None,
) -> JSONResponse:
    """The items the response was given."""
    page = stored_responses.input_items(runtime.db, tenant, response_id, PageRequest(limit, order, after, before))
    data = page.items
    first, last = (data[0]["id"], data[-1]["id"]) if data else ("", "")
    return JSONResponse({"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": page.has_more})


@router.post("/{response_id}/feedback", response_model=FeedbackObject)
def rate_response(
    response_id: str, body: wire.ResponseFeedbackRequest, runtime: RuntimeDep, tenant: TenantDep
) -> FeedbackObject:
    """ragstore's own: rate a stored response's answer 1..5, as feedback on its conversation message; a rating at
    or above RAGSTORE_TRAINING_MIN_RATING makes it a training candidate, as for answers."""
    given = stored_responses.rate(
        runtime.db,
        tenant,
        response_id,
        body.rating,
        body.comment,
        candidate_at=runtime.settings.training_min_rating,
    )
    return FeedbackObject(**chat_objects.feedback(given))


def _request(body: wire.CreateResponse) -> responses.Request:
    tool = body.file_search()
    retrieval = None
    if tool is not None:
        options = tool.ranking_options
        retrieval = exchange.Retrieval(
            tuple(dict.fromkeys(tool.vector_store_ids)),
            tool.filters.model_dump() if tool.filters else None,
            tool.max_num_results,
            RANKERS[options.ranker if options else "auto"],
            options.score_threshold if options else 0.0,
        )
    return responses.Request(
        input=_input(body.input),
        instructions=body.instructions,
        file_search=retrieval,
        tool_choice=body.choice(),
        include_results=body.included_results(),
        previous_response_id=body.previous_response_id,
        conversation_id=body.conversation_id(),
        store=body.store,
        model_options=_model_options(body),
        echo=_echo(body, tool),
    )


def _input(given: str | list[dict[str, Any]]) -> tuple[responses.InputItem, ...]:
    """The input as messages: a string is one user message; file_search_call items given back are skipped."""
    if isinstance(given, str):
        return (responses.InputItem("user", given),)
    items = []
    for n, item in enumerate(given):
        kind = item.get("type", "message")
        if kind == "file_search_call":
            continue
        role, content = item.get("role"), item.get("content")
        if kind != "message" or role not in ("user", "assistant", "system", "developer"):
            raise InvalidRequest(
                f"input[{n}] must be a message of role user, assistant, system or developer.", param=f"input[{n}]"
            )
        items.append(responses.InputItem(role, _text(content, n)))
    return tuple(items)


def _text(content: Any, n: int) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and content:
        parts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") not in ("input_text", "output_text", "text"):
                raise InvalidRequest(
                    f"input[{n}].content may hold text parts only (input_text, output_text).",
                    param=f"input[{n}].content",
                )
            parts.append(str(part.get("text", "")))
        return "\n".join(parts)
    raise InvalidRequest(f"input[{n}].content must be a string or a list of text parts.", param=f"input[{n}].content")


def _model_options(body: wire.CreateResponse) -> dict[str, Any]:
    options: dict[str, Any] = {
        "temperature": body.temperature,
        "top_p": body.top_p,
        "max_tokens": body.max_output_tokens,
    }
    shape = body.text.format if body.text else None
    if shape is not None and shape.type == "json_schema":
        if shape.schema_ is None:
            raise InvalidRequest("text.format of type json_schema needs a schema.", param="text.format.schema")
        schema: dict[str, Any] = {"name": shape.name or "response", "schema": shape.schema_}
        if shape.strict is not None:
            schema["strict"] = shape.strict
        options["response_format"] = {"type": "json_schema", "json_schema": schema}
    elif shape is not None and shape.type == "json_object":
        options["response_format"] = {"type": "json_object"}
    return {key: value for key, value in options.items() if value is not None}


def _echo(body: wire.CreateResponse, tool: wire.FileSearchTool | None) -> dict[str, Any]:
    """The request's fields a response object repeats."""
    conversation = body.conversation_id()
    text = body.text.model_dump(by_alias=True, exclude_none=True) if body.text else {"format": {"type": "text"}}
    return {
        "instructions": body.instructions,
        "tools": [tool.model_dump(exclude_none=True)] if tool else [],
        "tool_choice": body.tool_choice,
        "temperature": body.temperature if body.temperature is not None else 1.0,
        "top_p": body.top_p if body.top_p is not None else 1.0,
        "max_output_tokens": body.max_output_tokens,
        "parallel_tool_calls": body.parallel_tool_calls if body.parallel_tool_calls is not None else True,
        "previous_response_id": body.previous_response_id,
        "conversation": {"id": conversation} if conversation else None,
        "metadata": body.metadata or {},
        "text": text,
        "store": body.store,
        "truncation": body.truncation or "disabled",
        "background": False,
    }


def _check_include(include: list[str] | None) -> None:
    for name in include or []:
        if name not in wire.INCLUDES:
            raise InvalidRequest(f"include may hold {', '.join(wire.INCLUDES)} only; got '{name}'.", param="include")


class Events:
    """A response's engine events as OpenAI's stream events, numbered."""

    def __init__(self, source: Relay[responses.Event]) -> None:
        self.source = source
        self.sequence = 0
        self.output: list[dict[str, Any]] = []
        self.started: dict[str, Any] = {}
        self.message_id = ""
        self.include = False
        self.opened = False
        self.text = ""

    def stream(self) -> Iterator[str]:
        try:
            for event in self.source:
                yield from self._translate(event)
        except RagstoreError as exc:
            code = exc.code if exc.status < 500 else "server_error"
            yield self._event("error", code=code, message=exc.message, param=exc.param)
            failed = {
                **self.started,
                "status": "failed",
                "output": self.output,
                "error": {"code": "server_error", "message": exc.message},
            }
            yield self._event("response.failed", response=failed)

    def _translate(self, event: responses.Event) -> Iterator[str]:
        if isinstance(event, responses.Started):
            self.started, self.message_id, self.include = event.body, event.message_id, event.include_results
            yield self._event("response.created", response=event.body)
            yield self._event("response.in_progress", response=event.body)
        elif isinstance(event, objects.SearchCall):
            yield from self._search(event)
        elif isinstance(event, str):
            yield from self._open_message()
            yield from self._delta(event)
        else:
            yield from self._finish(event.body)

    def _search(self, call: objects.SearchCall) -> Iterator[str]:
        at = {"output_index": len(self.output), "item_id": call.id}
        if call.status == "searching":
            item = objects.search_call(call, with_results=False)
            yield self._event("response.output_item.added", output_index=len(self.output), item=item)
            yield self._event("response.file_search_call.in_progress", **at)
            yield self._event("response.file_search_call.searching", **at)
            return
        yield self._event("response.file_search_call.completed", **at)
        item = objects.search_call(call, with_results=self.include)
        yield self._event("response.output_item.done", output_index=len(self.output), item=item)
        self.output.append(item)

    def _open_message(self) -> Iterator[str]:
        if self.opened:
            return
        self.opened = True
        item = objects.message(self.message_id, "", (), status="in_progress")
        yield self._event("response.output_item.added", output_index=len(self.output), item=item)
        yield self._event("response.content_part.added", **self._at(), part=objects.output_text("", ()))

    def _delta(self, piece: str) -> Iterator[str]:
        if piece:
            self.text += piece
            yield self._event("response.output_text.delta", **self._at(), delta=piece, logprobs=[])

    def _finish(self, body: dict[str, Any]) -> Iterator[str]:
        message = body["output"][-1]
        part = message["content"][0]
        yield from self._open_message()
        if part["text"].startswith(self.text):  # the engine's text is the pieces' (checked, not assumed)
            yield from self._delta(part["text"][len(self.text) :])
        for n, annotation in enumerate(part["annotations"]):
            yield self._event(
                "response.output_text.annotation.added", **self._at(), annotation_index=n, annotation=annotation
            )
        yield self._event("response.output_text.done", **self._at(), text=part["text"], logprobs=[])
        yield self._event("response.content_part.done", **self._at(), part=part)
        yield self._event("response.output_item.done", output_index=len(self.output), item=message)
        yield self._event("response.completed", response=body)

    def _at(self) -> dict[str, Any]:
        return {"item_id": self.message_id, "output_index": len(self.output), "content_index": 0}

    def _event(self, kind: str, **data: Any) -> str:
        payload = {"type": kind, "sequence_number": self.sequence, **data}
        self.sequence += 1
        return f"event: {kind}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"
