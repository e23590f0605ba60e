"""Object ids with a type prefix, as OpenAI's: file-..., vs_..., vsfb_..."""

from __future__ import annotations

import secrets

FILE = "file-"
VECTOR_STORE = "vs_"
FILE_BATCH = "vsfb_"
TENANT = "ten_"
API_KEY = "key_"


def new(prefix: str) -> str:
    """A fresh random id: the prefix and 24 url-safe characters."""
    return prefix + secrets.token_hex(12)
