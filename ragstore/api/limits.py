"""Every bound on what a request may hold, as data: the wire models check them before any work is done (a 400
whose `param` names the field), the access middleware checks the JSON body's size per route (a 413), and the README's
limits table lists the same rows (tests/unit/test_limits.py holds the two together).

OpenAI's own bounds are kept where its reference gives them (metadata and attributes: 16 pairs, keys of 64 characters,
values of 512; file_ids: 500 on a store, 2000 in a batch; max_num_results: 50); the others are ragstore's, each chosen
well above any real use and low enough that the largest accepted request costs a bounded time and memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ragstore.service import embeddings, search

KB, MB = 1024, 1024 * 1024

# Maps: metadata (vector stores, conversations) and attributes (vector store files); OpenAI's bounds.
MAP_PAIRS = 16
MAP_KEY_CHARS = 64
METADATA_VALUE_CHARS = 512
ATTRIBUTE_VALUE_CHARS = 512

# Vector stores.
NAME_CHARS = 256
DESCRIPTION_CHARS = 512
STORE_FILE_IDS = 500
BATCH_FILES = 2000
ID_CHARS = 128  # any object id given in a body (file_id, vector_store_ids, conversation_id, ...)

# Search.
QUERY_CHARS = 4096
QUERY_ITEMS = 10
MAX_RESULTS = search.MAX_RESULTS
FILTER_LIST_ITEMS = 1000  # one `in` / `nin` list
FILTER_ITEMS = 2000  # every `in` / `nin` list of one filter together
FILTER_DEPTH = 10  # store/filters.py's MAX_DEPTH
FILTER_COMPARISONS = 100  # store/filters.py's MAX_COMPARISONS

# Conversations and answers.
CONVERSATION_ITEMS = 20  # items added by one request
ITEM_CHARS = 100_000  # one item's text, all its parts together
ITEM_PARTS = 16
LABEL_CHARS = 512  # user_id, title
QUESTION_CHARS = 32_000
ANSWER_STORES = 10
ANSWER_RESULTS = 20
COMMENT_CHARS = 4000

# Training.
DATASET_NAME_CHARS = 256
DATASET_DESCRIPTION_CHARS = 4000
DATASET_EXAMPLES = 10_000

# Embeddings (service/embeddings.py checks them).
EMBEDDING_INPUTS = embeddings.MAX_INPUTS
EMBEDDING_INPUT_CHARS = embeddings.MAX_INPUT_CHARACTERS
EMBEDDING_TOTAL_CHARS = embeddings.MAX_TOTAL_CHARACTERS

# Administration.
ADMIN_NAME_CHARS = 64  # a tenant's, an API key's

# Whole JSON bodies (multipart uploads have RAGSTORE_MAX_UPLOAD_BYTES instead).
JSON_BODY_BYTES = 1 * MB
LARGE_JSON_BODY_BYTES = 8 * MB


@dataclass(frozen=True)
class Bound:
    """One row of the limits table."""

    what: str
    value: int
    unit: str


BOUNDS: tuple[Bound, ...] = (
    Bound("metadata / attributes: key-value pairs", MAP_PAIRS, "pairs"),
    Bound("metadata / attributes: a key", MAP_KEY_CHARS, "characters"),
    Bound("metadata: a value", METADATA_VALUE_CHARS, "characters"),
    Bound("attributes: a string value", ATTRIBUTE_VALUE_CHARS, "characters"),
    Bound("vector store `name`", NAME_CHARS, "characters"),
    Bound("vector store `description`", DESCRIPTION_CHARS, "characters"),
    Bound("vector store `file_ids`", STORE_FILE_IDS, "ids"),
    Bound("file batch `file_ids` / `files`", BATCH_FILES, "files"),
    Bound("an id in a body (`file_id`, `vector_store_ids`, ...)", ID_CHARS, "characters"),
    Bound("search `query` (a string, or each string of a list)", QUERY_CHARS, "characters"),
    Bound("search `query` as a list", QUERY_ITEMS, "strings"),
    Bound("search `max_num_results`", MAX_RESULTS, "results"),
    Bound("`filters`: one `in` / `nin` list", FILTER_LIST_ITEMS, "values"),
    Bound("`filters`: all `in` / `nin` lists together", FILTER_ITEMS, "values"),
    Bound("`filters`: nesting depth", FILTER_DEPTH, "levels"),
    Bound("`filters`: comparisons", FILTER_COMPARISONS, "comparisons"),
    Bound("conversation `items` per request", CONVERSATION_ITEMS, "items"),
    Bound("an item's text (`content`, all its parts)", ITEM_CHARS, "characters"),
    Bound("an item's content parts", ITEM_PARTS, "parts"),
    Bound("`user_id`, `title`", LABEL_CHARS, "characters"),
    Bound("answer `question`", QUESTION_CHARS, "characters"),
    Bound("answer `vector_store_ids`", ANSWER_STORES, "stores"),
    Bound("answer `max_num_results`", ANSWER_RESULTS, "passages"),
    Bound("feedback `comment`", COMMENT_CHARS, "characters"),
    Bound("dataset `name`", DATASET_NAME_CHARS, "characters"),
    Bound("dataset `description`", DATASET_DESCRIPTION_CHARS, "characters"),
    Bound("dataset `example_ids`", DATASET_EXAMPLES, "ids"),
    Bound("embeddings `input` as a list", EMBEDDING_INPUTS, "texts"),
    Bound("embeddings `input`: one text", EMBEDDING_INPUT_CHARS, "characters"),
    Bound("embeddings `input`: all its texts together", EMBEDDING_TOTAL_CHARS, "characters"),
    Bound("tenant and API key `name`", ADMIN_NAME_CHARS, "characters"),
    Bound("a JSON body (every route but those below)", JSON_BODY_BYTES, "bytes"),
    Bound(
        "a JSON body to `/v1/conversations`, its items, `.../file_batches`, `/v1/responses`, `/v1/embeddings`",
        LARGE_JSON_BODY_BYTES,
        "bytes",
    ),
)

# Routes whose JSON bodies may be larger: up to 20 items of 100,000 characters, 2000 files with their attributes.
_LARGE_BODIES = re.compile(
    r"^/v1/(conversations(/[^/]+(/items)?)?|vector_stores/[^/]+/file_batches|responses|embeddings)$"
)


def body_bytes(method: str, path: str) -> int:
    """The most bytes a JSON (not multipart) body sent to this route may have."""
    return LARGE_JSON_BODY_BYTES if method == "POST" and _LARGE_BODIES.match(path) else JSON_BODY_BYTES
