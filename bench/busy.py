"""Search while files ingest: a search's p99 idle and during a large batch, and the batch's rate alone and beside them.

    .venv/bin/python bench/busy.py [--files 500] [--rate 20] [--idle-seconds 30] [--baseline CHECKOUT]
                             [--baseline-niceness 0] [--niceness 0,10] [--worker-process]

One embedded PostgreSQL; a store of --passages msmarco passages (one chunk each, searched by its exact scan) seeded
once. Then, for each server in turn (`ragstore serve` with its one in-process worker; --baseline: also a server run
from another checkout, e.g. `git worktree add /tmp/base <commit>`, for before/after in one run; --niceness: this
checkout at each RAGSTORE_INGEST_NICENESS; --worker-process: also each with no in-process worker and a `ragstore worker`
process beside the server, its whole process niced), after a VACUUM ANALYZE of the database, three phases:
1. idle: searches for --idle-seconds;
2. ingestion alone: a batch of --files new files (each about two 200-token chunks, uploaded beforehand), timed from
   the batch's creation until every file is done;
3. both: another such batch, with the searches going on until it is done.
Searches come at a fixed --rate per second (an open loop over --clients `openai` SDK clients: a slow answer does not
slow the traffic down), each query a text never sent before (cut from msmarco's passages), so that every search
embeds its query: the worst case for sharing the CPU with the model. Prints per server the search p50/p99 idle and
busy and their ratio, the batch's chunks/s alone and busy and their ratio, and the CPU seconds of the server and of
PostgreSQL per phase; writes bench/results/busy.json with the machine's CPU count and load average.

The issue's targets: busy p99 <= 3x idle p99, and busy chunks/s >= 0.75 of alone.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import psycopg
from openai import OpenAI

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import cpu_seconds, machine, postmaster_of, stop_server  # noqa: E402
from ragstore.store import embedded  # noqa: E402
from tests.support.processes import ragstore_env  # noqa: E402
from tests.support.served import free_port, wait_for  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "msmarco" / "corpus.jsonl"
RESULTS = Path(__file__).parent / "results"
CHUNKING = {"type": "static", "static": {"max_chunk_size_tokens": 220, "chunk_overlap_tokens": 0}}
PASSAGES_PER_FILE = 7  # msmarco passages average about 65 tokens: 7 of them make about two 220-token chunks


def passages() -> list[str]:
    return [json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").split("\n") if line.strip()]


class Queries:
    """Texts never sent before: 5 to 10 words cut from msmarco's passages (thread-safe)."""

    def __init__(self, texts: list[str], seed: int) -> None:
        self.texts, self.rng, self.seen, self.lock = texts, random.Random(seed), set[str](), threading.Lock()

    def next(self) -> str:
        with self.lock:
            while True:
                words = self.rng.choice(self.texts).split()
                size = self.rng.randint(5, 10)
                start = self.rng.randint(0, max(0, len(words) - size))
                text = " ".join(words[start : start + size])
                if text not in self.seen:
                    self.seen.add(text)
                    return text


class Searches:
    """--rate searches per second from --clients threads, each on its own schedule, until stop()."""

    def __init__(self, url: str, store_id: str, queries: Queries, rate: float, clients: int) -> None:
        self.url, self.store_id, self.queries = url, store_id, queries
        self.interval = clients / rate
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._client, args=(i / rate,)) for i in range(clients)]

    def start(self) -> Searches:
        for thread in self.threads:
            thread.start()
        return self

    def stop(self) -> list[float]:
        self.stopping.set()
        for thread in self.threads:
            thread.join()
        if self.errors:
            raise SystemExit(f"{len(self.errors)} searches failed, the first: {self.errors[0]}")
        return self.latencies

    def _client(self, offset: float) -> None:
        sdk = OpenAI(base_url=f"{self.url}/v1", api_key="unused", max_retries=0, timeout=60)
        due = time.monotonic() + offset
        while not self.stopping.is_set():
            if (wait := due - time.monotonic()) > 0 and self.stopping.wait(wait):
                break
            due += self.interval
            began = time.monotonic()
            try:
                page = sdk.vector_stores.search(self.store_id, query=self.queries.next(), max_num_results=10)
                if not page.data:
                    raise ValueError("no results")
                self.latencies.append(time.monotonic() - began)
            except Exception as exc:  # counted, and the run fails at the end
                self.errors.append(f"{type(exc).__name__}: {exc}")


def start_server(database_url: str, folder: Path, name: str, checkout: Path, niceness: int, separate: bool):  # noqa: ANN201
    """`ragstore serve` from the checkout (its code first on the path), ready; the processes and its URL.
    separate: the server with no worker of its own, and a `ragstore worker` process beside it."""
    import subprocess

    port = free_port()
    env = ragstore_env(database_url=database_url, data_dir=folder / name, port=port, ingest_niceness=niceness)
    env["PYTHONPATH"] = str(checkout)
    log = (folder / f"{name}.log").open("w")
    if separate:
        env["RAGSTORE_WORKERS"] = "0"
    command = [sys.executable, "-m", "ragstore", "serve"]
    server = subprocess.Popen(command, env=env, cwd=checkout, stdout=log, stderr=log)
    worker = [sys.executable, "-m", "ragstore", "worker"]
    processes = [
        server,
        *([subprocess.Popen(worker, env=env, cwd=checkout, stdout=log, stderr=log)] if separate else []),
    ]
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if server.poll() is not None:
            raise SystemExit(f"ragstore serve ({name}) exited:\n" + (folder / f"{name}.log").read_text())
        try:
            OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=5).vector_stores.list(limit=1)
            return True
        except Exception:
            return False

    wait_for(ready, f"ragstore serve ({name})")
    return processes, url


def upload(sdk: OpenAI, texts: list[str], count: int, rng: random.Random, tag: str) -> list[str]:
    """count new files of PASSAGES_PER_FILE passages each; their ids."""
    ids = []
    for i in range(count):
        body = "\n\n".join(rng.sample(texts, PASSAGES_PER_FILE)).encode()
        ids.append(sdk.files.create(file=(f"{tag}-{i:04d}.txt", body), purpose="assistants").id)
    return ids


def ingest(sdk: OpenAI, database_url: str, file_ids: list[str], name: str) -> dict:
    """A batch of the files into a new store, waited for; its chunks/s from the batch's creation to its end."""
    store = sdk.vector_stores.create(name=name)
    began = time.monotonic()
    batch = sdk.vector_stores.file_batches.create(store.id, file_ids=file_ids, chunking_strategy=CHUNKING)
    while batch.status == "in_progress":
        time.sleep(0.25)
        batch = sdk.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id)
    seconds = time.monotonic() - began
    if batch.file_counts.completed != len(file_ids):
        raise SystemExit(f"{name}: the batch ended {batch.status} with {batch.file_counts}")
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM chunks WHERE vector_store_id = %s", (store.id,)).fetchone()
    chunks = row[0] if row else 0
    return {"seconds": seconds, "chunks": chunks, "chunks_per_s": chunks / seconds}


def settle(database_url: str) -> None:
    """VACUUM ANALYZE every table before a server's phases: otherwise the autovacuum of the previous server's
    batches runs during the next one's idle searches (idle p99 of 137 and 155 ms against 44-49 in the first)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def percentiles(latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    return {
        "count": len(ordered),
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


def run_server(url: str, store_id: str, texts: list[str], args: argparse.Namespace, meters, tag: str) -> dict:
    """The three phases against one server."""
    sdk = OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=2, timeout=120)
    rng, queries = random.Random(tag), Queries(texts, seed=len(tag))
    found: dict = {}
    cpu = meters()
    searches = Searches(url, store_id, queries, args.rate, args.clients).start()
    time.sleep(args.idle_seconds)
    found["idle"] = percentiles(searches.stop())
    found["idle"]["cpu_s"], cpu = delta(meters(), cpu)
    alone_ids = upload(sdk, texts, args.files, rng, f"{tag}-a")
    busy_ids = upload(sdk, texts, args.files, rng, f"{tag}-b")
    cpu = meters()
    found["ingest_alone"] = ingest(sdk, args.database_url, alone_ids, f"{tag}-alone")
    found["ingest_alone"]["cpu_s"], cpu = delta(meters(), cpu)
    searches = Searches(url, store_id, queries, args.rate, args.clients).start()
    found["ingest_busy"] = ingest(sdk, args.database_url, busy_ids, f"{tag}-busy")
    found["busy"] = percentiles(searches.stop())
    found["busy"]["cpu_s"], cpu = delta(meters(), cpu)
    found["p99_ratio"] = found["busy"]["p99_ms"] / found["idle"]["p99_ms"]
    found["ingest_ratio"] = found["ingest_busy"]["chunks_per_s"] / found["ingest_alone"]["chunks_per_s"]
    return found


def meter(servers: list[psutil.Process], postmaster: psutil.Process):  # noqa: ANN201
    """CPU seconds so far of the server (and its worker process) and of PostgreSQL's processes."""
    return lambda: {"server": sum(map(cpu_seconds, servers)), "postgres": cpu_seconds(postmaster, True)}


def delta(now: dict, before: dict) -> tuple[dict, dict]:
    return {k: round(now[k] - before[k], 2) for k in now}, now


def seed(url: str, texts: list[str], count: int) -> str:
    sdk = OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=2, timeout=300)
    store = sdk.vector_stores.create(name="searched")
    files = [(f"seed-{i:04d}.txt", "\n\n".join(texts[i : i + 20]).encode()) for i in range(0, count, 20)]
    batch = sdk.vector_stores.file_batches.upload_and_poll(store.id, files=files)
    if batch.file_counts.completed != len(files):
        raise SystemExit(f"seeding did not complete: {batch.file_counts}")
    return store.id


def servers(args: argparse.Namespace) -> list[tuple[str, Path, int, bool]]:
    here = Path(__file__).resolve().parents[1]
    base = [(f"baseline@{args.baseline.name}", args.baseline, args.baseline_niceness, False)] if args.baseline else []
    alone = [(f"worker-process-niceness-{n}", here, n, True) for n in args.niceness] if args.worker_process else []
    return base + [(f"niceness-{n}", here, n, False) for n in args.niceness] + alone


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=500, help="files per batch")
    parser.add_argument("--passages", type=int, default=1000, help="msmarco passages in the searched store")
    parser.add_argument("--rate", type=float, default=20, help="searches per second")
    parser.add_argument("--clients", type=int, default=4, help="search client threads")
    parser.add_argument("--idle-seconds", type=float, default=30)
    parser.add_argument("--baseline", type=Path, help="another checkout, run as a server of its own first")
    parser.add_argument("--baseline-niceness", type=int, default=0, help="the baseline's RAGSTORE_INGEST_NICENESS")
    parser.add_argument("--niceness", type=lambda t: [int(x) for x in t.split(",")], default=[0, 10])
    parser.add_argument(
        "--worker-process", action="store_true", help="also each niceness with `ragstore worker` as its own process"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "busy.json")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    texts = passages()
    folder = Path(tempfile.mkdtemp(prefix="ragstore-busy-"))
    report: dict = {"machine": {"before": machine()}, "config": {**vars(args), "baseline": str(args.baseline)}}
    try:
        database_url = args.database_url = embedded.start(folder / "pgdata")
        postmaster = postmaster_of(folder / "pgdata")
        store_id = None
        for name, checkout, niceness, separate in servers(args):
            processes, url = start_server(database_url, folder, name, checkout, niceness, separate)
            try:
                store_id = store_id or seed(url, texts, args.passages)
                settle(database_url)
                meters = meter([psutil.Process(process.pid) for process in processes], postmaster)
                report[name] = run_server(url, store_id, texts, args, meters, name)
                report[name]["load_average"] = os.getloadavg()
            finally:
                for process in processes:
                    stop_server(process)
            print_server(name, report[name])
    finally:
        embedded.stop(folder / "pgdata")
        shutil.rmtree(folder, ignore_errors=True)
    report["machine"]["after"] = machine()
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str))
    print(f"written to {args.out}")
    return 0


def print_server(name: str, found: dict) -> None:
    idle, busy, alone, both = found["idle"], found["busy"], found["ingest_alone"], found["ingest_busy"]
    print(
        f"{name}: search p50/p99 idle {idle['p50_ms']:.1f}/{idle['p99_ms']:.1f} ms, busy {busy['p50_ms']:.1f}/"
        f"{busy['p99_ms']:.1f} ms (p99 x{found['p99_ratio']:.2f}); ingestion {alone['chunks_per_s']:.1f} chunks/s "
        f"alone, {both['chunks_per_s']:.1f} beside searches (x{found['ingest_ratio']:.2f}); "
        f"load {found['load_average']}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
