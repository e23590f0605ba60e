"""The objects of OpenAI's Responses API as ragstore renders them: the response, its file_search_call and message
items, file citations, usage and input items (JSON dicts, as the reference schemas give them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ragstore.chat import prompt
from ragstore.chat.llm import Usage
from ragstore.models import Passage


@dataclass(frozen=True)
class SearchCall:
    """One file_search call: the queries run, its status, and the passages it found with their numbers."""

    id: str
    queries: tuple[str, ...]
    status: str  # searching, then completed
    results: tuple[tuple[Passage, Mapping[str, Any]], ...] = field(default=())  # (passage, file attributes)


def search_call(call: SearchCall, *, with_results: bool) -> dict[str, Any]:
    status = "in_progress" if call.status == "searching" else call.status
    results = [
        {
            "file_id": p.file_id,
            "filename": p.filename,
            "score": p.score,
            "text": p.excerpt,
            "attributes": dict(attributes),
        }
        for p, attributes in call.results
    ]
    return {
        "id": call.id,
        "type": "file_search_call",
        "status": status,
        "queries": list(call.queries),
        "results": results if with_results and status == "completed" else None,
    }


def citations(text: str, used: Sequence[Passage]) -> list[dict[str, Any]]:
    """A file_citation for each [n] of the text, at its position, pointing at passage n's file."""
    return [
        {
            "type": "file_citation",
            "file_id": used[number - 1].file_id,
            "filename": used[number - 1].filename,
            "index": position,
        }
        for position, number in prompt.citation_marks(text, len(used))
    ]


def output_text(text: str, used: Sequence[Passage]) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": citations(text, used), "logprobs": []}


def message(message_id: str, text: str, used: Sequence[Passage], status: str = "completed") -> dict[str, Any]:
    content = [output_text(text, used)] if status == "completed" else []
    return {"id": message_id, "type": "message", "role": "assistant", "status": status, "content": content}


def usage(counted: Usage) -> dict[str, Any]:
    return {
        "input_tokens": counted.input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": counted.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": counted.input_tokens + counted.output_tokens,
    }


def response(
    response_id: str,
    created_at: int,
    model: str,
    echo: Mapping[str, Any],
    *,
    status: str = "in_progress",
    output: Sequence[Mapping[str, Any]] = (),
    counted: Usage | None = None,
    completed_at: int | None = None,
    error: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The response object; echo: the request's fields it repeats (instructions, tools, tool_choice, ...)."""
    body = {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "completed_at": completed_at,
        "error": dict(error) if error else None,
        "incomplete_details": None,
        "model": model,
        "output": [dict(item) for item in output],
        **echo,
    }
    if counted is not None:  # the schema has usage optional, not nullable
        body["usage"] = usage(counted)
    return body


def without_results(body: Mapping[str, Any]) -> dict[str, Any]:
    """The response as returned without include=["file_search_call.results"]."""
    output = [{**item, "results": None} if item.get("type") == "file_search_call" else item for item in body["output"]]
    return {**body, "output": output}


def input_item(item_id: str, role: str, text: str) -> dict[str, Any]:
    if role == "assistant":
        return message(item_id, text, ())
    return {
        "id": item_id,
        "type": "message",
        "role": role,
        "status": "completed",
        "content": [{"type": "input_text", "text": text}],
    }
