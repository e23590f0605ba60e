"""The largest input every route accepts, 20 at a time: the server's peak memory and the slowest request.

    .venv/bin/python bench/limits.py [--concurrency 20] [--rounds 2] [--upload-mb 8]   (make bench-limits)

A fresh embedded PostgreSQL and one `ragstore serve` (no workers: nothing is embedded behind the requests' backs).
For each route with a body, one request at the bounds of ragstore/api/limits.py (the longest name, description,
metadata, queries, `in` lists, conversation items, question... each as large as the route's whole-body bound
lets it be) is sent `--concurrency` at a time, `--rounds` times; an upload of `--upload-mb` MB stands for the
multipart route. The server's resident memory (its process, sampled every 20 ms) is recorded throughout.

Prints, per route: the status codes seen, the median and the slowest request in ms; then the peak RSS against
MEMORY_CEILING (the documented ceiling: README, Limits), and exits 1 when the peak passes it or any request got a
5xx. Writes bench/results/limits.json with the machine's CPU count and load.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ragstore.api import limits  # noqa: E402
from ragstore.store import embedded  # noqa: E402
from tests.support.processes import ragstore_env  # noqa: E402
from tests.support.served import free_port, wait_for  # noqa: E402

API_KEY = "sk-bench-limits"
MB = 1024 * 1024
MEMORY_CEILING = 1536 * MB  # the server's RSS (model included) while every route's largest input is sent 20 at a time
RESULTS = Path(__file__).parent / "results"


def words(count: int, width: int, seed: int) -> str:
    """count distinct words of `width` characters, space-separated (each costs the full-text search a lexeme)."""
    return " ".join(f"{seed:x}{i:x}".rjust(width, "w")[:width] for i in range(count))


def at_most(chars: int, seed: int = 0) -> str:
    return words(chars // 9 + 1, 8, seed)[:chars]


def full_map(value_chars: int) -> dict[str, str]:
    return {f"{i:02d}".ljust(limits.MAP_KEY_CHARS, "k"): at_most(value_chars, i) for i in range(limits.MAP_PAIRS)}


def biggest_filter() -> dict[str, Any]:
    """Two `in` lists of FILTER_LIST_ITEMS strings, as long as the search body's bound leaves room for."""
    room = limits.JSON_BODY_BYTES - limits.QUERY_ITEMS * limits.QUERY_CHARS - 64 * 1024
    width = min(limits.ATTRIBUTE_VALUE_CHARS, room // limits.FILTER_ITEMS - 4)
    lists = [
        {"type": "in", "key": f"k{n}", "value": [f"{n}-{i}".ljust(width, "v") for i in range(limits.FILTER_LIST_ITEMS)]}
        for n in range(limits.FILTER_ITEMS // limits.FILTER_LIST_ITEMS)
    ]
    return {"type": "or", "filters": lists}


def items(count: int, chars: int) -> list[dict[str, Any]]:
    return [{"role": "user", "content": at_most(chars, i)} for i in range(count)]


def bodies(store_id: str) -> dict[str, tuple[str, str, Any]]:
    """route name -> (method, path, body): each the largest the route accepts."""
    room = limits.LARGE_JSON_BODY_BYTES - 64 * 1024
    item_chars = min(limits.ITEM_CHARS, room // limits.CONVERSATION_ITEMS)
    queries = [words(limits.QUERY_CHARS // 9, 8, n)[: limits.QUERY_CHARS] for n in range(limits.QUERY_ITEMS)]
    label = at_most(limits.LABEL_CHARS)
    return {
        "create store": (
            "POST",
            "/v1/vector_stores",
            {
                "name": at_most(limits.NAME_CHARS),
                "description": at_most(limits.DESCRIPTION_CHARS),
                "metadata": full_map(limits.METADATA_VALUE_CHARS),
            },
        ),
        "modify store": (
            "POST",
            f"/v1/vector_stores/{store_id}",
            {"name": at_most(limits.NAME_CHARS), "metadata": full_map(limits.METADATA_VALUE_CHARS)},
        ),
        "search": (
            "POST",
            f"/v1/vector_stores/{store_id}/search",
            {"query": queries, "max_num_results": limits.MAX_RESULTS, "filters": biggest_filter()},
        ),
        "create conversation": (
            "POST",
            "/v1/conversations",
            {
                "user_id": label,
                "title": label,
                "metadata": full_map(limits.METADATA_VALUE_CHARS),
                "items": items(limits.CONVERSATION_ITEMS, item_chars),
            },
        ),
        "answer": (
            "POST",
            "/v1/answers",
            {
                "question": words(limits.QUESTION_CHARS // 9, 8, 7)[: limits.QUESTION_CHARS],
                "vector_store_ids": [store_id] * limits.ANSWER_STORES,
                "user_id": label,
                "max_num_results": limits.ANSWER_RESULTS,
            },
        ),
        "file batch": (
            "POST",
            f"/v1/vector_stores/{store_id}/file_batches",
            {"file_ids": [f"file-{i:032x}" for i in range(limits.BATCH_FILES)]},
        ),
        "dataset": (
            "POST",
            "/v1/datasets",
            {
                "name": at_most(limits.DATASET_NAME_CHARS),
                "description": at_most(limits.DATASET_DESCRIPTION_CHARS),
                "example_ids": [f"ex_{i:024x}" for i in range(limits.DATASET_EXAMPLES)],
            },
        ),
    }


class Sampler(threading.Thread):
    """The peak resident memory of a process, sampled until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.02):
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.NoSuchProcess:
                return


def send(client: httpx.Client, method: str, path: str, body: Any) -> tuple[int, float]:
    content = json.dumps(body).encode()
    started = time.perf_counter()
    response = client.request(method, path, content=content, headers={"Content-Type": "application/json"})
    return response.status_code, time.perf_counter() - started


def upload(client: httpx.Client, size: int, n: int) -> tuple[int, float]:
    data = io.BytesIO((at_most(64 * 1024, n) + "\n").encode() * (size // (64 * 1024)))
    started = time.perf_counter()
    response = client.post("/v1/files", files={"file": (f"big{n}.txt", data)}, data={"purpose": "assistants"})
    return response.status_code, time.perf_counter() - started


def start(folder: Path, upload_bytes: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = ragstore_env(
        database_url=embedded.start(folder / "pgdata"),
        data_dir=folder,
        port=port,
        api_key=API_KEY,
        workers=0,
        max_upload_bytes=upload_bytes,
        shutdown_grace_seconds=5,
    )
    with (folder / "server.log").open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "ragstore", "serve"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if server.poll() is not None:
            raise SystemExit("ragstore serve exited:\n" + (folder / "server.log").read_text())
        try:
            return httpx.get(f"{url}/readyz", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(ready, "ragstore serve to be ready")
    return server, url


def measure(url: str, args: argparse.Namespace, sampler: Sampler) -> dict[str, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    report: dict[str, dict[str, Any]] = {}
    with httpx.Client(base_url=url, headers=headers, timeout=600) as setup:
        store_id = setup.post("/v1/vector_stores", json={"name": "limits"}).json()["id"]
        conversations = [setup.post("/v1/conversations", json={}).json()["id"] for _ in range(args.concurrency)]
    routes = bodies(store_id)
    calls = {name: (lambda c, n, r=route: send(c, *r)) for name, route in routes.items()}
    item_chars = min(limits.ITEM_CHARS, (limits.LARGE_JSON_BODY_BYTES - 64 * 1024) // limits.CONVERSATION_ITEMS)
    added = {"items": items(limits.CONVERSATION_ITEMS, item_chars)}
    calls["add items"] = lambda c, n: send(c, "POST", f"/v1/conversations/{conversations[n]}/items", added)
    calls["upload"] = lambda c, n: upload(c, args.upload_mb * MB, n)
    with ThreadPoolExecutor(args.concurrency) as pool:
        for name, call in calls.items():
            rss_before = sampler.peak
            outcomes: list[tuple[int, float]] = []
            for _ in range(args.rounds):
                clients = [httpx.Client(base_url=url, headers=headers, timeout=600) for _ in range(args.concurrency)]
                outcomes += pool.map(call, clients, range(len(clients)))
                for client in clients:
                    client.close()
            times = [seconds for _, seconds in outcomes]
            report[name] = {
                "statuses": dict(Counter(status for status, _ in outcomes)),
                "median_ms": round(statistics.median(times) * 1000),
                "slowest_ms": round(max(times) * 1000),
                "peak_rss_mb": round(max(rss_before, sampler.peak) / MB),
            }
            print(f"{name:20} {report[name]}", flush=True)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--upload-mb", type=int, default=8)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ragstore-bench-limits-"))
    server, url = start(folder, args.upload_mb * MB + MB)
    sampler = Sampler(server.pid)
    sampler.start()
    began = time.monotonic()
    try:
        at_start = psutil.Process(server.pid).memory_info().rss
        routes = measure(url, args, sampler)
    finally:
        sampler.stopped.set()
        server.terminate()
        server.wait(60)
        embedded.stop(folder / "pgdata")
    slowest = max(routes.items(), key=lambda item: item[1]["slowest_ms"])
    server_errors = {name: r["statuses"] for name, r in routes.items() if any(int(s) >= 500 for s in r["statuses"])}
    report = {
        "machine": {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]},
        "platform": platform.platform(),
        "config": vars(args),
        "seconds": round(time.monotonic() - began, 1),
        "rss_at_start_mb": round(at_start / MB),
        "peak_rss_mb": round(sampler.peak / MB),
        "ceiling_mb": MEMORY_CEILING // MB,
        "slowest": {"route": slowest[0], "ms": slowest[1]["slowest_ms"]},
        "routes": routes,
        "server_errors": server_errors,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "limits.json").write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"server RSS {report['rss_at_start_mb']} MB at start, peak {report['peak_rss_mb']} MB "
        f"(ceiling {report['ceiling_mb']} MB); slowest request {slowest[1]['slowest_ms']} ms ({slowest[0]}); "
        f"{len(server_errors)} route(s) with a 5xx"
    )
    return 1 if sampler.peak > MEMORY_CEILING or server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
