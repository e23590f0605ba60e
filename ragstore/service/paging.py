"""Where a page of a list starts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ragstore.errors import InvalidRequest
from ragstore.models import PageRequest


def check(page: PageRequest) -> None:
    if page.after and page.before:
        raise InvalidRequest("Give 'after' or 'before', not both.", param="before")


def cursor_time(page: PageRequest, lookup: Callable[[str], Any]) -> datetime | None:
    """The created_at of the page's cursor object; a cursor naming nothing is a bad request."""
    check(page)
    if page.cursor is None:
        return None
    found = lookup(page.cursor)
    if found is None:
        param = "after" if page.after else "before"
        raise InvalidRequest(f"No object with id '{page.cursor}' to page from.", param=param)
    return found.created_at
