"""Seed 004's own Python examples against a live ragstore, changed only in their base URL and key.

Each block below is copied from the seed's guide (../shared/seeds/004_*.txt); the changes are `http://localhost:5000`
-> the test server's URL, `https://api.openai.com/v1/files` -> ragstore's Files API, and `headers=AUTH` (ragstore's
key, sent as `Authorization: Bearer`) on the calls that had no key. Their prints are checked, and their reads of
the answers (`['vector_store']`, `['batch']`, `['data']`) are the assertions.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
import requests

from tests.api.conftest import API_KEY
from tests.api.test_rpc import ADMIN, new_tenant
from tests.support.documents import corpus, pdf_bytes

AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def seed_files(tmp_path, monkeypatch):
    """The guide's three files (Exemple 1), real documents, in the working directory."""
    documents = corpus()
    (tmp_path / "manuel.pdf").write_bytes(pdf_bytes("Manuel du produit XYZ. Brancher le cable puis appuyer sur ON."))
    (tmp_path / "faq.txt").write_bytes(documents[0].data)
    (tmp_path / "guide_installation.md").write_text("# Installation\n\nCopier le dossier XYZ puis lancer setup.\n")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a pdf")
    monkeypatch.chdir(tmp_path)


def upload(base: str, filepath: str) -> str:
    with open(filepath, "rb") as f:
        response = requests.post(f"{base}/v1/files", headers=AUTH, files={"file": f}, data={"purpose": "assistants"})
    return response.json()["id"]


def test_seed_004_examples_run_against_ragstore(api, seed_files, capsys):
    base = api.url
    OPENAI_API_KEY = API_KEY  # noqa: N806 - the guide's name

    # --- Exemple 1: Base de connaissances produit (upload URL and key changed) ---
    # 1. Uploader les fichiers
    files = ["manuel.pdf", "faq.txt", "guide_installation.md"]
    file_ids = []

    for filepath in files:
        with open(filepath, "rb") as f:
            response = requests.post(
                f"{base}/v1/files",
                headers={"Authorization": f"Bearer {OPENAI_API_KEY}"},
                files={"file": f},
                data={"purpose": "assistants"},
            )
            file_ids.append(response.json()["id"])

    # 2. Créer le vector store
    response = requests.post(
        f"{base}/api/vector-stores/",
        headers=AUTH,
        json={
            "name": "Documentation Produit XYZ",
            "file_ids": file_ids,
            "chunking_strategy": {"type": "auto"},
            "metadata": {"produit": "XYZ", "version": "2.0"},
        },
    )

    print("Vector store créé:", response.json())
    out = capsys.readouterr().out
    assert out.startswith("Vector store créé: {'success': True, 'vector_store': {'id': 'vs_")
    assert "'name': 'Documentation Produit XYZ'" in out and "'total': 3" in out

    # --- Démarrage rapide 1: Créer un Vector Store ---
    response = requests.post(
        f"{base}/api/vector-stores/",
        headers=AUTH,
        json={"name": "Documentation Produit 2024", "file_ids": file_ids[:2], "chunking_strategy": {"type": "auto"}},
    )

    vector_store = response.json()["vector_store"]
    print(f"Vector Store créé: {vector_store['id']}")
    assert re.fullmatch(r"Vector Store créé: vs_[0-9a-f]{24}\n", capsys.readouterr().out)
    vector_store_id = vector_store["id"]

    # --- Démarrage rapide 2: Ajouter des fichiers en batch ---
    response = requests.post(
        f"{base}/api/vector-stores/{vector_store_id}/file-batches",
        headers=AUTH,
        json={"file_ids": [file_ids[2], upload(base, "broken.pdf")], "chunking_strategy": {"type": "auto"}},
    )

    batch = response.json()["batch"]
    print(f"Batch créé: {batch['id']}, Status: {batch['status']}")
    assert re.fullmatch(r"Batch créé: vsfb_[0-9a-f]{24}, Status: in_progress\n", capsys.readouterr().out)

    # --- Surveiller la progression (time.sleep(5) -> 0.1) ---
    def wait_for_batch_completion(vector_store_id, batch_id):
        while True:
            response = requests.get(f"{base}/api/vector-stores/{vector_store_id}/file-batches/{batch_id}", headers=AUTH)
            batch = response.json()["batch"]

            print(f"Status: {batch['status']}")
            print(f"Complétés: {batch['file_counts']['completed']}/{batch['file_counts']['total']}")

            if batch["status"] in ["completed", "failed", "cancelled"]:
                break

            time.sleep(0.1)

        return batch

    done = wait_for_batch_completion(vector_store_id, batch["id"])
    assert capsys.readouterr().out.endswith("Status: completed\nComplétés: 1/2\n")
    assert done["file_counts"]["failed"] == 1

    # --- Dépannage: Fichiers qui échouent (API_BASE: the guide's base of these routes) ---
    API_BASE = f"{base}/api/vector-stores"  # noqa: N806
    vs_id, batch_id = vector_store_id, batch["id"]
    response = requests.get(f"{API_BASE}/{vs_id}/file-batches/{batch_id}/files?filter=failed", headers=AUTH)
    failed_files = response.json()["data"]
    for file in failed_files:
        print(f"Fichier {file['id']}: {file.get('last_error')}")
    out = capsys.readouterr().out
    assert re.fullmatch(r"Fichier file-[0-9a-f]{24}: \{'code': 'invalid_file', 'message': '.+'\}\n", out)

    # --- Exemple 2: Ajouter des fichiers progressivement ---
    batch1 = requests.post(
        f"{base}/api/vector-stores/{vector_store_id}/file-batches",
        headers=AUTH,
        json={"file_ids": [file_ids[0], file_ids[1]]},
    ).json()

    batch2 = requests.post(
        f"{base}/api/vector-stores/{vector_store_id}/file-batches",
        headers=AUTH,
        json={"file_ids": [upload(base, "faq.txt")]},
    ).json()
    assert batch1["success"] and batch2["batch"]["file_counts"]["total"] == 1

    # --- Dépannage: Batch bloqué en "in_progress": annuler ---
    cancelled = requests.post(f"{API_BASE}/{vs_id}/file-batches/{batch2['batch']['id']}/cancel", headers=AUTH)
    assert cancelled.status_code == 200 and cancelled.json()["batch"]["status"] in ("cancelled", "completed")
    wait_for_batch_completion(vector_store_id, batch1["batch"]["id"])
    capsys.readouterr()

    # --- The endpoints as the guide lists them ---
    store = requests.get(f"{base}/api/vector-stores/{vector_store_id}?refresh=true", headers=AUTH).json()
    assert store["success"] and store["vector_store"]["id"] == vector_store_id
    listed = requests.get(f"{base}/api/vector-stores/list?limit=20", headers=AUTH).json()
    assert [s["id"] for s in listed["vector_stores"]][:1] == [vector_store_id] and len(listed["data"]) == 2
    after = requests.get(f"{base}/api/vector-stores/list?limit=20&after={vector_store_id}", headers=AUTH).json()
    assert [s["name"] for s in after["vector_stores"]] == ["Documentation Produit XYZ"]
    batches = requests.get(f"{base}/api/vector-stores/{vector_store_id}/file-batches/list?limit=50", headers=AUTH)
    newest_first = [b["id"] for b in batches.json()["batches"]]
    assert newest_first == [batch2["batch"]["id"], batch1["batch"]["id"], batch["id"]]
    completed = requests.get(f"{API_BASE}/{vs_id}/file-batches/{batch1['batch']['id']}/files?limit=20&filter=completed")
    assert completed.status_code == 401  # the same keys as /v1: none sent, none served
    stats = requests.get(f"{base}/api/vector-stores/stats", headers=AUTH).json()
    assert stats["success"] and stats["stats"]["total_vector_stores"] == 2
    assert stats["stats"]["total_file_batches"] == 3 and stats["stats"]["batches_failed"] == 0
    assert sum(stats["stats"][f"batches_{s}"] for s in ("in_progress", "completed", "failed", "cancelled")) == 3
    deleted = requests.delete(f"{base}/api/vector-stores/{vector_store_id}", headers=AUTH).json()
    assert deleted == {"id": vector_store_id, "object": "vector_store.deleted", "deleted": True, "success": True}
    assert requests.get(f"{base}/api/vector-stores/{vector_store_id}", headers=AUTH).status_code == 404


def test_the_batches_of_a_store_page_both_ways(client):
    store = client.vector_stores.create(name="paged")
    files = [client.files.create(file=(f"f{i}.txt", b"text %d" % i), purpose="assistants") for i in range(3)]
    made = [client.vector_stores.file_batches.create(vector_store_id=store.id, file_ids=[f.id]) for f in files]
    url = f"{str(client.base_url).rstrip('/')}/vector_stores/{store.id}/file_batches"
    first = httpx.get(url, headers=AUTH, params={"limit": 2}).json()
    assert [b["id"] for b in first["data"]] == [made[2].id, made[1].id] and first["has_more"]
    assert first["data"][0]["object"] == "vector_store.files_batch" and first["data"][0]["file_counts"]["total"] == 1
    rest = httpx.get(url, headers=AUTH, params={"limit": 2, "after": first["last_id"]}).json()
    assert [b["id"] for b in rest["data"]] == [made[0].id] and not rest["has_more"]
    back = httpx.get(url, headers=AUTH, params={"order": "asc", "before": made[2].id}).json()
    assert [b["id"] for b in back["data"]] == [made[0].id, made[1].id]
    missing = httpx.get(url, headers=AUTH, params={"after": "vsfb_nope"})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "after"


def test_adapter_routes_never_widen_what_a_key_sees(start_server):
    api = start_server(admin_key=ADMIN, api_key=None)
    (_, a_key), (_, b_key) = new_tenant(api, "acme"), new_tenant(api, "globex")
    a, b = ({"Authorization": f"Bearer {key}"} for key in (a_key, b_key))
    base = f"{api.url}/api/vector-stores"
    file_id = requests.post(
        f"{api.url}/v1/files", headers=a, files={"file": ("a.txt", b"acme only")}, data={"purpose": "assistants"}
    ).json()["id"]
    store = requests.post(f"{base}/", headers=a, json={"name": "acme-kb"}).json()["vector_store"]
    batch = requests.post(f"{base}/{store['id']}/file-batches", headers=a, json={"file_ids": [file_id]}).json()
    vs, vsfb = store["id"], batch["batch"]["id"]
    mine = requests.post(f"{base}/", headers=b, json={"name": "globex-kb"}).json()["vector_store"]["id"]

    probes = {
        ("GET", f"/{vs}?refresh=true"): 404,
        ("DELETE", f"/{vs}"): 404,
        ("POST", f"/{vs}/file-batches"): 404,
        ("POST", f"/{mine}/file-batches"): 404,  # b's own store, a's file
        ("GET", f"/{vs}/file-batches/list"): 404,
        ("GET", f"/{vs}/file-batches/{vsfb}"): 404,
        ("GET", f"/{mine}/file-batches/{vsfb}"): 404,
        ("POST", f"/{vs}/file-batches/{vsfb}/cancel"): 404,
        ("GET", f"/{vs}/file-batches/{vsfb}/files?filter=completed"): 404,
    }
    for (method, path), status in probes.items():
        response = requests.request(method, base + path, headers=b, json={"file_ids": [file_id]})
        assert response.status_code == status, (method, path, response.text)
        assert response.json()["error"]["code"] in ("not_found", "file_not_found"), (method, path)
    listed = requests.get(f"{base}/list", headers=b).json()
    assert [s["id"] for s in listed["vector_stores"]] == [mine]
    stats = requests.get(f"{base}/stats", headers=b).json()["stats"]
    assert (stats["total_vector_stores"], stats["total_file_batches"]) == (1, 0)
    v1 = requests.get(f"{api.url}/v1/vector_stores/{vs}/file_batches", headers=b)
    assert v1.status_code == 404
    assert requests.get(f"{base}/{vs}", headers=a).json()["vector_store"]["file_counts"]["total"] == 1


def test_without_keys_configured_the_guide_s_calls_run_as_written(start_server):
    base = start_server(api_key=None).url  # the only change: http://localhost:5000

    response = requests.post(
        f"{base}/api/vector-stores/",
        json={
            "name": "Ma Base de Connaissances",
            "expires_after": {"anchor": "last_active_at", "days": 7},
            "metadata": {"projet": "Support", "version": "1.0"},
        },
    )

    vector_store = response.json()["vector_store"]
    assert vector_store["status"] == "completed" and vector_store["expires_at"] > vector_store["created_at"]
    assert requests.get(f"{base}/api/vector-stores/stats").json()["stats"]["total_vector_stores"] == 1
