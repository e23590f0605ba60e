"""Importers into a real store, with the real model: ChromaDB (made here with the chromadb package), a folder of JSON
documents, a CSV file and a folder of files. Each imports, is searchable and filterable, changes nothing when run
again, and replaces a source that changed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
import psycopg
import pytest
from chromadb.config import Settings as ChromaSettings

from ragstore.importers import chroma, csvrows, files, jsondocs
from ragstore.importers.common import Report, Silent
from ragstore.importers.records import Destination
from ragstore.ingest import chunk as chunk_module
from ragstore.ingest.chunk import AUTO
from ragstore.models import DEFAULT_TENANT
from ragstore.service import integrity, reembed, search, spaces, stores, tenants
from ragstore.worker import Worker, ingestion_tasks
from tests.support.documents import corpus, long_text
from tests.support.embeddings_server import embeddings_server

PASSAGES = [
    ("The cafeteria serves lunch from noon until two in the afternoon.", "food"),
    ("Vegetarian and vegan dishes are labelled with a green leaf on the menu.", "food"),
    ("Coffee and tea are free in every kitchen on each floor.", "food"),
    ("To reset your password, open Settings, choose Security and click Forgot password.", "it"),
    ("Laptops are replaced every three years through the IT service portal.", "it"),
    ("The VPN must be switched on before connecting to internal dashboards from home.", "it"),
    ("Printers on the second floor accept badge release for confidential documents.", "it"),
    ("Employees receive twenty-five days of paid vacation per year.", "hr"),
    ("Parental leave lasts sixteen weeks at full salary for every parent.", "hr"),
    ("Sick days must be reported to your manager before ten in the morning.", "hr"),
    ("Performance reviews take place twice a year, in March and in September.", "hr"),
    ("Expense reports must be filed within thirty days with the original receipts.", "finance"),
    ("Business travel is booked through the agency; economy class for flights under six hours.", "finance"),
    ("Corporate credit cards have a monthly limit of five thousand euros.", "finance"),
    ("Staff may park in garage level B2; visitors use level B1.", "facilities"),
    ("The building opens at seven and closes at nine in the evening on weekdays.", "facilities"),
    ("Bicycles can be stored in the locked room next to the main entrance.", "facilities"),
    ("Fire drills happen every quarter; the assembly point is the north car park.", "safety"),
    ("First-aid kits hang beside every lift and in each kitchen.", "safety"),
    ("Visitors must sign in at reception and wear a badge at all times.", "safety"),
]
QUERIES = [
    "when can I get something to eat at midday?",
    "I forgot my login credentials",
    "how much holiday do I get each year?",
    "where do I leave my car?",
    "what happens if there is a fire?",
]


def _target(db, embedder, chunker, name="imported", strategy=None) -> Destination:
    return Destination(
        db, DEFAULT_TENANT, stores.create(db, DEFAULT_TENANT, embedder, name), embedder, chunker, strategy
    )


def _snapshot(db) -> dict:
    """Everything an import could change: file ids, attachments with their counters, chunks with their hashes."""
    with db.connection() as conn:
        return {
            "files": [r["id"] for r in conn.execute("SELECT id FROM files ORDER BY id")],
            "attached": conn.execute(
                "SELECT file_id, status, chunk_count, usage_bytes, attributes FROM vector_store_files ORDER BY file_id"
            ).fetchall(),
            "chunks": conn.execute("SELECT id, file_id, content_hash FROM chunks ORDER BY id").fetchall(),
            "imports": conn.execute("SELECT file_id, source_key FROM imported_files ORDER BY file_id").fetchall(),
        }


def _dense(db, embedder, store, query, k=3, filters=None):
    return search.search(db, embedder, DEFAULT_TENANT, [store.id], query, k=k, filters=filters, ranker="dense")


# ---------------------------------------------------------------------------------------------------------------------
# ChromaDB


def _chroma(path: Path, embedder) -> Any:
    """A persistent ChromaDB with three collections of the same passages: MiniLM vectors (chromadb's default
    function declared, vectors given, since that function would download its model), random 384-d ones, 16-d ones."""
    client = chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
    texts = [text for text, _ in PASSAGES]
    records = {
        "ids": [f"doc-{i:02d}" for i in range(len(texts))],
        "documents": texts,
        "metadatas": [{"topic": topic, "n": i, "draft": i % 2 == 0} for i, (_, topic) in enumerate(PASSAGES)],
    }
    client.create_collection("minilm").add(**records, embeddings=embedder.embed(texts))
    rng = np.random.default_rng(7)
    client.create_collection("random384", embedding_function=None).add(
        **records, embeddings=rng.standard_normal((len(texts), 384))
    )
    client.create_collection("tiny16", embedding_function=None).add(
        **records, embeddings=rng.standard_normal((len(texts), 16))
    )
    return client


def _chroma_top(client, embedder, query, k=3) -> list[str]:
    found = client.get_collection("minilm", embedding_function=None).query(
        query_embeddings=embedder.embed([query]), n_results=k
    )
    return found["ids"][0]


def test_chroma_with_the_store_model_reuses_its_embeddings_and_finds_what_chroma_finds(db, embedder, chunker, tmp_path):
    client = _chroma(tmp_path / "chroma", embedder)
    target, report = _target(db, embedder, chunker), Report()
    chroma.import_chroma(target, tmp_path / "chroma", ["minilm"], "auto", report, Silent())

    assert (report.imported, report.unchanged, report.failed, report.chunks) == (len(PASSAGES), 0, [], len(PASSAGES))
    assert "embeddings reused" in report.notes[0] and "chromadb's default" in report.notes[0]
    stored = client.get_collection("minilm", embedding_function=None).get(ids=["doc-03"], include=["embeddings"])
    with db.connection() as conn:
        ours = conn.execute(
            "SELECT c.embedding::text AS e FROM chunks c JOIN files f ON f.id = c.file_id "
            "WHERE f.filename = 'doc-03.txt'"
        ).fetchone()["e"]
    assert np.allclose(json.loads(ours), stored["embeddings"][0], atol=1e-3)  # the same vector, in float16
    for query in QUERIES:
        hits = _dense(db, embedder, target.store, query)
        assert [hit.filename.removesuffix(".txt") for hit in hits] == _chroma_top(client, embedder, query), query

    food = _dense(db, embedder, target.store, QUERIES[0], k=10, filters={"type": "eq", "key": "topic", "value": "food"})
    assert len(food) == 3 and all(hit.attributes["topic"] == "food" for hit in food)
    late = _dense(db, embedder, target.store, QUERIES[0], k=50, filters={"type": "gte", "key": "n", "value": 15})
    assert sorted(hit.attributes["n"] for hit in late) == list(range(15, len(PASSAGES)))
    assert food[0].attributes == {"topic": "food", "n": 0, "draft": True}


@pytest.mark.parametrize(
    ("collection", "why"), [("random384", "sampled documents re-embedded"), ("tiny16", "16 dimensions")]
)
def test_chroma_with_another_model_is_embedded_again(db, embedder, chunker, tmp_path, collection, why):
    client = _chroma(tmp_path / "chroma", embedder)
    target, report = _target(db, embedder, chunker), Report()
    chroma.import_chroma(target, tmp_path / "chroma", [collection], "auto", report, Silent())

    assert report.imported == len(PASSAGES) and "computed again" in report.notes[0] and why in report.notes[0]
    for query in QUERIES:
        hits = _dense(db, embedder, target.store, query)
        assert [hit.filename.removesuffix(".txt") for hit in hits] == _chroma_top(client, embedder, query), query


def test_chroma_import_again_changes_nothing_and_a_changed_record_is_replaced(db, embedder, chunker, tmp_path):
    client = _chroma(tmp_path / "chroma", embedder)
    target = _target(db, embedder, chunker)
    chroma.import_chroma(target, tmp_path / "chroma", None, "auto", Report(), Silent())  # all three collections
    before = _snapshot(db)
    assert len(before["files"]) == 3 * len(PASSAGES)

    again = Report()
    chroma.import_chroma(target, tmp_path / "chroma", None, "auto", again, Silent())
    assert (again.imported, again.replaced, again.unchanged, again.chunks) == (0, 0, 3 * len(PASSAGES), 0)
    assert _snapshot(db) == before

    text = "Electric scooters may be charged at the sockets beside the bicycle room."
    client.get_collection("minilm", embedding_function=None).update(
        ids=["doc-16"], documents=[text], embeddings=embedder.embed([text])
    )
    changed = Report()
    chroma.import_chroma(target, tmp_path / "chroma", ["minilm"], "auto", changed, Silent())
    assert (changed.imported, changed.replaced, changed.unchanged) == (0, 1, len(PASSAGES) - 1)
    after = _snapshot(db)
    assert len(after["files"]) == len(before["files"]) and len(set(after["files"]) - set(before["files"])) == 1
    best = _dense(db, embedder, target.store, "where can I charge my e-scooter?", k=1)[0]
    assert (best.filename, best.text) == ("doc-16.txt", text)
    with db.connection() as conn:
        old = conn.execute("SELECT count(*) AS n FROM chunks WHERE text LIKE 'Bicycles can be stored%'").fetchone()
    assert old["n"] == 2  # the other two collections' copies; minilm's old version is gone


def test_chroma_errors_are_clear(db, embedder, chunker, tmp_path):
    target = _target(db, embedder, chunker)
    with pytest.raises(Exception, match="not a ChromaDB persistent directory"):
        chroma.import_chroma(target, tmp_path, None, "auto", Report(), Silent())
    _chroma(tmp_path / "chroma", embedder)
    with pytest.raises(Exception, match="No collection named 'nope'.*it has: minilm, random384, tiny16"):
        chroma.import_chroma(target, tmp_path / "chroma", ["nope"], "auto", Report(), Silent())
    with pytest.raises(Exception, match="Cannot reuse 16-d embeddings"):
        chroma.import_chroma(target, tmp_path / "chroma", ["tiny16"], "reuse", Report(), Silent())


# ---------------------------------------------------------------------------------------------------------------------
# JSON


def _json_folder(root: Path) -> Path:
    """Seed 002's documents/*.json: {"id", "content", "metadata"}, a list, a JSONL, and some bad ones."""
    folder = root / "documents"
    (folder / "more").mkdir(parents=True)
    for i, (text, topic) in enumerate(PASSAGES[:8]):
        document = {"id": f"kb-{i}", "content": text, "metadata": {"category": topic, "views": i * 50, "lang": "en"}}
        (folder / f"kb-{i}.json").write_text(json.dumps(document))
    listed = [{"id": f"kb-{i}", "content": text, "metadata": {"category": t}} for i, (text, t) in enumerate(PASSAGES)]
    (folder / "more" / "list.json").write_text(json.dumps({"documents": listed[8:12]}))
    lines = [json.dumps({"text": text, "topic": topic, "author": {"name": "Ana"}}) for text, topic in PASSAGES[12:15]]
    (folder / "more" / "lines.jsonl").write_text("\n".join([*lines, "{broken"]) + "\n")
    wide = {"id": "wide", "content": "A document with too many fields.", "summary": "x" * 600, "tags": ["a", "b"]}
    wide |= {f"field{n}": n for n in range(20)}
    (folder / "wide.json").write_text(json.dumps(wide))
    (folder / "empty.json").write_text(json.dumps({"id": "empty", "content": "  "}))
    (folder / "bad.json").write_text("{not json")
    (folder / "long.json").write_text(json.dumps({"id": "long", "content": long_text(3, 900).decode()}))
    return folder


def test_json_folder_imports_with_filterable_attributes_and_again_changes_nothing(db, embedder, chunker, tmp_path):
    folder = _json_folder(tmp_path)
    target, report = _target(db, embedder, chunker, strategy=AUTO), Report()
    jsondocs.import_json(target, folder, jsondocs.Fields(), report, Silent())

    assert report.imported == 8 + 4 + 3 + 2  # the wide and long ones too
    assert sorted(f.name for f in report.failed) == ["bad.json", "empty.json:1", "lines.jsonl:4"]
    assert report.warnings["attribute 'summary' cut to 512 characters"] == 1
    assert report.warnings["attribute 'tags' dropped: a list, not a string, number or boolean"] == 1
    assert report.warnings["attributes beyond the first 16 dropped"] == 1  # id, summary and field0..13 kept
    with db.connection() as conn:
        long_chunks = conn.execute(
            "SELECT count(*) AS n FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.filename = 'long.txt'"
        ).fetchone()["n"]
    assert long_chunks > 3 and report.chunks == 16 + long_chunks

    hr = _dense(db, embedder, target.store, "time off", k=10, filters={"type": "eq", "key": "category", "value": "hr"})
    assert {hit.filename for hit in hr} == {"kb-7.txt", "kb-8.txt", "kb-9.txt", "kb-10.txt"}
    viewed = _dense(db, embedder, target.store, "food", k=10, filters={"type": "gte", "key": "views", "value": 300})
    assert {hit.filename for hit in viewed} == {"kb-6.txt", "kb-7.txt"}
    ana = _dense(
        db, embedder, target.store, "money", k=10, filters={"type": "eq", "key": "author.name", "value": "Ana"}
    )
    assert len(ana) == 3 and all(hit.filename.startswith("lines-") for hit in ana)

    before = _snapshot(db)
    again = Report()
    jsondocs.import_json(target, folder, jsondocs.Fields(), again, Silent())
    assert (again.imported, again.replaced, again.unchanged) == (0, 0, 17) and _snapshot(db) == before


def test_a_changed_json_document_is_replaced(db, embedder, chunker, tmp_path):
    folder = _json_folder(tmp_path)
    target = _target(db, embedder, chunker, strategy=AUTO)
    jsondocs.import_json(target, folder, jsondocs.Fields(), Report(), Silent())
    before = _snapshot(db)

    changed = {"id": "kb-3", "content": "Passwords are reset at the help desk on the ground floor.", "metadata": {}}
    (folder / "kb-3.json").write_text(json.dumps(changed))
    report = Report()
    jsondocs.import_json(target, folder, jsondocs.Fields(), report, Silent())
    assert (report.imported, report.replaced, report.unchanged) == (0, 1, 16)
    after = _snapshot(db)
    assert len(after["files"]) == len(before["files"]) and len(after["chunks"]) == len(before["chunks"])
    best = _dense(db, embedder, target.store, "where do I get a new password?", k=1)[0]
    assert (best.filename, best.text, best.attributes) == ("kb-3.txt", changed["content"], {"id": "kb-3"})


def test_an_older_version_left_behind_is_dropped_by_the_next_run(db, database_url, embedder, chunker, tmp_path):
    target = _target(db, embedder, chunker, strategy=AUTO)
    for i in (1, 0):
        (tmp_path / "docs.json").write_text(json.dumps({"id": f"kb-{i}", "content": PASSAGES[i][0]}))
        jsondocs.import_json(target, tmp_path / "docs.json", jsondocs.Fields(), Report(), Silent())
    with psycopg.connect(database_url, autocommit=True) as conn:  # kb-1 made an older version of kb-0
        conn.execute(
            "UPDATE imported_files SET source_key = 'json:kb-0', imported_at = imported_at - interval '1 hour' "
            "WHERE source_key = 'json:kb-1'"
        )
    report = Report()
    jsondocs.import_json(target, tmp_path / "docs.json", jsondocs.Fields(), report, Silent())
    assert (report.imported, report.unchanged) == (0, 1)
    after = _snapshot(db)
    assert (len(after["files"]), len(after["chunks"]), after["imports"][0]["source_key"]) == (1, 1, "json:kb-0")


def test_json_fields_chosen_by_options(db, embedder, chunker, tmp_path):
    (tmp_path / "faq.jsonl").write_text(
        "\n".join(
            json.dumps({"ref": {"code": f"Q{i}"}, "answer": text, "meta": {"topic": topic, "secret": "x"}})
            for i, (text, topic) in enumerate(PASSAGES[:5])
        )
    )
    target, report = _target(db, embedder, chunker, strategy=AUTO), Report()
    fields = jsondocs.Fields(content="answer", id="ref.code", metadata=["meta.topic"])
    jsondocs.import_json(target, tmp_path / "faq.jsonl", fields, report, Silent())
    assert report.imported == 5 and not report.failed
    best = _dense(db, embedder, target.store, QUERIES[1], k=1)[0]
    assert (best.filename, best.attributes) == ("Q3.txt", {"topic": "it"})
    with pytest.raises(Exception, match="Two metadata fields would both be named 'topic'"):
        jsondocs.Fields(metadata=["meta.topic", "topic"])


def test_a_record_the_database_refuses_fails_alone(db, database_url, embedder, chunker, tmp_path):
    with psycopg.connect(database_url, autocommit=True) as conn:  # a refusal as any write could meet one
        conn.execute(
            "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.filename = 'poison.txt' THEN RAISE EXCEPTION 'poisoned' USING ERRCODE = '22023'; END IF; "
            "RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON files FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
        )
    documents = [{"id": f"kb-{i}", "content": text} for i, (text, _) in enumerate(PASSAGES[:4])]
    (tmp_path / "docs.json").write_text(json.dumps([*documents, {"id": "poison", "content": "Never stored."}]))
    target, report = _target(db, embedder, chunker, strategy=AUTO), Report()
    jsondocs.import_json(target, tmp_path / "docs.json", jsondocs.Fields(), report, Silent())

    assert report.imported == 4 and [(f.name, "poisoned" in f.reason) for f in report.failed] == [("poison.txt", True)]
    assert len(_snapshot(db)["files"]) == 4


# ---------------------------------------------------------------------------------------------------------------------
# CSV

STATS_HEADER = ["scenario_name", "score", "accuracy", "kills", "avg_ttk", "sensitivity", "fov", "cm360", "played_at"]


def _stats_rows(n: int = 12) -> list[list[str]]:
    scenarios = ["Gridshot Ultimate", "Tile Frenzy", "1wall6targets TE", "Close Long Strafes"]
    return [
        [scenarios[i % 4], str(600 + 25 * i), f"0.{60 + i}", str(40 + i), f"{0.3 + i / 100:.2f}", "1.25", "103",
         "34.6", f"2025-11-{i + 1:02d}T10:30:00"]
        for i in range(n)
    ]  # fmt: skip


def _write_csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(STATS_HEADER)
    writer.writerows(rows)
    path.write_text(out.getvalue())


def test_csv_rows_become_chunks_with_typed_filterable_columns(db, embedder, chunker, tmp_path):
    path = tmp_path / "local_stats.csv"
    _write_csv(path, _stats_rows())
    target, report = _target(db, embedder, chunker), Report()
    csvrows.import_csv(target, path, csvrows.Columns(), report, Silent())

    assert (report.imported, report.chunks, report.failed) == (12, 12, [])
    best = _dense(db, embedder, target.store, "Tile Frenzy score", k=1)[0]
    assert best.text.startswith("scenario_name: Tile Frenzy; score: ")
    assert best.attributes["scenario_name"] == "Tile Frenzy" and isinstance(best.attributes["score"], int)
    assert isinstance(best.attributes["accuracy"], float) and best.attributes["played_at"].startswith("2025-11-")
    high = _dense(db, embedder, target.store, "score", k=50, filters={"type": "gt", "key": "accuracy", "value": 0.68})
    assert sorted(hit.attributes["accuracy"] for hit in high) == [0.69, 0.7, 0.71]
    both = {"type": "and", "filters": [{"type": "eq", "key": "scenario_name", "value": "Gridshot Ultimate"},
                                       {"type": "gte", "key": "score", "value": 700}]}  # fmt: skip
    assert sorted(h.attributes["score"] for h in _dense(db, embedder, target.store, "x", k=50, filters=both)) == [
        700,
        800,
    ]

    before = _snapshot(db)
    again = Report()
    csvrows.import_csv(target, path, csvrows.Columns(), again, Silent())
    assert (again.imported, again.replaced, again.unchanged) == (0, 0, 12) and _snapshot(db) == before

    rows = _stats_rows()
    rows[4][1] = "999"
    _write_csv(path, [*rows, ["Tile Frenzy", "1000", "0.9", "50", "0.2", "1.25", "103", "34.6", "2025-12-01"]])
    changed = Report()
    csvrows.import_csv(target, path, csvrows.Columns(), changed, Silent())
    assert (changed.imported, changed.replaced, changed.unchanged) == (1, 1, 11)
    scores = _dense(db, embedder, target.store, "x", k=50, filters={"type": "gte", "key": "score", "value": 999})
    assert sorted(hit.attributes["score"] for hit in scores) == [999, 1000]


def test_csv_with_a_text_column_an_id_column_and_decimal_commas(db, embedder, chunker, tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("id;question;text;rating\n" + "".join(
        f"q{i};Q{i}?;{text};{i},5\n" for i, (text, _) in enumerate(PASSAGES[:6])
    ) + ";orphan;no id here;1\n")  # fmt: skip
    target, report = _target(db, embedder, chunker), Report()
    csvrows.import_csv(target, path, csvrows.Columns(key="id"), report, Silent())
    assert report.imported == 6 and [f.reason for f in report.failed] == ["no value in the id column 'id'"]
    best = _dense(db, embedder, target.store, QUERIES[1], k=1)[0]
    assert best.text == PASSAGES[3][0] and best.attributes == {"id": "q3", "question": "Q3?", "rating": 3.5}

    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / "faq.csv").write_text(path.read_text())
    again = Report()
    csvrows.import_csv(target, moved / "faq.csv", csvrows.Columns(key="id"), again, Silent())
    assert (again.imported, again.unchanged) == (0, 6)  # rows keyed by id are the same rows wherever the CSV is
    with pytest.raises(Exception, match="The CSV has no column 'nope'; its columns are: id, question, text, rating"):
        csvrows.import_csv(target, path, csvrows.Columns(text="nope"), Report(), Silent())


# ---------------------------------------------------------------------------------------------------------------------
# A folder of files


def _drain(db, embedder, chunker) -> None:
    Worker(db, ingestion_tasks(db, embedder, chunker)).drain()


def _import_files(target, folder, report, types=None) -> None:
    work = files.start(target, folder, types, AUTO, report, Silent())
    _drain(target.db, target.embedder, target.chunker)
    files.finish(work, report)


def test_a_folder_of_files_goes_through_the_pipeline_once(db, embedder, chunker, tmp_path):
    folder = tmp_path / "docs"
    (folder / "nested").mkdir(parents=True)
    for document in corpus():
        (folder / "nested" / document.filename).write_bytes(document.data)
    (folder / "bad.pdf").write_bytes(b"%PDF-1.7 truncated")
    (folder / "photo.png").write_bytes(b"\x89PNG")
    target, report = _target(db, embedder, chunker), Report()
    _import_files(target, folder, report)

    assert (report.imported, report.unchanged) == (len(corpus()), 0)
    assert [(f.name, f.reason.endswith("(invalid_file)")) for f in report.failed] == [("bad.pdf", True)]
    assert report.notes == ["1 files of other types skipped"]
    with db.connection() as conn:
        states = conn.execute("SELECT status, count(*) AS n FROM vector_store_files GROUP BY status").fetchall()
        assert conn.execute("SELECT count(*) AS n FROM files WHERE filename = 'bad.pdf'").fetchone()["n"] == 0
    assert states == [{"status": "completed", "n": len(corpus())}]  # the failed one is not left behind
    for document in corpus():
        best = _dense(db, embedder, target.store, document.question, k=1)[0]
        assert best.filename == document.filename, document.question

    before = _snapshot(db)
    again = Report()
    _import_files(target, folder, again)
    assert (again.imported, again.replaced, again.unchanged, len(again.failed)) == (0, 0, len(corpus()), 1)
    assert _snapshot(db) == before

    (folder / "nested" / "coffee.txt").write_text("The espresso machine on floor three is cleaned every Monday.")
    changed = Report()
    _import_files(target, folder, changed, types=["txt", "md"])
    assert (changed.imported, changed.replaced, changed.unchanged) == (0, 1, 1)
    best = _dense(db, embedder, target.store, "who cleans the espresso maker, and how often?", k=1)[0]
    assert "every Monday" in best.text
    assert len(_snapshot(db)["files"]) == len(before["files"])


def test_an_interrupted_files_import_is_finished_by_the_next_run(db, embedder, chunker, tmp_path):
    for document in corpus()[:3]:
        (tmp_path / document.filename).write_bytes(document.data)
    target = _target(db, embedder, chunker)
    files.start(target, tmp_path, None, AUTO, Report(), Silent())  # uploaded and queued, then the process died

    report = Report()
    work = files.start(target, tmp_path, None, AUTO, report, Silent())
    assert len(work.started) == 3 and files.remaining(work) == 3  # the queued ones, not uploaded again
    _drain(db, embedder, chunker)
    files.finish(work, report)
    assert (report.imported, report.unchanged, report.failed) == (3, 0, [])
    assert len(_snapshot(db)["files"]) == 3


def test_imports_stay_in_their_tenant(db, embedder, chunker, tmp_path):
    acme = tenants.create_tenant(db, "acme")
    _write_csv(tmp_path / "stats.csv", _stats_rows(3))
    theirs = stores.create(db, acme.id, embedder, "stats")
    report = Report()
    csvrows.import_csv(
        Destination(db, acme.id, theirs, embedder, chunker), tmp_path / "stats.csv", csvrows.Columns(), report, Silent()
    )
    assert report.imported == 3
    ours = _target(db, embedder, chunker, name="stats")
    again = Report()
    csvrows.import_csv(ours, tmp_path / "stats.csv", csvrows.Columns(), again, Silent())  # not "unchanged": not theirs
    assert again.imported == 3
    with db.connection() as conn:
        counts = conn.execute("SELECT tenant_id, count(*) AS n FROM imported_files GROUP BY 1").fetchall()
    assert sorted((row["tenant_id"], row["n"]) for row in counts) == sorted([(DEFAULT_TENANT, 3), (acme.id, 3)])


def test_unknown_types_are_refused(db, embedder, chunker, tmp_path):
    with pytest.raises(Exception, match=r"Unsupported types: \.exe; supported: \.csv"):
        files.start(_target(db, embedder, chunker), tmp_path, ["pdf", "exe"], AUTO, Report(), Silent())


# ---------------------------------------------------------------------------------------------------------------------
# A store re-embedded with another model


def test_an_import_into_a_re_embedded_store_fills_every_space_and_checks_clean(
    db, database_url, embedder, chunker, tmp_path
):
    store = stores.create(db, DEFAULT_TENANT, embedder, "moved")
    with embeddings_server(embedder) as remote:
        space = reembed.start(
            db, DEFAULT_TENANT, store.id, reembed.NewModel(remote.model, remote.dimension, remote.url), embedder
        )
        reembed.build(
            db, DEFAULT_TENANT, space, spaces.embedder_for(embedder, remote.model, remote.dimension, space), chunker
        )
        reembed.switch(db, DEFAULT_TENANT, store.id)
        _chroma(tmp_path / "chroma", embedder)
        target, report = (
            Destination(db, DEFAULT_TENANT, stores.get(db, DEFAULT_TENANT, store.id), embedder, chunker),
            Report(),
        )
        chroma.import_chroma(target, tmp_path / "chroma", ["minilm"], "auto", report, Silent())

        assert report.imported == len(PASSAGES) and "embeddings reused" in report.notes[0]
        with db.connection() as conn:
            stored = conn.execute(
                "SELECT count(c.embedding) AS first, count(v.chunk_id) AS active FROM chunks c "
                "LEFT JOIN chunk_vectors v ON v.chunk_id = c.id AND v.space_id = %s",
                (space.id,),
            ).fetchone()
        assert stored == {"first": len(PASSAGES), "active": len(PASSAGES)}  # the way back, and the space searched
        # Searched in the remote model's space now: what an exact search with that model finds.
        theirs = spaces.embedder_for(embedder, remote.model, remote.dimension, space)
        passages = theirs.embed([text for text, _ in PASSAGES])
        for query in QUERIES:
            best = int(np.argmax(passages @ theirs.embed([query])[0]))
            assert _dense(db, embedder, target.store, query, k=1)[0].filename == f"doc-{best:02d}.txt", query
        assert integrity.check(db, DEFAULT_TENANT).clean

        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("DELETE FROM chunk_vectors WHERE chunk_id = (SELECT min(chunk_id) FROM chunk_vectors)")
        findings = integrity.check(db, DEFAULT_TENANT)
        assert [(p.kind, p.detail) for p in findings.problems] == [
            ("missing_embeddings", f"1 chunk (index 0): no vector in space {space.id}")
        ]
        assert integrity.repair(db, embedder, chunker, findings).reembedded_chunks == 1
        assert integrity.check(db, DEFAULT_TENANT).clean


def test_a_record_past_a_file_s_token_limit_fails_alone(db, embedder, chunker, tmp_path, monkeypatch):
    monkeypatch.setattr(chunk_module, "MAX_FILE_TOKENS", 200)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "small.json").write_text(json.dumps({"id": "small", "content": "Holidays are booked in the portal."}))
    (folder / "huge.json").write_text(json.dumps({"id": "huge", "content": "word " * 1000}))
    target, report = _target(db, embedder, chunker, strategy=AUTO), Report()
    jsondocs.import_json(target, folder, jsondocs.Fields(), report, Silent())
    assert report.imported == 1
    assert [(f.name, "200 tokens" in f.reason) for f in report.failed] == [("huge.txt", True)]
