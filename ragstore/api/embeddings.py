"""POST /v1/embeddings in OpenAI's wire format (CreateEmbeddingRequest -> CreateEmbeddingResponse), with the model
ragstore embeds with. The `openai` SDK asks for base64 by default (little-endian float32) and decodes it."""

from __future__ import annotations

import base64
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field, StrictInt

from ragstore.api.base import RequestModel, WireModel
from ragstore.api.deps import RuntimeDep, TenantDep
from ragstore.errors import InvalidRequest
from ragstore.service import embeddings

router = APIRouter(prefix="/v1/embeddings", tags=["Embeddings"])


class CreateEmbeddingRequest(RequestModel):
    model: str
    # Token arrays (lists of ints) are OpenAI's too; ragstore takes text only, and says so.
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: StrictInt | None = Field(None, ge=1)
    user: str | None = Field(None, max_length=256)


class Embedding(WireModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingUsage(WireModel):
    prompt_tokens: int
    total_tokens: int


class CreateEmbeddingResponse(WireModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


@router.post("", response_model=CreateEmbeddingResponse)
def create_embeddings(body: CreateEmbeddingRequest, runtime: RuntimeDep, tenant: TenantDep) -> Any:
    """Embed text with the model ragstore embeds chunks and queries with: the same vectors a search uses."""
    texts = _texts(body.input)
    found = embeddings.embed(runtime.embedder, runtime.chunker, body.model, texts, body.dimensions)
    data = [Embedding(index=i, embedding=_encoded(row, body.encoding_format)) for i, row in enumerate(found.vectors)]
    usage = EmbeddingUsage(prompt_tokens=found.tokens, total_tokens=found.tokens)
    return CreateEmbeddingResponse(data=data, model=found.model, usage=usage)


def _texts(given: str | list[str] | list[int] | list[list[int]]) -> list[str]:
    if isinstance(given, str):
        return [given]
    if all(isinstance(item, str) for item in given):
        return [item for item in given if isinstance(item, str)]
    raise InvalidRequest("input as token ids is not supported here: send the text.", param="input")


def _encoded(row: Any, encoding_format: str) -> list[float] | str:
    if encoding_format == "base64":
        return base64.b64encode(row.astype("<f4").tobytes()).decode("ascii")
    return [float(value) for value in row]
