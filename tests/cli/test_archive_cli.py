"""`ragstore backup`, `restore` and `verify` as a user runs them: a tenant moved into an empty database and checked
there; a second restore, a tampered archive and a changed store each refused or reported, never a traceback."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

from ragstore.models import DEFAULT_TENANT
from ragstore.service import answers, feedback, search
from ragstore.store.db import Database
from tests.support.documents import corpus
from tests.support.ingesting import ingest
from tests.support.processes import ragstore, ragstore_env


def test_backup_restore_into_an_empty_database_then_verify(
    db, embedder, chunker, database_url, empty_database_url, tmp_path
):
    store, _ = ingest(db, embedder, chunker, corpus())
    made = answers.answer(db, embedder, None, DEFAULT_TENANT, answers.Question(corpus()[0].question, [store.id]))
    feedback.rate(db, DEFAULT_TENANT, made.conversation.id, made.answer.id, 5, "spot on")
    source = ragstore_env(database_url=database_url, data_dir=tmp_path / "source")
    target = ragstore_env(database_url=empty_database_url, data_dir=tmp_path / "target")
    tenant, one = tmp_path / "tenant.zip", tmp_path / "handbook.zip"

    backed = ragstore("backup", "--tenant", "default", "-o", str(tenant), env=source)
    assert backed.returncode == 0, backed.stderr
    assert backed.stdout.startswith(f"backed up tenant default to {tenant} (")
    assert re.search(r"^  files\s+8$", backed.stdout, re.M) and re.search(r"^  conversations\s+1$", backed.stdout, re.M)
    store_backup = ragstore("backup", "--store", "handbook", "-o", str(one), env=source)
    assert (
        store_backup.returncode == 0
        and f"backed up handbook ({store.id}) of tenant default to {one}" in store_backup.stdout
    )

    restored = ragstore("restore", str(tenant), env=target)
    assert restored.returncode == 0, restored.stderr
    assert f"restored {tenant} into tenant default (ten_default) in" in restored.stdout
    assert re.search(r"^  feedback\s+1$", restored.stdout, re.M)
    checked = ragstore("verify", str(tenant), "--samples", "3", env=target)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.splitlines()[-1] == f"verify: all {len(checked.stdout.splitlines()) - 1} checks passed"
    assert re.search(
        rf"^PASS  search {store.id}\s+3 sample queries: the same top \d+ as an exact search", checked.stdout, re.M
    )
    with _database(empty_database_url) as copy:
        for document in corpus():
            assert _hits(copy, embedder, store.id, document.question) == _hits(
                db, embedder, store.id, document.question
            )

    again = ragstore("restore", str(tenant), env=target)
    assert again.returncode == 1 and "Traceback" not in again.stderr
    assert again.stderr.startswith("ragstore: Tenant default (ten_default) has objects of this archive already")
    renamed = ragstore("restore", str(one), "--tenant", "acme", "--store-name", "copy", env=target)
    assert renamed.returncode == 0 and "into tenant acme (ten_" in renamed.stdout and "(created)" in renamed.stdout
    assert ragstore("verify", str(one), "--tenant", "acme", "--samples", "2", env=target).returncode == 0

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tenant) as original_zip, zipfile.ZipFile(tampered, "w") as copy:
        for info in original_zip.infolist():
            data = original_zip.read(info)
            copy.writestr(info, data.replace(b"Settings", b"Setting$") if info.filename.startswith("chunks/") else data)
    refused = ragstore("restore", str(tampered), "--tenant", "other", env=target)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert re.fullmatch(
        r"ragstore: .*tampered.zip is damaged: member chunks/vs_\w+\.jsonl does not match its sha256 in the "
        r"manifest\.\n",
        refused.stderr,
    )
    assert "other" not in ragstore("tenants", "list", env=target).stdout


def test_verify_fails_on_a_changed_store_and_errors_are_one_line(db, embedder, chunker, database_url, tmp_path):
    store, _ = ingest(db, embedder, chunker, corpus()[:3])
    env = ragstore_env(database_url=database_url, data_dir=tmp_path / "data")
    archive = tmp_path / "handbook.zip"
    assert ragstore("backup", "--store", "handbook", "-o", str(archive), env=env).returncode == 0
    ingest(db, embedder, chunker, [corpus()[5]], store=store)

    changed = ragstore("verify", str(archive), "--samples", "2", env=env)
    assert changed.returncode == 2
    assert re.search(
        r"^FAIL  count files\s+3 in the archive, 4 live; not in the archive: file-\w+ \(offices.csv\)$",
        changed.stdout,
        re.M,
    )
    assert changed.stdout.splitlines()[-1].startswith("verify: ") and " checks failed" in changed.stdout

    nothing = ragstore("backup", "-o", str(tmp_path / "x.zip"), env=env)
    assert (nothing.returncode, nothing.stderr) == (
        1,
        "ragstore: Say what to back up: --store NAME (repeatable), or --tenant NAME for a whole tenant.\n",
    )
    missing = ragstore("restore", str(tmp_path / "nope.zip"), env=env)
    assert (missing.returncode, missing.stderr) == (1, f"ragstore: {tmp_path / 'nope.zip'} does not exist.\n")
    assert not list(tmp_path.glob("*.partial")) and not (tmp_path / "x.zip").exists()


@contextmanager
def _database(url: str) -> Iterator[Database]:
    database = Database(url, pool_size=2)
    database.pool.open(wait=True)
    try:
        yield database
    finally:
        database.close()


def _hits(db: Database, embedder, store_id: str, question: str) -> list[tuple]:
    hits = search.search(db, embedder, DEFAULT_TENANT, [store_id], question, 3, ranker="hybrid")
    return [(hit.file_id, hit.chunk_index, round(hit.score, 6), hit.text) for hit in hits]
