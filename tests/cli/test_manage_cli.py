"""Managing what a tenant holds from the terminal (stores, files), a re-run of ingest that uploads nothing twice,
search filters, and the error edges: each one line on stderr with its exit code."""

from __future__ import annotations

import json
import socket

from tests.support.documents import corpus
from tests.support.processes import ragstore, ragstore_env


def test_ingest_again_uploads_only_what_changed_and_stores_and_files_are_managed(database_url, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    documents = corpus()[:3]
    for document in documents:
        (docs / document.filename).write_bytes(document.data)
    (docs / "broken.pdf").write_bytes(b"%PDF-1.7 truncated")
    env = ragstore_env(database_url=database_url, data_dir=tmp_path / "data")

    first = ragstore("ingest", str(docs), "--store", "kb", env=env)
    assert first.returncode == 2, first.stderr
    assert first.stdout.strip().splitlines()[0].endswith(": 3 completed, 1 failed")
    again = ragstore("ingest", str(docs), "--store", "kb", env=env)
    assert again.stdout.splitlines()[0].endswith(": 0 completed, 1 failed, 3 unchanged"), again.stdout
    (docs / documents[0].filename).write_bytes(documents[0].data + b"\n\nOne more line, so the file changed.\n")
    (docs / "broken.pdf").unlink()
    changed = ragstore("ingest", str(docs), "--store", "kb", env=env)
    assert (changed.returncode, changed.stdout.splitlines()[0].split(": ")[-1]) == (
        0,
        "1 completed, 0 failed, 2 unchanged",
    )

    listed = json.loads(ragstore("stores", "list", "--json", env=env).stdout)
    assert [(store["name"], store["files"]["completed"], store["files"]["total"]) for store in listed] == [("kb", 3, 3)]
    shown = ragstore("stores", "show", "kb", env=env)
    assert shown.returncode == 0 and "embedding_model:" in shown.stdout and listed[0]["id"] in shown.stdout

    in_store = json.loads(ragstore("files", "list", "--store", "kb", "--json", env=env).stdout)
    assert sorted(row["filename"] for row in in_store) == sorted(d.filename for d in documents)
    assert {row["status"] for row in in_store} == {"completed"}
    failed = json.loads(ragstore("files", "list", "--store", "kb", "--status", "failed", "--json", env=env).stdout)
    assert failed == []
    everywhere = json.loads(ragstore("files", "list", "--json", env=env).stdout)
    assert {row["file_id"] for row in in_store} <= {row["id"] for row in everywhere}
    victim = in_store[0]["file_id"]
    detail = json.loads(ragstore("files", "show", victim, "--store", "kb", "--json", env=env).stdout)
    assert detail["id"] == victim and detail["in_store"]["status"] == "completed"

    batches = json.loads(ragstore("batches", "list", "--store", "kb", "--json", env=env).stdout)
    # Newest first, counted live: the changed file; the re-run's retry of broken.pdf, which failed and was dropped;
    # the first run's four less broken.pdf (dropped) and the changed file's first version (replaced).
    assert [batch["files"]["total"] for batch in batches] == [1, 0, 2]
    assert {batch["status"] for batch in batches} == {"completed"}
    shown = ragstore("batches", "list", "--store", "kb", env=env).stdout.splitlines()
    assert shown[0].split() == ["id", "status", "files", "done", "failed", "created"] and len(shown) == 4

    refused = ragstore("files", "delete", victim, env=env)  # no terminal to say yes: nothing deleted
    assert refused.returncode == 1 and "nothing deleted" in refused.stderr
    assert ragstore("files", "delete", victim, "--yes", env=env).stdout.strip() == f"deleted {victim}"
    gone = ragstore("files", "show", victim, env=env)
    assert (gone.returncode, gone.stderr.strip()) == (1, f"ragstore: No file found with id '{victim}'.")
    assert ragstore("stores", "delete", "kb", "--yes", env=env).returncode == 0
    assert json.loads(ragstore("stores", "list", "--json", env=env).stdout) == []


def test_search_filters_in_json_or_short_form(database_url, tmp_path):
    env = ragstore_env(database_url=database_url, data_dir=tmp_path / "data")
    document = corpus()[0]
    (tmp_path / document.filename).write_bytes(document.data)
    assert ragstore("ingest", str(tmp_path / document.filename), "--store", "kb", env=env).returncode == 0

    def search(*options: str) -> list[dict]:
        found = ragstore("search", "password", "--store", "kb", "--json", *options, env=env)
        assert found.returncode == 0, found.stderr
        return json.loads(found.stdout)

    assert search()  # the document holds the word
    assert search("--filter", "team=support") == []  # no file has that attribute
    assert search("--filter", "team!=support")  # ne matches a file without the key
    assert search("--filter", '{"type": "eq", "key": "team", "value": "support"}') == []
    bad = ragstore("search", "password", "--store", "kb", "--filter", "{nope", env=env)
    assert bad.returncode == 1 and bad.stderr.startswith("ragstore: --filter '{nope' is not JSON")
    for k in ("0", "51"):
        wrong = ragstore("search", "password", "--store", "kb", "-k", k, env=env)
        assert (wrong.returncode, wrong.stderr.strip()) == (1, f"ragstore: -k is 1..50, not {k}.")


def test_configuration_mistakes_are_one_line(database_url, tmp_path):
    garbled = ragstore("stores", "list", env=ragstore_env(database_url="not a url at all"))
    assert garbled.returncode == 1
    assert garbled.stderr.startswith("ragstore: RAGSTORE_DATABASE_URL is not a PostgreSQL URL or connection string")
    assert "Traceback" not in garbled.stderr

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    unwritable = ragstore("stores", "list", env=ragstore_env(data_dir=blocked / "data"))
    assert unwritable.returncode == 1 and "cannot be made" in unwritable.stderr
    assert "Traceback" not in unwritable.stderr

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = ragstore("serve", "--port", str(port), env=ragstore_env(database_url=database_url))
    assert (busy.returncode, busy.stderr.strip()) == (
        1,
        f"ragstore: cannot listen on 127.0.0.1:{port}: it is in use (--port, --host)",
    )
    assert "serving on" not in busy.stdout

    wrong_size = ragstore(
        "search", "q", "--store", "kb", env=ragstore_env(database_url=database_url, embedding_dimensions=512)
    )
    assert wrong_size.returncode == 1 and "RAGSTORE_EMBEDDING_DIMENSIONS=512" in wrong_size.stderr


def test_backup_does_not_overwrite_without_force(database_url, tmp_path):
    env = ragstore_env(database_url=database_url, data_dir=tmp_path / "data")
    document = corpus()[0]
    (tmp_path / document.filename).write_bytes(document.data)
    assert ragstore("ingest", str(tmp_path / document.filename), "--store", "kb", env=env).returncode == 0
    archive = tmp_path / "kb.zip"
    archive.write_bytes(b"keep me")
    refused = ragstore("backup", "--store", "kb", "-o", str(archive), env=env)
    assert (refused.returncode, refused.stderr.strip()) == (
        1,
        f"ragstore: {archive} exists: give another name, or --force to replace it.",
    )
    assert archive.read_bytes() == b"keep me"
    forced = ragstore("backup", "--store", "kb", "-o", str(archive), "--force", env=env)
    assert forced.returncode == 0, forced.stderr
    assert archive.read_bytes()[:2] == b"PK"
