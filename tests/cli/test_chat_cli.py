"""`ragstore conversations export` and `ragstore datasets export` as a user runs them, on exchanges made through
the service layer (the same calls the API makes)."""

from __future__ import annotations

import json

from ragstore.models import DEFAULT_TENANT, PageRequest
from ragstore.service import answers, feedback, training
from tests.support.documents import corpus
from tests.support.ingesting import ingest
from tests.support.processes import ragstore, ragstore_env


def ask(db, embedder, store_id: str, question: str, user: str) -> answers.Answer:
    return answers.answer(db, embedder, None, DEFAULT_TENANT, answers.Question(question, [store_id], user_id=user))


def test_export_conversations_and_a_dataset(db, embedder, chunker, database_url, tmp_path):
    store, _ = ingest(db, embedder, chunker, corpus())
    documents = corpus()
    made = [ask(db, embedder, store.id, d.question, "ana" if i < 3 else "bo") for i, d in enumerate(documents[:4])]
    for answer in made[:3]:
        feedback.rate(db, DEFAULT_TENANT, answer.conversation.id, answer.answer.id, 5, "good")
    examples = training.list_examples(db, DEFAULT_TENANT, "candidate", PageRequest(10, "asc")).items
    approved = [training.review(db, DEFAULT_TENANT, e.id, "approved").id for e in examples]
    training.create_dataset(db, DEFAULT_TENANT, "support v1", example_ids=approved)
    env = ragstore_env(database_url=database_url, data_dir=tmp_path / "data")

    result = ragstore("conversations", "export", "--user", "ana", "-o", str(tmp_path / "ana.json"), env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"exported 3 conversations to {tmp_path / 'ana.json'}"
    exported = json.loads((tmp_path / "ana.json").read_text())
    assert [c["id"] for c in exported["conversations"]] == [a.conversation.id for a in made[:3]]
    assert all(c["user_id"] == "ana" and len(c["items"]) == 2 for c in exported["conversations"])
    assert exported["conversations"][0]["items"][1]["feedback"]["comment"] == "good"

    one = ragstore("conversations", "export", "--conversation", made[3].conversation.id, env=env)
    assert [c["user_id"] for c in json.loads(one.stdout)["conversations"]] == ["bo"]
    everyone = ragstore("conversations", "export", env=env)  # the API asks for a user_id; the CLI exports all
    assert [c["user_id"] for c in json.loads(everyone.stdout)["conversations"]] == ["ana"] * 3 + ["bo"]

    result = ragstore(
        "datasets", "export", "support v1", "--format", "chat", "-o", str(tmp_path / "chat.jsonl"), env=env
    )
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "chat.jsonl").read_text().splitlines()
    assert "exported 3 chat lines from dataset support v1" in result.stderr
    assert {json.loads(line)["messages"][-1]["content"] for line in lines} == {a.answer.content for a in made[:3]}

    triplets = ragstore("datasets", "export", "support v1", "--format", "triplets", env=env)
    queries = [json.loads(line)["query"] for line in triplets.stdout.splitlines()]
    assert sorted(queries) == sorted(d.question for d in documents[:3])

    listed = ragstore("datasets", "list", env=env)
    assert listed.stdout.splitlines()[1].endswith("       3  support v1")

    missing = ragstore("datasets", "export", "nope", "-o", str(tmp_path / "nope.jsonl"), env=env)
    assert missing.returncode == 1 and missing.stderr.strip() == "ragstore: No dataset found with 'nope'."
    assert not (tmp_path / "nope.jsonl").exists() and not (tmp_path / "nope.jsonl.partial").exists()
