"""/v1/answers: a question answered from vector stores, remembered in a conversation; streamed on request.

The stream is server-sent events, each `event: <type>` with a JSON `data` carrying the same `type`:
`answer.context` (the conversation id and the passages found), `answer.delta` (a piece of text), then
`answer.completed` (the stored answer object) or `error` (the error envelope's `error`; nothing is stored).
A client that goes away mid-answer does not lose the exchange: the answer is still finished and stored, even when
the server is being shut down: the app waits for the answers still being generated (up to
RAGSTORE_SHUTDOWN_GRACE_SECONDS) before it closes the database. One that cannot finish in time is not stored at all
(the exchange is one transaction): never half an answer.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from ragstore.api import chat_schemas as wire
from ragstore.api.deps import RuntimeDep, TenantDep
from ragstore.api.vector_stores import RANKERS
from ragstore.chat import objects
from ragstore.errors import RagstoreError
from ragstore.service import answers

router = APIRouter(prefix="/v1/answers", tags=["Answers"])
log = logging.getLogger(__name__)


@router.post(
    "",
    response_model=wire.AnswerObject,
    responses={200: {"content": {"text/event-stream": {}}, "description": "the answer, or its event stream"}},
)
def create_answer(body: wire.AnswerRequest, runtime: RuntimeDep, tenant: TenantDep, request: Request) -> Any:
    """Answer the question from the stores' best passages: with the chat model at RAGSTORE_LLM_BASE_URL when one
    is set, else extractively (the passages' sentences nearest to the question, cited as [n])."""
    options = body.ranking_options
    question = answers.Question(
        text=body.question,
        vector_store_ids=body.vector_store_ids,
        conversation_id=body.conversation_id,
        user_id=body.user_id,
        filters=body.filters.model_dump() if body.filters else None,
        max_num_results=body.max_num_results,
        ranker=RANKERS[options.ranker if options else "auto"],
        score_threshold=options.score_threshold if options else 0.0,
    )
    if not body.stream:
        return answer_object(
            answers.answer(runtime.db, runtime.embedder, runtime.chat_model, tenant, question, runtime.cache)
        )
    prepared = answers.prepare(runtime.db, runtime.embedder, tenant, question, runtime.cache)  # errors: plain responses
    source = answers.stream(runtime.db, runtime.embedder, runtime.chat_model, tenant, prepared)
    pieces = Relay(source, request.app.state.answers_in_flight)
    return StreamingResponse(_events(prepared, pieces), media_type="text/event-stream")


def answer_object(answer: answers.Answer) -> wire.AnswerObject:
    message = answer.answer
    used = message.context_used
    citations = [
        wire.Citation(number=n, **{k: v for k, v in asdict(used[n - 1]).items() if k != "excerpt"})
        for n in answer.citations
    ]
    return wire.AnswerObject(
        id=message.id,
        conversation_id=answer.conversation.id,
        question_id=answer.question.id,
        model=message.model or "",
        answer=message.content,
        citations=citations,
        context_used=[wire.PassageObject(**asdict(p)) for p in used],
        created_at=objects.unix(message.created_at),
    )


class InFlight:
    """The relays of streamed answers still running, which shutdown waits for."""

    def __init__(self) -> None:
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def start(self, thread: threading.Thread) -> None:
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def done(self, thread: threading.Thread) -> None:
        with self._lock:
            self._threads.discard(thread)

    def wait(self, timeout: float) -> int:
        """Wait up to timeout seconds in all for the running answers to finish; how many did not."""
        with self._lock:
            running = list(self._threads)
        if running:
            log.info("Waiting up to %g s for %d answer(s) being generated to finish.", timeout, len(running))
        deadline = time.monotonic() + timeout
        for thread in running:
            thread.join(max(0.0, deadline - time.monotonic()))
        left = sum(thread.is_alive() for thread in running)
        if left:
            log.warning("%d answer(s) did not finish within the grace period: they are not stored.", left)
        return left


class Relay:
    """Runs an answer's stream to its end in a thread of its own and hands its pieces over through a queue.

    The response reads the queue; if the client goes away, the response stops reading but the thread goes on, so
    the answer is still stored (and the model's tokens, paid for, are not thrown away).
    """

    _END = object()

    def __init__(self, source: Iterator[str | answers.Answer], in_flight: InFlight) -> None:
        self._pieces: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._in_flight = in_flight
        thread = threading.Thread(target=self._guarded, args=(source,), name="answer-relay", daemon=True)
        in_flight.start(thread)

    def _guarded(self, source: Iterator[str | answers.Answer]) -> None:
        try:
            self._run(source)
        finally:
            self._in_flight.done(threading.current_thread())

    def _run(self, source: Iterator[str | answers.Answer]) -> None:
        try:
            for piece in source:
                self._pieces.put(piece)
        except RagstoreError as exc:
            log.error("a streamed answer failed: %s", exc.message)
            self._pieces.put(exc)
        except Exception:
            log.exception("a streamed answer failed")
            self._pieces.put(RagstoreError())  # the client is told no more than in a 500 response
        else:
            self._pieces.put(self._END)

    async def __aiter__(self) -> AsyncIterator[str | answers.Answer]:
        """The pieces as they come; a failure is raised as the RagstoreError it was (or became). Each is waited for
        in a thread that a client's going away abandons: the response ends at once, the relay goes on."""
        while True:
            piece = await anyio.to_thread.run_sync(self._pieces.get, abandon_on_cancel=True)
            if piece is self._END:
                return
            if isinstance(piece, RagstoreError):
                raise piece
            yield piece


async def _events(prepared: answers.Prepared, pieces: Relay) -> AsyncIterator[str]:
    context = [asdict(p) for p in prepared.used]
    yield _event("answer.context", conversation_id=prepared.conversation_id, context_used=context)
    try:
        async for piece in pieces:
            if isinstance(piece, str):
                yield _event("answer.delta", delta=piece)
            else:
                yield _event("answer.completed", answer=answer_object(piece).model_dump(mode="json"))
    except RagstoreError as exc:
        yield _event("error", error={"message": exc.message, "type": exc.type, "param": exc.param, "code": exc.code})


def _event(kind: str, **data: Any) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data}, ensure_ascii=False)}\n\n"
