"""The `ragstore` command as a user runs it: ingest a folder with its progress, search, doctor."""

from __future__ import annotations

import json
import re

from ragstore.store import migrate
from tests.support.documents import corpus
from tests.support.processes import ragstore, ragstore_env


def test_ingest_a_folder_then_search_it(database_url, tmp_path):
    docs = tmp_path / "docs"
    (docs / "nested").mkdir(parents=True)
    for document in corpus():
        (docs / "nested" / document.filename).write_bytes(document.data)
    (docs / "photo.png").write_bytes(b"\x89PNG\r\n")
    (docs / ".hidden.txt").write_text("never read")
    env = ragstore_env(database_url=database_url, data_dir=tmp_path / "data")

    ingested = ragstore("ingest", str(docs), "--store", "handbook", env=env)
    assert ingested.returncode == 0, ingested.stderr
    summary = ingested.stdout.strip().splitlines()[-1]
    assert summary.startswith("handbook (vs_") and summary.endswith(
        f": {len(corpus())} completed, 0 failed, 1 skipped (unsupported type)"
    )

    found = ragstore("search", "how do I reset my password", "--store", "handbook", "-k", "3", "--json", env=env)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert len(hits) == 3 and hits[0]["filename"] == "account.md" and "reset your password" in hits[0]["text"]
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]

    shown = ragstore("search", "deadline for expense claims", "--store", "handbook", "-k", "1", env=env)
    assert re.match(r"1\. [01]\.\d{3}  expenses\.pdf, page 2, chunk 1\n   Expense reports must", shown.stdout)
    dense = ragstore(
        "search",
        "deadline for expense claims",
        "--store",
        "handbook",
        "-k",
        "1",
        "--ranker",
        "dense",
        "--json",
        env=env,
    )
    assert 0 < json.loads(dense.stdout)[0]["score"] < 1  # the cosine itself


def test_a_failed_file_is_reported_and_the_rest_ingested(database_url, tmp_path):
    (tmp_path / "good.txt").write_text("The cafeteria serves lunch from noon until two in the afternoon.")
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.7 truncated")
    env = ragstore_env(database_url=database_url, data_dir=tmp_path / "data")
    result = ragstore("ingest", str(tmp_path / "good.txt"), str(tmp_path / "bad.pdf"), "--store", "s", env=env)
    assert result.returncode == 2
    assert ": 1 completed, 1 failed" in result.stdout
    assert "failed: bad.pdf:" in result.stdout and "(invalid_file)" in result.stdout


def test_clear_errors_not_tracebacks(database_url, tmp_path):
    env = ragstore_env(database_url=database_url, data_dir=tmp_path / "data")
    missing = ragstore("search", "q", "--store", "nowhere", env=env)
    assert (missing.returncode, missing.stderr.strip()) == (
        1,
        "ragstore: No vector store named or with id 'nowhere'.",
    )
    bad_chunks = ragstore("ingest", str(tmp_path), "--store", "s", "--chunk-size", "50", env=env)
    assert bad_chunks.returncode == 1 and "max_chunk_size_tokens must be between 100 and 4096" in bad_chunks.stderr
    no_path = ragstore("ingest", str(tmp_path / "nope"), "--store", "s", env=env)
    assert no_path.returncode == 1 and "does not exist" in no_path.stderr
    for result in (missing, bad_chunks, no_path):
        assert "Traceback" not in result.stderr


def test_doctor_names_what_ragstore_runs_on(database_url, tmp_path):
    env = ragstore_env(database_url=database_url.replace("postgres:@", "postgres:secret@"), data_dir=tmp_path)
    result = ragstore("doctor", env=env)
    assert result.returncode == 0, result.stderr
    rows = dict(line.split(None, 1) for line in result.stdout.strip().splitlines() if not line.startswith("data dir"))
    assert "secret" not in result.stdout and ":***@" in rows["database"]
    assert rows["postgresql"].startswith("18.") and rows["pgvector"].startswith("0.8")
    assert rows["embedding"].startswith("all-MiniLM-L6-v2, 384 dimensions")
    assert rows["migrations"] == f"{len(migrate.available())} applied, 0 pending"
    assert f"data dir    {tmp_path}" in result.stdout
