"""A chat model behind any OpenAI-compatible POST {base_url}/chat/completions (OpenAI, vLLM, Ollama, llama.cpp).

Both the whole answer and its stream (server-sent events of `chat.completion.chunk` objects, ended by
`data: [DONE]`) are supported, with function tools: the calls of a whole answer are read from `message.tool_calls`,
those of a stream are assembled from `delta.tool_calls` fragments by their index. Every failure becomes an
UpstreamError with the endpoint's own message. A transient failure (429, a 5xx, a connection error) is retried with
back-off (ingest/retry.py) until the answer, or a stream's first line, has come; a stream that breaks off after that
is not retried, its pieces already being on their way.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from ragstore.errors import UpstreamError
from ragstore.ingest.retry import RetryPolicy, send

DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON, as the model wrote it


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens)


@dataclass(frozen=True)
class Reply:
    """One turn of the model: its text (None when it only calls tools), its tool calls and the tokens it counted."""

    content: str | None
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=Usage)


class ChatModel:
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None,
        timeout: float,
        *,
        tools: bool = True,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.model = model
        self.retry = retry
        self.tools = tools  # whether the model is offered functions; off: callers search before asking
        self._where = base_url
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/") + "/", headers=headers, timeout=timeout)

    def complete(self, messages: Sequence[Mapping[str, Any]]) -> str:
        """The model's whole answer."""
        content = self.chat(messages).content
        if content is None:
            raise UpstreamError(f"The language model at {self._where} returned no text.")
        return content

    def stream(self, messages: Sequence[Mapping[str, Any]]) -> Iterator[str]:
        """The answer's pieces as the model produces them; a stream that breaks off is an UpstreamError."""
        for piece in self.chat_stream(messages):
            if isinstance(piece, str):
                yield piece

    def chat(self, messages: Sequence[Mapping[str, Any]], **options: Any) -> Reply:
        """One whole turn; options: tools, tool_choice and sampling fields of the request body (None ones left out)."""
        try:
            body = self._body(messages, False, options)
            response = send(self.retry, lambda: self._client.post("chat/completions", json=body), self._what)
            self._check(response)
            payload = response.json()
            message = payload["choices"][0]["message"]
            calls = tuple(
                ToolCall(str(call["id"]), call["function"]["name"], call["function"].get("arguments") or "{}")
                for call in message.get("tool_calls") or []
            )
            content = message.get("content")
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise self._failure(exc) from exc
        if not isinstance(content, str) and not calls:
            raise UpstreamError(f"The language model at {self._where} returned no text.")
        return Reply(content if isinstance(content, str) else None, calls, _usage(payload.get("usage")))

    def chat_stream(self, messages: Sequence[Mapping[str, Any]], **options: Any) -> Iterator[str | Reply]:
        """The turn's text pieces as they come, then the whole Reply (its text, assembled tool calls, usage)."""
        turn = _Turn()
        try:
            body = self._body(messages, True, options)
            with contextlib.closing(send(self.retry, lambda: self._open_stream(body), self._what)) as response:
                if response.status_code >= 400:
                    response.read()
                    self._check(response)
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue  # blank separators, comments, `event:` lines
                    data = line[len("data:") :].strip()
                    if data == "[DONE]":
                        turn.done = True
                        break
                    yield from turn.read(json.loads(data), self._where)
        except (httpx.HTTPError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._failure(exc) from exc
        # Servers end with [DONE]; one that only sets finish_reason is done too. Anything else was cut short.
        if not (turn.done or turn.finished):
            raise UpstreamError(f"The language model at {self._where} ended its answer before finishing it.")
        yield turn.reply()

    def close(self) -> None:
        self._client.close()

    @property
    def _what(self) -> str:
        return f"The language model at {self._where}"

    def _open_stream(self, body: dict[str, Any]) -> httpx.Response:
        """A streamed response, its status and headers read, its body not yet."""
        return self._client.send(self._client.build_request("POST", "chat/completions", json=body), stream=True)

    def _body(self, messages: Sequence[Mapping[str, Any]], stream: bool, options: Mapping[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": list(messages), "stream": stream}
        body.update({key: value for key, value in options.items() if value is not None})
        if stream and options:  # the usage of a streamed turn comes in a last chunk, when asked for
            body["stream_options"] = {"include_usage": True}
        return body

    def _check(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200] or response.reason_phrase
        raise UpstreamError(f"The language model at {self._where} answered {response.status_code}: {message}")

    def _failure(self, exc: Exception) -> UpstreamError:
        if isinstance(exc, UpstreamError):
            return exc
        return UpstreamError(f"The language model at {self._where} failed: {str(exc) or type(exc).__name__}")


class _Turn:
    """A streamed turn being read: its text, its tool calls by index, its usage."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.calls: dict[int, dict[str, str]] = {}
        self.usage = Usage()
        self.finished = False
        self.done = False

    def read(self, chunk: dict[str, Any], where: str) -> Iterator[str]:
        if chunk.get("error"):
            message = chunk["error"].get("message") or "an error"
            raise UpstreamError(f"The language model at {where} failed mid-answer: {message}")
        if chunk.get("usage"):
            self.usage = _usage(chunk["usage"])
        for choice in chunk.get("choices") or []:
            self.finished = self.finished or choice.get("finish_reason") is not None
            delta = choice.get("delta") or {}
            for fragment in delta.get("tool_calls") or []:
                call = self.calls.setdefault(int(fragment.get("index", 0)), {"id": "", "name": "", "arguments": ""})
                function = fragment.get("function") or {}
                call["id"] = fragment.get("id") or call["id"]
                call["name"] = function.get("name") or call["name"]
                call["arguments"] += function.get("arguments") or ""
            piece = delta.get("content")
            if piece:
                self.pieces.append(piece)
                yield piece

    def reply(self) -> Reply:
        calls = tuple(
            ToolCall(call["id"] or f"call_{index}", call["name"], call["arguments"] or "{}")
            for index, call in sorted(self.calls.items())
        )
        return Reply("".join(self.pieces) if self.pieces or not calls else None, calls, self.usage)


def _usage(counts: Any) -> Usage:
    if not isinstance(counts, dict):
        return Usage()
    return Usage(int(counts.get("prompt_tokens") or 0), int(counts.get("completion_tokens") or 0))
