"""`ragstore float16` as a user runs it, on seed 003's documents table in a database named by --database-url."""

from __future__ import annotations

import json

from tests.integration.test_float16 import make_documents, values
from tests.support.processes import ragstore, ragstore_env


def test_convert_status_rollback_and_errors(db, database_url, tmp_path):
    make_documents(db, rows=200)
    original = values(db, "documents")
    env = ragstore_env(data_dir=tmp_path / "data")  # no RAGSTORE_DATABASE_URL: the option names the database
    target = ["--table", "documents", "--column", "embedding", "--database-url", database_url]

    status = ragstore("float16", "status", *target, env=env)
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[0] == "documents.embedding  vector(384)  float32"

    report_file = str(tmp_path / "report.json")
    converted = ragstore(
        "float16", "convert", *target, "--maintenance-work-mem", "128MB", "--json", report_file, env=env
    )
    assert converted.returncode == 0, converted.stderr
    lines = converted.stdout.splitlines()
    assert lines[0] == "documents.embedding: vector(384) -> halfvec(384); float32 values kept in embedding_float32"
    assert any(line.startswith("recall@10, index") for line in lines)
    assert "the swap held its lock" in lines[-1]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["after"]["column_type"] == "halfvec(384)" and report["after"]["recall_index"] >= 0.95
    assert report["after"]["index_bytes"] < report["before"]["index_bytes"]
    assert report["rows_copied"] == 200

    status = ragstore("float16", "status", *target, env=env)
    assert status.stdout.splitlines()[:2] == [
        "documents.embedding  halfvec(384)  converted",
        "backup     embedding_float32 (200 of 200 rows)",
    ]

    again = ragstore("float16", "convert", *target, env=env)
    assert again.returncode == 1 and again.stdout == ""
    assert again.stderr.startswith("ragstore: documents.embedding is already halfvec(384)")
    assert len(again.stderr.splitlines()) == 1

    back = ragstore("float16", "rollback", *target, env=env)
    assert back.returncode == 0, back.stderr
    assert back.stdout.splitlines()[0] == "documents.embedding: halfvec(384) -> vector(384)"
    assert values(db, "documents") == original

    for args, message in [
        (["rollback", *target], "ragstore: documents.embedding is vector(384) and was never converted"),
        (["status", "--table", "nowhere", "--database-url", database_url], "ragstore: There is no table nowhere"),
    ]:
        failed = ragstore("float16", *args, env=env)
        assert failed.returncode == 1 and failed.stderr.startswith(message), failed.stderr
        assert "Traceback" not in failed.stderr
