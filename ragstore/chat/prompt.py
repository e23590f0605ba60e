"""The messages a chat model gets for a question: instructions, the recent turns, then numbered passages.

Training examples are built by the same function, so a model fine-tuned on them sees exactly what it will be given.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ragstore.models import Message, Passage

SYSTEM_PROMPT = (
    "You answer questions from a company's knowledge base. Use only the numbered passages given with the question, "
    "and cite the passages each statement comes from by their numbers in brackets, like [1] or [2][3]. If the "
    "passages do not answer the question, say that the knowledge base does not say."
)
# The earlier turns of a conversation given to the model with a new question (three exchanges).
HISTORY_MESSAGES = 6
_CITATION = re.compile(r"\[(\d{1,3})\]")


def build(history: Sequence[Message], passages: Sequence[Passage], question: str) -> list[dict[str, str]]:
    """The chat messages for the question: system prompt, the last turns of history, the passages and question."""
    turns = [m for m in history if m.role in ("user", "assistant")][-HISTORY_MESSAGES:]
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        *({"role": m.role, "content": m.content} for m in turns),
        {"role": "user", "content": user_turn(passages, question)},
    ]


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
