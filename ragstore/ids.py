"""Object ids with a type prefix, as OpenAI's: file-..., vs_..., vsfb_..."""

from __future__ import annotations

import secrets
import time

FILE = "file-"
VECTOR_STORE = "vs_"
FILE_BATCH = "vsfb_"
TENANT = "ten_"
API_KEY = "key_"
ATTACH = "att_"
CONVERSATION = "conv_"
MESSAGE = "msg_"
FEEDBACK = "fb_"
TRAINING_EXAMPLE = "tex_"
DATASET = "ds_"
SPACE = "emb_"


def new(prefix: str) -> str:
    """A fresh id: the prefix, 12 hex digits of the time in ms, 12 random ones.

    Ids sort in the order they were made, so lists page by id alone: a page after an object deleted since still
    knows where to start.
    """
    return f"{prefix}{time.time_ns() // 1_000_000:012x}{secrets.token_hex(6)}"
