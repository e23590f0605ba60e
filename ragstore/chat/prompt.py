"""The messages a chat model gets for a question: instructions, the recent turns, then numbered passages.

Training examples are built by the same function, so a model fine-tuned on them sees exactly what it will be given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ragstore.models import Message, Passage

SYSTEM_PROMPT = (
    "You answer questions from a company's knowledge base. Use only the numbered passages given with the question, "
    "and cite the passages each statement comes from by their numbers in brackets, like [1] or [2][3]. If the "
    "passages do not answer the question, say that the knowledge base does not say."
)
TOOL_SYSTEM_PROMPT = (
    "You answer questions from a company's knowledge base. Search it with the file_search function, one or more "
    "queries at a time, and use only the numbered passages the searches return; cite the passages each statement "
    "comes from by their numbers in brackets, like [1] or [2][3]. If the passages do not answer the question, say "
    "that the knowledge base does not say."
)
# The function a model with tool calling is offered in place of the file_search tool.
FILE_SEARCH_FUNCTION: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "file_search",
        "description": "Search the knowledge base; returns numbered passages to cite as [n].",
        "parameters": {
            "type": "object",
            "properties": {
                "queries": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "One or more search queries, each searched on its own.",
                }
            },
            "required": ["queries"],
        },
    },
}
# The earlier turns of a conversation given to the model with a new question (three exchanges).
HISTORY_MESSAGES = 6
_CITATION = re.compile(r"\[(\d{1,3})\]")


def build(history: Sequence[Message], passages: Sequence[Passage], question: str) -> list[dict[str, str]]:
    """The chat messages for the question: system prompt, the last turns of history, the passages and question."""
    return build_from_turns([{"role": m.role, "content": m.content} for m in history], passages, question)


def build_from_turns(
    turns: Sequence[Mapping[str, str]], passages: Sequence[Passage], question: str, instructions: str | None = None
) -> list[dict[str, str]]:
    """As build, from earlier turns given as chat messages; instructions (a caller's own) follow the system prompt."""
    recent = [t for t in turns if t["role"] in ("user", "assistant")][-HISTORY_MESSAGES:]
    return [
        {"role": "system", "content": system(SYSTEM_PROMPT, instructions)},
        *({"role": t["role"], "content": t["content"]} for t in recent),
        {"role": "user", "content": user_turn(passages, question)},
    ]


def system(base: str, instructions: str | None) -> str:
    return f"{base}\n\n{instructions}" if instructions else base


def tool_call_message(content: str | None, calls: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    """The assistant turn that called functions, as the chat API takes it back: (id, name, arguments) each."""
    return {
        "role": "assistant",
        "content": content,
        "tool_calls": [
            {"id": id_, "type": "function", "function": {"name": name, "arguments": arguments}}
            for id_, name, arguments in calls
        ],
    }


def tool_result(call_id: str, numbered: Sequence[tuple[int, Passage]]) -> dict[str, str]:
    """A search's passages as the tool message answering its call, numbered across the whole response."""
    if not numbered:
        return {"role": "tool", "tool_call_id": call_id, "content": "No passages were found for these queries."}
    blocks = "\n\n".join(f"[{n}] ({p.filename})\n{p.excerpt}" for n, p in numbered)
    return {"role": "tool", "tool_call_id": call_id, "content": blocks}


def search_queries(arguments: str) -> list[str]:
    """The queries of a file_search call's JSON arguments; none when they are not what the function asks for."""
    try:
        parsed = json.loads(arguments or "{}")
    except ValueError:
        return []
    queries = parsed.get("queries") if isinstance(parsed, dict) else None
    if isinstance(queries, str):
        queries = [queries]
    if not isinstance(queries, list):
        query = parsed.get("query") if isinstance(parsed, dict) else None
        return [query.strip()] if isinstance(query, str) and query.strip() else []
    return [q.strip() for q in queries if isinstance(q, str) and q.strip()][:5]


def user_turn(passages: Sequence[Passage], question: str) -> str:
    if not passages:
        return f"No passages were found for this question.\n\nQuestion: {question}"
    blocks = "\n\n".join(f"[{n}] ({p.filename})\n{p.excerpt}" for n, p in enumerate(passages, 1))
    return f"Passages:\n\n{blocks}\n\nQuestion: {question}"


def cited(answer: str, count: int) -> list[int]:
    """The passage numbers (1-based) the answer cites, in order of first citation; numbers out of range ignored."""
    seen: dict[int, None] = {}
    for match in _CITATION.finditer(answer):
        number = int(match.group(1))
        if 1 <= number <= count:
            seen.setdefault(number)
    return list(seen)


def citation_marks(answer: str, count: int) -> list[tuple[int, int]]:
    """(character position, passage number) of each in-range [n] the answer holds, in order."""
    marks = []
    for match in _CITATION.finditer(answer):
        number = int(match.group(1))
        if 1 <= number <= count:
            marks.append((match.start(), number))
    return marks
