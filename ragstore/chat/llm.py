"""A chat model behind any OpenAI-compatible POST {base_url}/chat/completions (OpenAI, vLLM, Ollama, llama.cpp).

Both the whole answer and its stream (server-sent events of `chat.completion.chunk` objects, ended by
`data: [DONE]`) are supported; every failure becomes an UpstreamError with the endpoint's own message. A transient
failure (429, a 5xx, a connection error) is retried with back-off (ingest/retry.py) until the answer, or a stream's
first line, has come; a stream that breaks off after that is not retried, its pieces already being on their way.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx

from ragstore.errors import UpstreamError
from ragstore.ingest.retry import RetryPolicy, send

DEFAULT_RETRY = RetryPolicy()


class ChatModel:
    def __init__(
        self, base_url: str, model: str, api_key: str | None, timeout: float, retry: RetryPolicy = DEFAULT_RETRY
    ) -> None:
        self.model = model
        self.retry = retry
        self._where = base_url
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/") + "/", headers=headers, timeout=timeout)

    def complete(self, messages: list[dict[str, str]]) -> str:
        """The model's whole answer."""
        try:
            body = self._body(messages, stream=False)
            response = send(self.retry, lambda: self._client.post("chat/completions", json=body), self._what)
            self._check(response)
            content = response.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
            raise self._failure(exc) from exc
        if not isinstance(content, str):
            raise UpstreamError(f"The language model at {self._where} returned no text.")
        return content

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        """The answer's pieces as the model produces them; a stream that breaks off is an UpstreamError."""
        finished = False
        try:
            body = self._body(messages, stream=True)
            with contextlib.closing(send(self.retry, lambda: self._open_stream(body), self._what)) as response:
                if response.status_code >= 400:
                    response.read()
                    self._check(response)
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue  # blank separators, comments, `event:` lines
                    data = line[len("data:") :].strip()
                    if data == "[DONE]":
                        return
                    chunk = json.loads(data)
                    if chunk.get("error"):
                        message = chunk["error"].get("message") or "an error"
                        raise UpstreamError(f"The language model at {self._where} failed mid-answer: {message}")
                    for choice in chunk.get("choices") or []:
                        finished = finished or choice.get("finish_reason") is not None
                        piece = (choice.get("delta") or {}).get("content")
                        if piece:
                            yield piece
        except (httpx.HTTPError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._failure(exc) from exc
        # Servers end with [DONE]; one that only sets finish_reason is done too. Anything else was cut short.
        if not finished:
            raise UpstreamError(f"The language model at {self._where} ended its answer before finishing it.")

    def close(self) -> None:
        self._client.close()

    @property
    def _what(self) -> str:
        return f"The language model at {self._where}"

    def _open_stream(self, body: dict[str, Any]) -> httpx.Response:
        """A streamed response, its status and headers read, its body not yet."""
        return self._client.send(self._client.build_request("POST", "chat/completions", json=body), stream=True)

    def _body(self, messages: list[dict[str, str]], *, stream: bool) -> dict[str, Any]:
        return {"model": self.model, "messages": messages, "stream": stream}

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
