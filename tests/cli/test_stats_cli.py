"""`ragstore stats` shows each store's embedding space: a store of the server's model beside one created in a
1536-d space of its own, served by a named endpoint (the stand-in embeddings server, real HTTP)."""

from __future__ import annotations

import json
import re

from ragstore.config import EmbeddingProvider
from ragstore.models import DEFAULT_TENANT
from ragstore.service import spaces, stores
from tests.support.documents import corpus
from tests.support.embeddings_server import embeddings_server
from tests.support.ingesting import ingest
from tests.support.processes import ragstore, ragstore_env


def test_stats_shows_each_stores_space(db, embedder, chunker, database_url, tmp_path):
    handbook, _ = ingest(db, embedder, chunker, corpus()[:2])
    with embeddings_server(embedder, models={"text-embedding-3-small": 1536}) as remote:
        providers = {"openai": EmbeddingProvider(base_url=remote.url)}
        space = spaces.choose(embedder, providers, "openai", "text-embedding-3-small", 1536)
        wide = stores.create(db, DEFAULT_TENANT, embedder, "wide", space=space)
    env = ragstore_env(database_url=database_url, data_dir=tmp_path / "data")

    shown = ragstore("stats", env=env)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert re.match(r"tenant\s+vector store\s+provider\s+model\s+dim\s+chunks$", lines[lines.index("") + 1])
    assert re.search(rf"^default\s+{handbook.name}\s+local\s+all-MiniLM-L6-v2\s+384\s+[1-9]\d*$", shown.stdout, re.M)
    assert re.search(r"^default\s+wide\s+openai\s+text-embedding-3-small\s+1536\s+0$", shown.stdout, re.M)

    as_json = ragstore("stats", "--json", env=env)
    found = {row["id"]: row for row in json.loads(as_json.stdout)["vector_stores"]}
    assert {key: found[wide.id][key] for key in ("provider", "model", "dimension")} == {
        "provider": "openai",
        "model": "text-embedding-3-small",
        "dimension": 1536,
    }
    assert (found[handbook.id]["provider"], found[handbook.id]["dimension"]) == ("local", 384)
