"""The pieces of answering: citations, the prompt, sentences, scrubbing, and the chat client's failures."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ragstore.chat import extractive, prompt
from ragstore.chat.llm import ChatModel
from ragstore.chat.scrub import scrub, scrub_json
from ragstore.errors import UpstreamError
from ragstore.ingest.retry import RetryPolicy
from ragstore.models import Message, Passage
from tests.support.chat_server import chat_server

PASSAGES = [
    Passage(f"chunk_{i}", f"file-{i}", f"doc{i}.txt", "vs_1", 0.9 - i / 10, f"Passage number {i} is here.")
    for i in range(1, 4)
]


def message(role: str, text: str, position: int) -> Message:
    return Message(f"msg_{position}", "conv_1", position, role, text, datetime.now(UTC))


def test_citations_are_in_range_unique_and_in_order():
    assert prompt.cited("A [2] B [1][2] C [3] D [4] E [0] [x]", 3) == [2, 1, 3]
    assert prompt.cited("no citations", 3) == []


def test_the_prompt_numbers_passages_and_keeps_recent_turns():
    history = [message("user" if i % 2 == 0 else "assistant", f"turn {i}", i) for i in range(10)]
    history.append(message("system", "ignored", 10))
    built = prompt.build(history, PASSAGES, "What now?")
    assert built[0] == {"role": "system", "content": prompt.SYSTEM_PROMPT}
    assert [m["content"] for m in built[1:-1]] == [f"turn {i}" for i in range(4, 10)]
    assert built[-1]["content"].startswith("Passages:\n\n[1] (doc1.txt)\nPassage number 1 is here.\n\n[2] (doc2.txt)")
    assert built[-1]["content"].endswith("\n\nQuestion: What now?")
    assert prompt.build([], [], "Q?")[-1]["content"] == "No passages were found for this question.\n\nQuestion: Q?"


def test_sentences_drop_markup_and_fragments():
    text = "# Title\n\n- First point is this one. Second one here! ok.\nA line without a stop"
    assert extractive.sentences(text) == ["First point is this one.", "Second one here!", "A line without a stop"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to jane.doe+hr@example.co.uk today", "write to [email] today"),
        ("call +33 6 12 34 56 78.", "call [phone]."),
        ("(555) 123-4567 or 555-123-4567", "[phone] or [phone]"),
        ("+1 (555) 123-4567", "[phone]"),
        ("06 12 34 56 78", "[phone]"),
        ("06.12.34.56.78", "[phone]"),
        ("0612345678", "[phone]"),  # unseparated, but with a national prefix
        ("+33612345678", "[phone]"),  # unseparated, but international
        ("030/1234567", "[phone]"),
        ("555 - 123 - 4567", "[phone]"),
        ("on 2024-11-21 call 06 12 34 56 78", "on 2024-11-21 call [phone]"),
        ("call 555-123-4567 at 10:30", "call [phone] at 10:30"),
        ("ISBN 978-3-16-148410-0", "ISBN [phone]"),  # documented: looks like a phone number
    ],
)
def test_scrub_replaces(text, expected):
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "on 2024-11-21 at 10:30",
        "at 2024-11-21 10:30:45",
        "2024-11-21T10:30:45.123",
        "on 21/11/2024",
        "21/11/2024 10:30",
        "21.11.2024 and 11-21-2024",
        "created 1732185045",  # a Unix timestamp
        "order 12345678901",  # a plain run of digits that does not start with + or 0
        "call 555-1234",  # 7-digit local numbers: too ambiguous to scrub
        "pi is 3.14159265358",
        "costs 1,299.99 EUR, order 12345",
        "version 1.2.3 at 192.168.1.10",
    ],
)
def test_scrub_keeps(text):
    assert scrub(text) == text


def test_scrub_json_reaches_every_string():
    value = {"messages": [{"role": "user", "content": "me@x.org"}], "n": 3, "ok": True}
    assert scrub_json(value) == {"messages": [{"role": "user", "content": "[email]"}], "n": 3, "ok": True}


class Pauses(list):
    """A RetryPolicy's sleep that only records its waits; jitter 0.5: each delay half its ceiling."""

    def policy(self, **options) -> RetryPolicy:
        return RetryPolicy(sleep=self.append, jitter=lambda: 0.5, **options)


def test_the_chat_client_reports_the_endpoint_error_once_retries_run_out():
    with chat_server() as server:
        server.fail_with = 429
        pauses = Pauses()
        model = ChatModel(server.url, "m", "sk-secret", timeout=10, retry=pauses.policy())
        for call in (lambda: model.complete([]), lambda: list(model.stream([]))):
            with pytest.raises(UpstreamError, match="answered 429: The model is overloaded.") as failure:
                call()
            assert "sk-secret" not in failure.value.message
        model.close()
    assert len(server.requests) == 2 * 4  # 4 attempts each
    assert pauses == [0.25, 0.5, 1.0] * 2  # full jitter under a doubling ceiling


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_a_transient_failure_is_retried_after_retry_after(status):
    with chat_server() as server:
        server.fail_with, server.fail_first, server.retry_after = status, 2, "3"
        pauses = Pauses()
        model = ChatModel(server.url, "m", None, timeout=10, retry=pauses.policy())
        assert model.complete([{"role": "user", "content": "hi"}]) == "The knowledge base does not say."
        server.requests.clear()
        assert "".join(model.stream([{"role": "user", "content": "hi"}])) == "The knowledge base does not say."
        model.close()
    assert pauses == [3.0, 3.0] * 2


def test_no_retry_for_a_bad_request_or_a_retry_after_too_long():
    with chat_server() as server:
        pauses = Pauses()
        model = ChatModel(server.url, "m", None, timeout=10, retry=pauses.policy(max_wait=30))
        server.fail_with = 400
        with pytest.raises(UpstreamError, match="answered 400"):
            model.complete([])
        server.fail_with, server.retry_after = 503, "120"
        with pytest.raises(UpstreamError, match="answered 503"):
            model.complete([])
        model.close()
    assert (len(server.requests), pauses) == (2, [])


@pytest.mark.parametrize(("how", "message"), [("close", "failed"), ("error", "failed mid-answer: The model crashed.")])
def test_a_stream_broken_off_after_some_pieces_is_an_upstream_error(how, message):
    with chat_server() as server:
        server.fail_midway = how
        model = ChatModel(server.url, "m", None, timeout=10)
        pieces = []
        with pytest.raises(UpstreamError, match=message):
            for piece in model.stream([{"role": "user", "content": "hi"}]):
                pieces.append(piece)
        assert pieces == ["The ", "knowledge "]
        model.close()


def test_an_unreachable_endpoint_is_an_upstream_error_after_its_retries():
    with chat_server() as server:
        url = server.url
    pauses = Pauses()
    model = ChatModel(url, "m", None, timeout=5, retry=pauses.policy())
    with pytest.raises(UpstreamError, match="failed"):
        model.complete([{"role": "user", "content": "hi"}])
    assert pauses == [0.25, 0.5, 1.0]
