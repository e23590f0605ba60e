"""A stand-in for a remote chat model: a real HTTP server speaking OpenAI's chat completions wire format.

The one allowed fake (a network edge that cannot be reached here). It answers from the prompt it is given: the
first sentence of passage [1], cited, so that tests can tell the answer was built from the passages ragstore sent.
Streaming sends `chat.completion.chunk` events word by word and ends with `data: [DONE]`, as OpenAI does; on
request it paces them, or fails after two pieces.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.support.serving import serving


@dataclass
class ChatServer:
    url: str
    requests: list[dict] = field(default_factory=list)
    fail_with: int | None = None  # answer every request with this HTTP status and OpenAI's error envelope
    fail_first: int = 0  # with fail_with: only the first this many requests fail (0: all)
    retry_after: str | None = None  # the Retry-After header of a failure
    pace: float = 0.0  # seconds between streamed chunks
    # A stream that fails after two pieces: "close" drops the connection, "error" sends an error event and ends.
    fail_midway: str | None = None
    hold: threading.Event | None = None  # set: a stream waits for it after its first piece
    # Offered tools, it calls file_search with these queries (default: the user's last message), unless it ignores them.
    tool_queries: list[str] | None = None
    ignore_tools: bool = False


def reply_to(messages: list[dict]) -> str:
    """The stand-in model's answer: passage [1]'s first sentence, cited, or a refusal when there is none."""
    passage = re.search(r"^\[1\] \([^)]*\)\n(.+?)(\n\n\[2\]|\n\nQuestion:)", messages[-1]["content"], re.S | re.M)
    sentence = re.match(r".+?[.!?](?=\s|$)", " ".join(passage.group(1).split())) if passage else None
    if not sentence:
        return "The knowledge base does not say."
    return f"According to the knowledge base, {sentence.group(0)} [1]"


def _handler(state: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
            if self.path != "/v1/chat/completions":
                return self._json(404, {"error": {"message": "Unknown path", "type": "invalid_request_error"}})
            if state.fail_with and (not state.fail_first or len(state.requests) <= state.fail_first):
                error = {"message": "The model is overloaded.", "type": "server_error", "code": None}
                return self._json(state.fail_with, {"error": error}, retry_after=state.retry_after)
            messages = body["messages"]
            if _calls_tool(body, state):
                queries = state.tool_queries or [messages[-1]["content"]]
                call = {
                    "id": f"call_{len(state.requests)}",
                    "name": "file_search",
                    "arguments": json.dumps({"queries": queries}),
                }
                if body.get("stream"):
                    return self._stream_call(body, call)
                return self._json(200, _completion(body["model"], None, call))
            answer = reply_from_tools(messages) if messages[-1]["role"] == "tool" else reply_to(messages)
            if body.get("stream"):
                return self._stream(body["model"], answer, state, body)
            return self._json(200, _completion(body["model"], answer))

        def _json(self, status: int, payload: dict, retry_after: str | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _start_stream(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

        def _stream_call(self, body: dict, call: dict) -> None:
            """A tool call in fragments, as OpenAI streams one: id and name first, the arguments in pieces."""
            self._start_stream()
            model, arguments = body["model"], call["arguments"]
            half = len(arguments) // 2
            first = {
                "index": 0,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["name"], "arguments": ""},
            }
            chunks = [_chunk(model, {"role": "assistant", "content": None, "tool_calls": [first]}, None)]
            for piece in (arguments[:half], arguments[half:]):
                chunks.append(_chunk(model, {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}, None))
            chunks.append(_chunk(model, {}, "tool_calls"))
            if (body.get("stream_options") or {}).get("include_usage"):
                chunks.append({**_chunk(model, {}, None), "choices": [], "usage": USAGE})
            for chunk in chunks:
                self._send(f"data: {json.dumps(chunk)}\n\n")
            self._send("data: [DONE]\n\n")
            self._send("")

        def _stream(self, model: str, answer: str, state: ChatServer, body: dict | None = None) -> None:
            self._start_stream()
            pieces = re.findall(r"\S+\s*", answer)
            chunks = [_chunk(model, {"role": "assistant", "content": ""}, None)]
            chunks += [_chunk(model, {"content": piece}, None) for piece in pieces]
            chunks.append(_chunk(model, {}, "stop"))
            if body and (body.get("stream_options") or {}).get("include_usage"):
                chunks.append({**_chunk(model, {}, None), "choices": [], "usage": USAGE})
            if state.fail_midway:
                chunks = chunks[:3]
            for number, chunk in enumerate(chunks):
                self._send(f"data: {json.dumps(chunk)}\n\n")
                time.sleep(state.pace)
                if number == 1 and state.hold is not None:
                    state.hold.wait()
            if state.fail_midway == "close":
                self.close_connection = True  # no last chunk: the body ends in the middle
                return
            if state.fail_midway == "error":
                self._send(
                    f"data: {json.dumps({'error': {'message': 'The model crashed.', 'type': 'server_error'}})}\n\n"
                )
            else:
                self._send("data: [DONE]\n\n")
            self._send("")

        def _send(self, text: str) -> None:
            data = text.encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def log_message(self, *args) -> None:
            pass

    return Handler


USAGE = {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}


def _calls_tool(body: dict, state: ChatServer) -> bool:
    """Offered file_search, the stand-in searches once per user message, then answers from what it found."""
    offered = any(t.get("function", {}).get("name") == "file_search" for t in body.get("tools") or [])
    return (
        offered
        and not state.ignore_tools
        and body.get("tool_choice") != "none"
        and body["messages"][-1]["role"] == "user"
    )


def reply_from_tools(messages: list[dict]) -> str:
    """The answer after searches: the first sentence of passage [1] of the first tool result, cited."""
    results = next(m["content"] for m in messages if m["role"] == "tool")
    passage = re.search(r"^\[1\] \([^)]*\)\n(.+?)(\n\n\[\d+\]|\Z)", results, re.S | re.M)
    sentence = re.match(r".+?[.!?](?=\s|$)", " ".join(passage.group(1).split())) if passage else None
    if not sentence:
        return "The knowledge base does not say."
    return f"According to the knowledge base, {sentence.group(0)} [1]"


def _completion(model: str, answer: str | None, call: dict | None = None) -> dict:
    message: dict = {"role": "assistant", "content": answer}
    finish = "stop"
    if call is not None:
        message["tool_calls"] = [
            {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}
        ]
        finish = "tool_calls"
    return {
        "id": "chatcmpl-standin",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": USAGE,
    }


def _chunk(model: str, delta: dict, finish: str | None) -> dict:
    return {
        "id": "chatcmpl-standin",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }


@contextmanager
def chat_server() -> Iterator[ChatServer]:
    """A running stand-in at http://127.0.0.1:<port>/v1, stopped on exit."""
    state = ChatServer(url="")
    with serving(_handler(state)) as url:
        state.url = url
        yield state
