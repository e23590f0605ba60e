"""Training data: examples made from rated or hand-picked answers, reviewed (candidate, approved, rejected),
grouped into datasets and exported as OpenAI fine-tuning chat JSONL or as retrieval triplets."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from ragstore import ids
from ragstore.chat import prompt
from ragstore.chat.scrub import scrub_json
from ragstore.errors import Conflict, InvalidRequest, MessageNotFound, NotFound
from ragstore.models import Dataset, Message, Page, PageRequest, TrainingExample
from ragstore.service import paging
from ragstore.store import conversations, training
from ragstore.store.db import Connection, Database

STATUSES = ("candidate", "approved", "rejected")
FORMATS = ("chat", "triplets")
_EXPORT_PAGE = 500


def has_question(conn: Connection, tenant_id: str, answer: Message) -> bool:
    """Whether a user message comes before the answer (an answer without one makes no example, and its rating
    stands alone)."""
    history = conversations.conversation_messages(conn, tenant_id, answer.conversation_id, answer.position)
    return any(m.role == "user" for m in history)


def make_example(
    conn: Connection, tenant_id: str, answer: Message, source: str, rating: int | None
) -> TrainingExample | None:
    """Snapshot an answer as a candidate (in the caller's transaction); None when it already has an example.

    Its messages are the chat the model was given, as stored with the answer, followed by the answer; earlier
    answers in the conversation carry weight 0, so that fine-tuning learns from this answer alone. An answer added
    as an item has no stored chat: it gets the one prompt.build would give a model now.
    """
    history = conversations.conversation_messages(conn, tenant_id, answer.conversation_id, answer.position)
    asked = next((m for m in reversed(history) if m.role == "user"), None)
    if asked is None:
        raise InvalidRequest("This answer has no question before it to train on.", param="message_id")
    given = conversations.message_prompt(conn, tenant_id, answer.id)
    if given is None:
        earlier = [m for m in history if m.position < asked.position]
        given = prompt.build(earlier, answer.context_used, asked.content)
    messages: list[dict[str, Any]] = [
        {**message, "weight": 0} if message["role"] == "assistant" else dict(message) for message in given
    ]
    messages.append({"role": "assistant", "content": answer.content})
    now = datetime.now(UTC)
    example = TrainingExample(
        id=ids.new(ids.TRAINING_EXAMPLE),
        message_id=answer.id,
        conversation_id=answer.conversation_id,
        source=source,
        status="candidate",
        rating=rating,
        query=asked.content,
        answer=answer.content,
        messages=messages,
        context_used=answer.context_used,
        unused_context=answer.unused_context,
        vector_store_ids=answer.vector_store_ids,
        created_at=now,
        updated_at=now,
        model=answer.model,
    )
    return training.insert_example(conn, tenant_id, example)


def rerate(conn: Connection, tenant_id: str, answer: Message, rating: int, candidate_at: int) -> TrainingExample | None:
    """Carry an answer's new rating to its example (in the caller's transaction); None if it has none.

    An example made from a rating that falls below the threshold steps back: a candidate is rejected, an
    approved example becomes a candidate again for a reviewer to look at. Other statuses stay as reviewed.
    """
    example = training.example_of_message(conn, tenant_id, answer.id)
    if example is None:
        return None
    status = example.status
    if example.source == "rating" and rating < candidate_at:
        status = {"candidate": "rejected", "approved": "candidate"}.get(status, status)
    return training.rerate(conn, tenant_id, example.id, rating, status)


def pick(db: Database, tenant_id: str, message_id: str) -> TrainingExample:
    """Make an answer a candidate by hand (the existing example if it has one)."""
    with db.tenant(tenant_id) as conn:
        message = conversations.get_message(conn, tenant_id, message_id)
        if message is None:
            raise MessageNotFound(f"No message found with id '{message_id}'.", param="message_id")
        if message.role != "assistant":
            raise InvalidRequest("Only an answer (an assistant message) can become an example.", param="message_id")
        rating = message.feedback.rating if message.feedback else None
        example = make_example(conn, tenant_id, message, "manual", rating)
        example = example or training.example_of_message(conn, tenant_id, message_id)
        assert example is not None, "make_example made none because the message has one"
        return example


def collect(db: Database, tenant_id: str, min_rating: int, vector_store_id: str | None = None) -> list[TrainingExample]:
    """Candidates from every answer rated at least min_rating (of one store's, when given) that has none yet."""
    if not 1 <= min_rating <= 5:
        raise InvalidRequest(f"min_rating must be between 1 and 5, got {min_rating}.", param="min_rating")
    made = []
    with db.tenant(tenant_id) as conn:
        for message_id in training.rated_without_example(conn, tenant_id, min_rating, vector_store_id):
            message = conversations.get_message(conn, tenant_id, message_id)
            if message is None or message.feedback is None:
                continue  # deleted since it was listed
            example = make_example(conn, tenant_id, message, "rating", message.feedback.rating)
            if example is not None:
                made.append(example)
    return made


def get_example(db: Database, tenant_id: str, example_id: str) -> TrainingExample:
    with db.tenant(tenant_id) as conn:
        return _example_found(training.get_example(conn, tenant_id, example_id), example_id)


def review(db: Database, tenant_id: str, example_id: str, status: str) -> TrainingExample:
    """Set an example's status: candidate, approved or rejected."""
    _check_status(status)
    with db.tenant(tenant_id) as conn:
        return _example_found(training.set_status(conn, tenant_id, example_id, status), example_id)


def delete_example(db: Database, tenant_id: str, example_id: str) -> None:
    """Delete an example; it leaves the datasets that held it."""
    with db.tenant(tenant_id) as conn:
        if not training.delete_example(conn, tenant_id, example_id):
            _example_found(None, example_id)


def list_examples(db: Database, tenant_id: str, status: str | None, page: PageRequest) -> Page[TrainingExample]:
    paging.check(page)
    if status is not None:
        _check_status(status)
    with db.tenant(tenant_id) as conn:
        found, has_more = training.list_examples(conn, tenant_id, status, page)
    return Page(found, has_more)


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise InvalidRequest(f"Unknown status {status!r}: one of {', '.join(STATUSES)}.", param="status")


# ---------------------------------------------------------------------------------------------------------------------
# Datasets


def create_dataset(
    db: Database, tenant_id: str, name: str, description: str | None = None, example_ids: Sequence[str] = ()
) -> Dataset:
    """A named dataset (names are unique within a tenant), with approved examples when given."""
    if not name.strip() or len(name) > 256:
        raise InvalidRequest("A dataset needs a name of 1 to 256 characters.", param="name")
    dataset_id = ids.new(ids.DATASET)
    with db.tenant(tenant_id) as conn:
        if training.dataset_by_name(conn, tenant_id, name) is not None:
            raise Conflict(f"A dataset named '{name}' exists already.", param="name")
        training.insert_dataset(conn, tenant_id, dataset_id, name, description)
        _add(conn, tenant_id, dataset_id, example_ids)
    return get_dataset(db, tenant_id, dataset_id)


def get_dataset(db: Database, tenant_id: str, dataset_id: str) -> Dataset:
    with db.tenant(tenant_id) as conn:
        return _dataset_found(training.get_dataset(conn, tenant_id, dataset_id), dataset_id)


def find_dataset(db: Database, tenant_id: str, name_or_id: str) -> Dataset:
    """A dataset by its id or its name."""
    with db.tenant(tenant_id) as conn:
        found = training.get_dataset(conn, tenant_id, name_or_id)
        found = found or training.dataset_by_name(conn, tenant_id, name_or_id)
    return _dataset_found(found, name_or_id)


def list_datasets(db: Database, tenant_id: str, page: PageRequest) -> Page[Dataset]:
    paging.check(page)
    with db.tenant(tenant_id) as conn:
        found, has_more = training.list_datasets(conn, tenant_id, page)
    return Page(found, has_more)


def delete_dataset(db: Database, tenant_id: str, dataset_id: str) -> None:
    """Delete the dataset; its examples stay."""
    with db.tenant(tenant_id) as conn:
        if not training.delete_dataset(conn, tenant_id, dataset_id):
            _dataset_found(None, dataset_id)


def add_examples(db: Database, tenant_id: str, dataset_id: str, example_ids: Sequence[str]) -> Dataset:
    """Add approved examples (adding one twice changes nothing)."""
    with db.tenant(tenant_id) as conn:
        _dataset_found(training.get_dataset(conn, tenant_id, dataset_id), dataset_id)
        _add(conn, tenant_id, dataset_id, example_ids)
    return get_dataset(db, tenant_id, dataset_id)


def remove_example(db: Database, tenant_id: str, dataset_id: str, example_id: str) -> Dataset:
    with db.tenant(tenant_id) as conn:
        _dataset_found(training.get_dataset(conn, tenant_id, dataset_id), dataset_id)
        if not training.remove_example(conn, tenant_id, dataset_id, example_id):
            raise NotFound(f"Example '{example_id}' is not in this dataset.", param="example_id")
    return get_dataset(db, tenant_id, dataset_id)


def dataset_examples(db: Database, tenant_id: str, dataset_id: str, page: PageRequest) -> Page[TrainingExample]:
    paging.check(page)
    with db.tenant(tenant_id) as conn:
        _dataset_found(training.get_dataset(conn, tenant_id, dataset_id), dataset_id)
        found, has_more = training.dataset_examples(conn, tenant_id, dataset_id, None, page)
    return Page(found, has_more)


def _add(conn: Connection, tenant_id: str, dataset_id: str, example_ids: Sequence[str]) -> None:
    wanted = list(dict.fromkeys(example_ids))
    found = training.get_examples(conn, tenant_id, wanted)  # one query for all: a dataset may list 10,000
    missing = [eid for eid in wanted if eid not in found]
    if missing:
        raise InvalidRequest(f"No training example with id {_some(missing)}.", param="example_ids")
    unapproved = [eid for eid in wanted if found[eid].status != "approved"]
    if unapproved:
        raise InvalidRequest(
            f"Only approved examples join a dataset; not approved: {_some(unapproved)}.", param="example_ids"
        )
    training.add_examples(conn, tenant_id, dataset_id, wanted)


def _some(example_ids: list[str], shown: int = 5) -> str:
    """The first few ids, and how many more: a message stays short however many ids a request names."""
    more = f" and {len(example_ids) - shown} more" if len(example_ids) > shown else ""
    return ", ".join(example_ids[:shown]) + more


# ---------------------------------------------------------------------------------------------------------------------
# Export


def export(db: Database, tenant_id: str, dataset_id: str, fmt: str, *, scrub: bool = False) -> Iterator[dict[str, Any]]:
    """The dataset's approved examples as records of the format (chat or triplets), exact duplicates removed.

    chat: {"messages": [...]}, OpenAI's fine-tuning chat format. triplets: the question, the passage the answer
    cited first (else the best one it was given), and the passages the same search found but did not give it;
    an answer given without passages makes no triplet and is left out.
    scrub: e-mail addresses and phone numbers replaced by [email] and [phone].
    """
    if fmt not in FORMATS:
        raise InvalidRequest(f"Unknown format {fmt!r}: one of {', '.join(FORMATS)}.", param="format")
    get_dataset(db, tenant_id, dataset_id)
    return _records(db, tenant_id, dataset_id, fmt, scrub)


def _records(db: Database, tenant_id: str, dataset_id: str, fmt: str, scrub: bool) -> Iterator[dict[str, Any]]:
    seen: set[str] = set()
    for example in _approved(db, tenant_id, dataset_id):
        record = {"messages": example.messages} if fmt == "chat" else triplet(example)
        if record is None:
            continue
        if scrub:
            record = scrub_json(record)
        content = {key: value for key, value in record.items() if not key.endswith("_id") and not key.endswith("_ids")}
        key = json.dumps(content, sort_keys=True, ensure_ascii=False)
        if key not in seen:
            seen.add(key)
            yield record


def triplet(example: TrainingExample) -> dict[str, Any] | None:
    """The example's retrieval triplet; None for an answer given without passages, which makes none."""
    used = example.context_used
    if not used:
        return None
    cited = prompt.cited(example.answer, len(used))
    positive = used[cited[0] - 1] if cited else used[0]
    used_texts = {p.excerpt for p in used}
    negatives = [p for p in example.unused_context if p.excerpt not in used_texts]
    return {
        "query": example.query,
        "positive": positive.excerpt,
        "negatives": [p.excerpt for p in negatives],
        "example_id": example.id,
        "positive_chunk_id": positive.chunk_id,
        "negative_chunk_ids": [p.chunk_id for p in negatives],
    }


def _approved(db: Database, tenant_id: str, dataset_id: str) -> Iterator[TrainingExample]:
    cursor = None
    while True:
        with db.tenant(tenant_id) as conn:
            page = PageRequest(_EXPORT_PAGE, "asc", cursor)
            found, has_more = training.dataset_examples(conn, tenant_id, dataset_id, "approved", page)
        yield from found
        if not has_more or not found:
            return
        cursor = found[-1].id


def _example_found(example: TrainingExample | None, example_id: str) -> TrainingExample:
    if example is None:
        raise NotFound(f"No training example found with id '{example_id}'.", param="example_id")
    return example


def _dataset_found(dataset: Dataset | None, dataset_id: str) -> Dataset:
    if dataset is None:
        raise NotFound(f"No dataset found with '{dataset_id}'.", param="dataset_id")
    return dataset
