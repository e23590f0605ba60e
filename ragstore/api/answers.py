"""/v1/answers: a question answered from vector stores, remembered in a conversation; streamed on request.

The stream is server-sent events, each `event: <type>` with a JSON `data` carrying the same `type`:
`answer.context` (the conversation id and the passages found), `answer.delta` (a piece of text), then
`answer.completed` (the stored answer object) or `error` (the error envelope's `error`; nothing is stored).
A client that goes away mid-answer does not lose the exchange: the answer is still finished and stored, even when
the server is being shut down (api/relay.py).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from ragstore.api import chat_schemas as wire
from ragstore.api.deps import RuntimeDep, TenantDep
from ragstore.api.relay import Relay
from ragstore.api.vector_stores import RANKERS
from ragstore.chat import objects
from ragstore.errors import InvalidRequest, RagstoreError
from ragstore.service import answers

router = APIRouter(prefix="/v1/answers", tags=["Answers"])


@router.post(
    "",
    response_model=wire.AnswerObject,
    responses={200: {"content": {"text/event-stream": {}}, "description": "the answer, or its event stream"}},
)
def create_answer(body: wire.AnswerRequest, runtime: RuntimeDep, tenant: TenantDep) -> Any:
    """Answer the question from the stores' best passages: with the chat model at RAGSTORE_LLM_BASE_URL when one
    is set, else extractively (the passages' sentences nearest to the question, cited as [n])."""
    options = body.ranking_options
    if options and options.rerank:
        raise InvalidRequest("ranking_options.rerank applies to vector store search only.", param="ranking_options")
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
            answers.answer(runtime.db, runtime.queries, runtime.chat_model, tenant, question, runtime.cache)
        )
    prepared = answers.prepare(runtime.db, runtime.queries, tenant, question, runtime.cache)  # errors: plain responses
    pieces = Relay(answers.stream(runtime.db, runtime.queries, runtime.chat_model, tenant, prepared))
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


async def _events(prepared: answers.Prepared, pieces: Relay[str | answers.Answer]) -> AsyncIterator[str]:
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
