"""`ragstore import` and `ragstore check` as a user runs them, in subprocesses."""

from __future__ import annotations

import json

import psycopg

from tests.integration.test_importers import PASSAGES, _chroma, _stats_rows, _write_csv
from tests.support.processes import ragstore, ragstore_env


def test_import_json_csv_and_chroma_again_and_check(database_url, embedder, tmp_path):
    docs = tmp_path / "documents"
    docs.mkdir()
    for i, (text, topic) in enumerate(PASSAGES[:6]):
        (docs / f"kb-{i}.json").write_text(json.dumps({"id": f"kb-{i}", "content": text, "metadata": {"topic": topic}}))
    _write_csv(tmp_path / "local_stats.csv", _stats_rows(5))
    _chroma(tmp_path / "chroma", embedder)
    env = ragstore_env(database_url=database_url, data_dir=tmp_path / "data")

    first = ragstore("import", "json", str(docs), "--store", "kb", env=env)
    assert first.returncode == 0, first.stderr
    assert (
        first.stdout.startswith("kb (vs_")
        and ": 6 imported, 0 replaced, 0 unchanged, 0 failed; 6 chunks" in first.stdout
    )
    again = ragstore("import", "json", str(docs), "--store", "kb", env=env)
    assert ": 0 imported, 0 replaced, 6 unchanged, 0 failed; 0 chunks written" in again.stdout

    table = ragstore("import", "csv", str(tmp_path / "local_stats.csv"), "--store", "stats", env=env)
    assert ": 5 imported, 0 replaced, 0 unchanged, 0 failed" in table.stdout, table.stderr
    found = ragstore("search", "Tile Frenzy", "--store", "stats", "-k", "1", "--json", env=env)
    assert json.loads(found.stdout)[0]["attributes"]["scenario_name"] == "Tile Frenzy"

    chroma = ragstore("import", "chroma", str(tmp_path / "chroma"), "--store", "kb", "--collection", "minilm", env=env)
    assert ": 20 imported, 0 replaced, 0 unchanged, 0 failed; 20 chunks" in chroma.stdout, chroma.stderr
    assert "collection minilm: 20 records, embeddings reused (16 sampled documents" in chroma.stdout

    check = ragstore("check", env=env)
    assert (check.returncode, check.stdout.strip()) == (0, "default: 2 stores, 31 files, 31 chunks: clean")


def test_check_explains_problems_and_repair_fixes_them(database_url, tmp_path):
    docs = tmp_path / "documents"
    docs.mkdir()
    for i, (text, _) in enumerate(PASSAGES[:3]):
        (docs / f"kb-{i}.json").write_text(json.dumps({"id": f"kb-{i}", "content": text}))
    env = ragstore_env(database_url=database_url, data_dir=tmp_path / "data")
    assert ragstore("import", "json", str(docs), "--store", "kb", env=env).returncode == 0
    with psycopg.connect(database_url, autocommit=True) as conn:
        kb = {row[0]: row[1] for row in conn.execute("SELECT filename, id FROM files")}
        conn.execute("UPDATE vector_store_files SET chunk_count = 4 WHERE file_id = %s", (kb["kb-0.txt"],))
        conn.execute("UPDATE chunks SET text = 'Changed behind its back.' WHERE file_id = %s", (kb["kb-2.txt"],))
        conn.execute("DELETE FROM chunks WHERE file_id = %s", (kb["kb-1.txt"],))

    found = ragstore("check", env=env)
    assert found.returncode == 2, found.stderr
    lines = found.stdout.splitlines()
    assert lines[0] == "default: 1 store, 3 files, 2 chunks: 4 problems"
    assert any(line.startswith("  stale embeddings (1): chunks whose text changed") for line in lines)
    assert any(line.startswith("  count mismatches (2): per-file counters") for line in lines)
    assert any("kb-0.txt): chunk_count 4, actually 1" in line for line in lines)
    assert any(line.startswith("  files without chunks (1): completed attachments with no chunk") for line in lines)

    repaired = ragstore("check", "--repair", env=env)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert (
        "  repaired: 0 orphan chunks deleted, 1 chunk embedded again, 2 files counted again, 1 file ingested again, "
        "0 duplicate files detached" in repaired.stdout
    )
    assert repaired.stdout.strip().endswith("after repair: clean")
    final = ragstore("check", env=env)
    assert (final.returncode, final.stdout.strip()) == (0, "default: 1 store, 3 files, 3 chunks: clean")


def test_import_errors_are_one_clear_line(database_url, tmp_path):
    env = ragstore_env(database_url=database_url, data_dir=tmp_path / "data")
    (tmp_path / "stats.csv").write_text("a,b\n1,2\n")
    supported = ".csv, .docx, .htm, .html, .json, .jsonl, .markdown, .md, .pdf, .txt"
    cases = [
        (("chroma", str(tmp_path)), f"{tmp_path} is not a ChromaDB persistent directory: it has no chroma.sqlite3."),
        (("json", str(tmp_path / "nope")), f"{tmp_path / 'nope'} does not exist."),
        (
            ("csv", str(tmp_path / "stats.csv"), "--text-column", "c"),
            "The CSV has no column 'c'; its columns are: a, b.",
        ),
        (("files", str(tmp_path), "--types", "exe"), f"Unsupported types: .exe; supported: {supported}."),
    ]
    for args, message in cases:
        result = ragstore("import", *args, "--store", "s", env=env)
        assert (result.returncode, result.stderr.strip()) == (1, f"ragstore: {message}"), args
