"""`ragstore reembed` as a user runs it, against a stand-in remote model of another dimension."""

from __future__ import annotations

import json

from tests.support.documents import corpus
from tests.support.embeddings_server import embeddings_server
from tests.support.ingesting import ingest
from tests.support.processes import ragstore, ragstore_env


def test_start_report_switch_rollback_drop(db, embedder, chunker, database_url, tmp_path):
    store, _ = ingest(db, embedder, chunker, corpus())
    env = ragstore_env(database_url=database_url, data_dir=tmp_path / "data")
    with embeddings_server(embedder) as remote:
        started = ragstore(
            "reembed",
            "start",
            "--store",
            "handbook",
            "--model",
            remote.model,
            "--dimensions",
            "512",
            "--base-url",
            remote.url,
            env=env,
        )
        assert started.returncode == 0, started.stderr
        lines = started.stdout.splitlines()
        assert lines[0].startswith("space emb_") and f"{remote.model} (512-d) for handbook ({store.id})" in lines[0]
        assert any(line.startswith("built: ") and "chunks embedded" in line for line in lines)
        assert any(line.startswith("overlap@10: ") for line in lines)

        switched = ragstore("reembed", "switch", "--store", "handbook", env=env)
        assert switched.stdout.strip() == f"handbook: searches now use {remote.model} (512-d)"
        found = ragstore("search", corpus()[1].question, "--store", "handbook", "-k", "1", "--json", env=env)
        assert found.returncode == 0 and json.loads(found.stdout)[0]["filename"] == corpus()[1].filename

        status = ragstore("reembed", "status", "--store", "handbook", env=env).stdout.splitlines()
        assert [line.split()[1] for line in status] == ["previous", "active"]
        back = ragstore("reembed", "rollback", "--store", "handbook", env=env)
        assert back.stdout.strip() == "handbook: searches now use all-MiniLM-L6-v2 (384-d)"
        dropped = ragstore("reembed", "drop", "--store", "handbook", env=env)
        assert dropped.stdout.strip() == f"handbook: dropped {remote.model} (ready)"
        again = ragstore("reembed", "switch", "--store", "handbook", env=env)
        assert again.returncode == 1 and again.stderr.strip() == (
            f"ragstore: Store {store.id} has no re-embedding ready to switch to."
        )
