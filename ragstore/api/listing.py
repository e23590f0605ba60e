"""The query parameters of the chat routers' lists, as OpenAI's: limit (1..100) and order."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

Limit = Annotated[int, Query(ge=1, le=100)]
Order = Literal["asc", "desc"]
