"""Wire models of the Responses API (OpenAI's `CreateResponse` and the parts of it ragstore honours).

A field ragstore cannot honour is refused with a 400 naming it; those it accepts and ignores are listed in the
README ("From Assistants to Responses"). The objects returned are rendered by ragstore.chat.response_objects and
checked against OpenAI's reference schemas by the tests.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool

from ragstore.api.base import Metadata, RequestModel
from ragstore.api.search_schemas import Filter, RankingOptions
from ragstore.errors import InvalidRequest
from ragstore.service import search

INCLUDES = ("file_search_call.results",)


class FileSearchTool(RequestModel):
    type: Literal["file_search"] = "file_search"
    vector_store_ids: list[str] = Field(min_length=1, max_length=10)
    max_num_results: int = Field(10, ge=1, le=search.MAX_RESULTS)
    filters: Filter | None = None
    ranking_options: RankingOptions | None = None


class TextFormat(RequestModel):
    type: Literal["text", "json_schema", "json_object"] = "text"
    name: str | None = Field(default=None, max_length=64)
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    description: str | None = None
    strict: bool | None = None


class TextParam(RequestModel):
    format: TextFormat = Field(default_factory=TextFormat)


class ConversationRef(RequestModel):
    id: str


class CreateResponse(RequestModel):
    model: str = Field(min_length=1, max_length=256)
    input: str | list[dict[str, Any]] = Field(min_length=1)
    instructions: str | None = Field(default=None, max_length=100_000)
    tools: list[dict[str, Any]] | None = Field(default=None, max_length=8)
    tool_choice: Literal["none", "auto", "required"] | dict[str, Any] = "auto"
    include: list[str] | None = None
    previous_response_id: str | None = None
    conversation: str | ConversationRef | None = None
    store: StrictBool = True
    stream: StrictBool = False
    metadata: Metadata | None = None
    text: TextParam | None = None
    max_output_tokens: int | None = Field(default=None, ge=16, le=1_000_000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    # Accepted and ignored (README): calls run one after another with the same result; history is bounded anyway.
    parallel_tool_calls: bool | None = None
    truncation: Literal["auto", "disabled"] | None = None
    background: Literal[False] | None = None
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None

    def file_search(self) -> FileSearchTool | None:
        """The request's file_search tool; any other tool, or two of them, is a 400."""
        found = None
        for n, tool in enumerate(self.tools or []):
            kind = tool.get("type")
            if kind != "file_search":
                raise InvalidRequest(
                    f"ragstore offers the file_search tool only; tools[{n}] is of type '{kind}'.",
                    param=f"tools[{n}].type",
                )
            if found is not None:
                raise InvalidRequest("Give one file_search tool (it may name several stores).", param=f"tools[{n}]")
            found = FileSearchTool.model_validate(tool)
        return found

    def choice(self) -> str:
        """tool_choice as the engine takes it: auto, none or required (file_search being the only tool)."""
        if isinstance(self.tool_choice, str):
            return self.tool_choice
        if self.tool_choice.get("type") == "file_search":
            return "required"
        raise InvalidRequest(
            "tool_choice may be 'none', 'auto', 'required' or {'type': 'file_search'}.", param="tool_choice"
        )

    def included_results(self) -> bool:
        for n, name in enumerate(self.include or []):
            if name not in INCLUDES:
                raise InvalidRequest(
                    f"include may hold {', '.join(INCLUDES)} only; got '{name}'.", param=f"include[{n}]"
                )
        return bool(self.include)

    def conversation_id(self) -> str | None:
        return self.conversation.id if isinstance(self.conversation, ConversationRef) else self.conversation


class ResponseFeedbackRequest(RequestModel):
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=4000)
