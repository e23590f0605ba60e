"""Load: N clients searching and uploading through the openai SDK against one real `ragstore serve`, for M seconds.

    .venv/bin/python bench/load.py [--clients 8] [--seconds 60] [--search-share 0.8] [--redis]

A fresh embedded PostgreSQL in a temporary directory (or RAGSTORE_DATABASE_URL when set) and one `ragstore serve` on a
free loopback port, with an admin key, its default in-process ingestion worker and its query cache (in process, or in
Redis with --redis). Setup, through the API: --tenants tenants with a key each and --stores stores each, seeded with
--passages msmarco passages per store (../shared/data/msmarco/corpus.jsonl, files of 20 passages, default chunking)
by `file_batches.upload_and_poll`. Then --clients threads, each with its own `OpenAI` client (no retries, so that no
error is hidden) and its tenant's key, loop without pause for --seconds:
- with probability --search-share, `vector_stores.search` of one of its tenant's stores (default ranker, 10 results)
  with a query drawn uniformly from msmarco's 50 queries and phrases cut from the seeded passages (--queries distinct
  texts in all, so repeats reach the cache as a chatbot's traffic would); a search that finds nothing is an error;
- otherwise an upload: `files.create` of a new text of 3 unseeded passages, then `vector_stores.files.create` to attach
  it to one of the tenant's stores. A client does not wait for ingestion (a chatbot's uploader does not block its
  searches), but keeps at most one file ingesting: when its turn to upload comes while its last file is still in
  progress (one GET of that file, `poll`, as the SDK's polling does), it searches instead. Uploads thus run at the
  pace the ingestion worker sustains, and the queue never grows past one file per client. After the load, every
  attached file must complete (waited for up to --drain-seconds): a failed or unfinished one is an error. Each
  completed upload also makes its store's cached searches miss, as real writes do.

Every request's latency and outcome is recorded by the client; at the end: per operation the count, throughput,
p50/p95/p99/max and errors; the server's /metrics (cache hits and misses, requests by route and status, jobs by
status, texts embedded); the CPU seconds of the clients, the server and PostgreSQL and the machine's busy share and
load average. Prints a table; writes bench/results/load.json (load-redis.json with --redis). Exits 1 and prints the
errors if there was any (a client error, an unfinished or failed file, or an ERROR line in the server's log).

Clients are threads: each run records their CPU time, which stayed at 0.1 to 0.2 of a core (a fifth of the server's),
far from the one core a GIL allows, so the clients are not what limits the throughput measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import psutil
import redis
from openai import APIError, APIStatusError, OpenAI
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ragstore.store import embedded  # noqa: E402
from tests.support.processes import ragstore_env  # noqa: E402
from tests.support.served import free_port, wait_for  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "msmarco"
ADMIN_KEY = "sk-load-admin"
PER_FILE, PER_UPLOAD, K = 20, 3, 10
OPERATIONS = ("search", "upload", "attach", "poll")
RESULTS = Path(__file__).parent / "results"


@dataclass
class Tenant:
    key: str
    store_ids: list[str]


@dataclass
class Record:
    """Every request's outcome, appended by the client threads (list.append is atomic)."""

    samples: list[tuple[str, float, float]] = field(default_factory=list)  # operation, start, seconds
    errors: list[dict] = field(default_factory=list)
    attached: list[tuple[str, str, str]] = field(default_factory=list)  # key, store id, file id


def texts() -> tuple[list[str], list[str]]:
    """msmarco's passages and queries."""
    passages = [json.loads(line)["text"] for line in (DATA / "corpus.jsonl").open(encoding="utf-8") if line.strip()]
    queries = [json.loads(line)["text"] for line in (DATA / "queries.jsonl").open(encoding="utf-8") if line.strip()]
    return passages, queries


def query_pool(queries: list[str], seeded: list[str], count: int, rng: random.Random) -> list[str]:
    """msmarco's queries, then phrases of 4 to 9 words cut from the seeded passages: count distinct texts."""
    found = dict.fromkeys(queries)
    while len(found) < count:
        words = rng.choice(seeded).split()
        size = rng.randint(4, 9)
        start = rng.randint(0, max(0, len(words) - size))
        found.setdefault(" ".join(words[start : start + size]))
    return list(found)[:count]


def start_server(database_url: str, folder: Path, args: argparse.Namespace) -> tuple[subprocess.Popen, str]:
    port = free_port()
    settings: dict[str, object] = {
        "database_url": database_url,
        "data_dir": folder,
        "port": port,
        "admin_key": ADMIN_KEY,
        "shutdown_grace_seconds": 5,
    }
    if args.redis:
        settings["redis_url"] = args.redis_url
    env = ragstore_env(**settings) | dict(item.split("=", 1) for item in args.env)
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

    try:
        wait_for(ready, "ragstore serve to be ready")
    except BaseException:
        stop_server(server)
        raise
    return server, url


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def client(url: str, key: str, retries: int = 5) -> OpenAI:
    """An SDK client; the measured loops' have no retries, so that no error is hidden."""
    return OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=retries, timeout=120)


def seed(url: str, args: argparse.Namespace, passages: list[str]) -> list[Tenant]:
    """Tenants with a key each and their stores, filled through the API (all stores' batches at once)."""
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    tenants, fills = [], []
    for t in range(args.tenants):
        name = f"load-{os.getpid()}-{t}"
        tenant = httpx.post(f"{url}/v1/admin/tenants", json={"name": name}, headers=admin).raise_for_status().json()
        made = httpx.post(f"{url}/v1/admin/tenants/{tenant['id']}/api_keys", json={}, headers=admin)
        key = made.raise_for_status().json()["key"]
        sdk = client(url, key)
        store_ids = [sdk.vector_stores.create(name=f"store-{s}").id for s in range(args.stores)]
        tenants.append(Tenant(key, store_ids))
        for store_id in store_ids:
            start = len(fills) * args.passages
            mine = passages[start : start + args.passages]
            files = [
                (f"seed-{i:03d}.txt", "\n\n".join(mine[i : i + PER_FILE]).encode())
                for i in range(0, len(mine), PER_FILE)
            ]
            fills.append((sdk, store_id, files))
    with ThreadPoolExecutor(len(fills)) as pool:
        batches = list(pool.map(lambda f: f[0].vector_stores.file_batches.upload_and_poll(f[1], files=f[2]), fills))
    for (_, store_id, files), batch in zip(fills, batches, strict=True):
        if batch.file_counts.completed != len(files):
            raise SystemExit(f"seeding {store_id} did not complete: {batch.file_counts}")
    return tenants


def run_client(url: str, tenant: Tenant, n: int, plan: dict, record: Record) -> None:
    """One client's closed loop until the deadline: mostly searches, some uploads, each timed and its outcome kept.

    A client keeps at most one file ingesting: when its turn to upload comes while its last file is still in
    progress (one GET of that file, as the SDK's polling does), it searches instead.
    """
    rng = random.Random(n)
    sdk = client(url, tenant.key, retries=0)
    ingesting: tuple[str, str] | None = None  # (store id, file id) of this client's file in progress
    while time.monotonic() < plan["deadline"]:
        store_id = rng.choice(tenant.store_ids)
        if rng.random() >= plan["search_share"]:
            if ingesting is not None:
                found = timed(
                    record, "poll", sdk.vector_stores.files.retrieve, ingesting[1], vector_store_id=ingesting[0]
                )
                if found is not None and found.status != "in_progress":
                    ingesting = None
            if ingesting is None:
                ingesting = upload(sdk, record, tenant, store_id, rng, plan["unseeded"])
                continue
        query = rng.choice(plan["queries"])
        hits = timed(record, "search", sdk.vector_stores.search, store_id, query=query, max_num_results=K)
        if hits is not None and not hits.data:
            record.errors.append({"operation": "search", "error": f"no results for {query!r} in {store_id}"})


def upload(sdk: OpenAI, record: Record, tenant: Tenant, store_id: str, rng, passages) -> tuple[str, str] | None:
    """A new small text uploaded and attached to the store; (store id, file id) once attached."""
    body = "\n\n".join(rng.sample(passages, PER_UPLOAD)).encode()
    uploaded = timed(record, "upload", sdk.files.create, file=("load.txt", body), purpose="assistants")
    if uploaded is None:
        return None
    attached = timed(record, "attach", sdk.vector_stores.files.create, store_id, file_id=uploaded.id)
    if attached is None:
        return None
    record.attached.append((tenant.key, store_id, uploaded.id))
    return store_id, uploaded.id


def timed(record: Record, operation: str, call, *args, **kwargs):
    """call(*args, **kwargs) timed; its result, or None after recording its error."""
    began = time.monotonic()
    try:
        result = call(*args, **kwargs)
    except Exception as exc:  # an API error, or anything else the SDK raised (a body it could not read): all count
        status = exc.status_code if isinstance(exc, APIStatusError) else None
        message = exc.message if isinstance(exc, APIError) else str(exc)
        error = {"operation": operation, "status": status, "error": f"{type(exc).__name__}: {message}"}
        record.errors.append({**error, "request_id": getattr(exc, "request_id", None)})
        result = None
    record.samples.append((operation, began, time.monotonic() - began))
    return result


def drain(url: str, record: Record, seconds: float) -> tuple[dict[str, int], float]:
    """Wait until every attached file is done; count them by status and record each unfinished or failed one."""
    began = time.monotonic()
    by_store: dict[tuple[str, str], set[str]] = {}
    for key, store_id, file_id in record.attached:
        by_store.setdefault((key, store_id), set()).add(file_id)

    def done() -> bool:
        return all(
            client(url, key).vector_stores.retrieve(store_id).file_counts.in_progress == 0 for key, store_id in by_store
        )

    deadline = began + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.5)
    waited = time.monotonic() - began
    statuses: dict[str, int] = {}
    for (key, store_id), file_ids in by_store.items():
        for item in client(url, key).vector_stores.files.list(store_id, limit=100):
            if item.id in file_ids:
                statuses[item.status] = statuses.get(item.status, 0) + 1
                if item.status != "completed":
                    error = f"file {item.id} in {store_id} is {item.status}: {item.last_error}"
                    record.errors.append({"operation": "ingestion", "error": error})
    if sum(statuses.values()) != len(record.attached):
        error = f"{len(record.attached)} files attached, {sum(statuses.values())} found in their stores"
        record.errors.append({"operation": "ingestion", "error": error})
    return statuses, waited


def metrics(url: str) -> dict[str, float]:
    """The /metrics samples of interest, keyed by name and labels."""
    wanted = ("ragstore_", "process_cpu_seconds_total", "process_resident_memory_bytes")
    found = {}
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=30).text):
        for sample in family.samples:
            if not sample.name.startswith(wanted) or sample.name.endswith(("_bucket", "_created")):
                continue
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


def cpu_seconds(process: psutil.Process, with_children: bool = False) -> float:
    processes = [process, *(process.children(recursive=True) if with_children else [])]
    total = 0.0
    for p in processes:
        try:
            times = p.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def cpu_meters(server: subprocess.Popen, postmaster: psutil.Process | None) -> dict[str, float]:
    """CPU seconds so far of this process (the clients), the server, PostgreSQL's live processes and the machine."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    cpu = psutil.cpu_times()._asdict()
    idle = cpu["idle"] + cpu.get("iowait", 0.0)
    busy = sum(cpu.get(name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal"))  # guest: in user
    return {
        "clients": own.ru_utime + own.ru_stime,
        "server": cpu_seconds(psutil.Process(server.pid)),
        "postgres": cpu_seconds(postmaster, with_children=True) if postmaster else float("nan"),
        "machine_busy": busy,
        "machine_total": busy + idle,
    }


def postmaster_of(pgdata: Path) -> psutil.Process:
    return psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def summary(record: Record, began: float, ended: float) -> dict[str, dict]:
    """Per operation: count, throughput over the load's duration, latency percentiles in ms, errors."""
    elapsed = ended - began
    rows = {}
    for operation in OPERATIONS:
        ms = np.array([s * 1000 for op, _, s in record.samples if op == operation])
        errors = sum(e["operation"] == operation for e in record.errors)
        row = {"count": len(ms), "ops_per_s": len(ms) / elapsed, "errors": errors}
        if len(ms):
            row.update({f"p{q}_ms": float(np.percentile(ms, q)) for q in (50, 95, 99)})
            row["max_ms"] = float(ms.max())
        rows[operation] = row
    return rows


def server_view(before: dict[str, float], after: dict[str, float]) -> dict[str, dict]:
    """What the server saw during the load (counters as differences, gauges as they ended)."""
    view: dict[str, dict] = {"cache": {}, "requests": {}, "jobs": {}, "other": {}}
    for name, value in after.items():
        base = name.split("{")[0]
        delta = value - before.get(name, 0.0)
        labels = dict(part.split("=", 1) for part in name[len(base) + 1 : -1].split(",") if "=" in part)
        if base == "ragstore_cache_requests_total":
            view["cache"][f"{labels['kind']} {labels['result']}"] = delta
        elif base == "ragstore_http_request_duration_seconds_count" and delta:
            mean = (after[name.replace("_count", "_sum")] - before.get(name.replace("_count", "_sum"), 0.0)) / delta
            view["requests"][f"{labels['method']} {labels['route']} {labels['status']}"] = {
                "count": delta,
                "mean_ms": 1000 * mean,
            }
        elif base == "ragstore_jobs" and value:
            view["jobs"][f"{labels['kind']} {labels['status']}"] = value
        elif base in ("ragstore_embedding_texts_total", "process_cpu_seconds_total"):
            view["other"][base] = delta
        elif base in ("ragstore_job_queue_depth", "process_resident_memory_bytes", "ragstore_database_up"):
            view["other"][base] = value
    return view


def server_log(log: Path) -> dict[str, list[str]]:
    """The server's log lines above INFO: ERROR and CRITICAL ones and the workers' warnings (a failed job attempt,
    the database out of reach) are problems, errors of the run; other warnings (Redis timing out) are reported."""
    found: dict[str, list[str]] = {"problems": [], "warnings": []}
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        level, message = entry.get("level", ""), entry.get("message", "")
        if level not in ("WARNING", "ERROR", "CRITICAL"):
            continue
        text = f"{level} {entry.get('logger')}: {message} {entry.get('exc_info') or ''}".strip()
        problem = level != "WARNING" or entry.get("logger") == "ragstore.worker"
        found["problems" if problem else "warnings"].append(text)
    return found


def chunk_count(url: str) -> int:
    stats = httpx.get(f"{url}/v1/admin/stats", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=60)
    return sum(row["chunks"] for row in stats.raise_for_status().json()["tenants"])


def load(url: str, tenants: list[Tenant], args: argparse.Namespace, plan: dict, meters) -> tuple[Record, dict]:
    """The clients' loops, all at once, for args.seconds; returns what they recorded and the run's measures."""
    record = Record()
    threads = [
        threading.Thread(target=run_client, args=(url, tenants[n % len(tenants)], n, plan, record), daemon=True)
        for n in range(args.clients)
    ]
    cpu_before, load_before = meters(), machine()["load_average"]
    began = time.monotonic()
    plan["deadline"] = began + args.seconds
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ended = max([began] + [start + seconds for _, start, seconds in record.samples])
    cpu_after = meters()
    elapsed = ended - began
    used = {name: cpu_after[name] - cpu_before[name] for name in cpu_after}
    measures = {
        "seconds": elapsed,
        "load_average_at_start": load_before,
        "load_average_at_end": machine()["load_average"],
        "cpu_seconds": {name: round(used[name], 2) for name in ("clients", "server", "postgres")},
        "cores_used": {name: round(used[name] / elapsed, 2) for name in ("clients", "server", "postgres")},
        "machine_busy_share": round(used["machine_busy"] / used["machine_total"], 3),
    }
    return record, {"began": began, "ended": ended, **measures}


def prepare_redis(url: str) -> None:
    """Redis must answer; the cache entries a previous run left in its database are removed, so runs compare."""
    try:
        client_ = redis.Redis.from_url(url, socket_connect_timeout=1)
        stale = list(client_.scan_iter(match="ragstore:*", count=1000))
        if stale:
            client_.delete(*stale)
    except redis.RedisError as exc:
        raise SystemExit(f"Redis at {url} does not answer: {exc}") from None


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="client threads")
    parser.add_argument("--seconds", type=float, default=60, help="duration of the load")
    parser.add_argument("--search-share", type=float, default=0.8, help="share of a client's turns that search")
    parser.add_argument("--redis", action="store_true", help="the server's cache in Redis (--redis-url)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="its ragstore:* keys are cleared")
    parser.add_argument("--tenants", type=int, default=2, help="tenants, each with its key; clients share them out")
    parser.add_argument("--stores", type=int, default=2, help="stores per tenant")
    parser.add_argument("--passages", type=int, default=150, help="msmarco passages seeded into each store")
    parser.add_argument("--queries", type=int, default=500, help="distinct query texts")
    parser.add_argument("--drain-seconds", type=float, default=120, help="how long ingestion may take after the load")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server (RAGSTORE_WORKERS=2)")
    parser.add_argument("--out", type=Path, help="default bench/results/load.json (load-redis.json with --redis)")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    if args.redis:
        prepare_redis(args.redis_url)
    before = machine()
    passages, queries = texts()
    seeded = args.tenants * args.stores * args.passages
    if seeded + 100 > len(passages):
        raise SystemExit(f"only {len(passages)} passages: seed fewer than {seeded}")
    plan = {
        "search_share": args.search_share,
        "queries": query_pool(queries, passages[:seeded], args.queries, random.Random(7)),
        "unseeded": passages[seeded:],
    }
    folder = Path(tempfile.mkdtemp(prefix="ragstore-load-"))
    external = os.environ.get("RAGSTORE_DATABASE_URL")
    try:
        report = run(args, plan, passages, folder, external)
    finally:
        if not external:
            embedded.stop(folder / "pgdata")
        if (folder / "server.log").exists():
            RESULTS.mkdir(exist_ok=True)
            shutil.copy(folder / "server.log", RESULTS / "load-server.log")
        shutil.rmtree(folder, ignore_errors=True)
    report = {"machine": {"before": before, "after": machine()}, **report}
    print_report(report)
    out = args.out or RESULTS / ("load-redis.json" if args.redis else "load.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"written to {out}; the server's log to {RESULTS / 'load-server.log'}")
    return 1 if report["errors"] or report["server_problems"] else 0


def run(args: argparse.Namespace, plan: dict, passages: list[str], folder: Path, external: str | None) -> dict:
    """Database, server, seeding, the load and the drain; the server always stopped. Returns the report."""
    database_url = external or embedded.start(folder / "pgdata")
    postmaster = None if external else postmaster_of(folder / "pgdata")
    began = time.monotonic()
    server, url = start_server(database_url, folder, args)
    try:
        started_s = time.monotonic() - began
        tenants = seed(url, args, passages)
        setup_s = {"server_start": started_s, "seed": time.monotonic() - began - started_s}
        chunks_before, metrics_before = chunk_count(url), metrics(url)
        record, measures = load(url, tenants, args, plan, lambda: cpu_meters(server, postmaster))
        statuses, drain_s = drain(url, record, args.drain_seconds)
        metrics_after, chunks_after = metrics(url), chunk_count(url)
    finally:
        stop_server(server)
    logged = server_log(folder / "server.log")
    return {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "cache": "redis" if args.redis else "memory",
        "setup_s": setup_s,
        "chunks": {"before": chunks_before, "after": chunks_after},
        "run": {k: v for k, v in measures.items() if k not in ("began", "ended")},
        "operations": summary(record, measures["began"], measures["ended"]),
        "ingestion": {"attached": len(record.attached), "by_status": statuses, "drain_s": drain_s},
        "server": server_view(metrics_before, metrics_after),
        "errors": record.errors,
        "server_problems": logged["problems"],
        "server_warnings": logged["warnings"],
    }


def print_report(report: dict) -> None:
    config, run, machine_ = report["config"], report["run"], report["machine"]
    print(
        f"{config['clients']} clients for {run['seconds']:.1f} s, search share {config['search_share']}, "
        f"cache {report['cache']}; {config['tenants']} tenants x {config['stores']} stores, "
        f"{report['chunks']['before']} chunks seeded (server up in {report['setup_s']['server_start']:.0f} s, "
        f"seeded in {report['setup_s']['seed']:.0f} s), "
        f"{report['chunks']['after']} after"
    )
    print(
        f"{machine_['before']['cpus']} CPUs; load average before setup {machine_['before']['load_average']}, "
        f"at the load's start {run['load_average_at_start']}, at its end {run['load_average_at_end']}; "
        f"machine busy {100 * run['machine_busy_share']:.0f}% during the load"
    )
    print(f"cores used during the load: {run['cores_used']}")
    print(f"{'operation':<10} {'count':>7} {'ops/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} errors")
    for operation, row in report["operations"].items():
        if row["count"]:
            print(
                f"{operation:<10} {row['count']:>7} {row['ops_per_s']:>8.1f} {row['p50_ms']:>8.1f} "
                f"{row['p95_ms']:>8.1f} {row['p99_ms']:>8.1f} {row['max_ms']:>8.1f} {row['errors']:>6}"
            )
    ingestion = report["ingestion"]
    print(
        f"ingestion: {ingestion['attached']} files attached, by status {ingestion['by_status']}, all done "
        f"{ingestion['drain_s']:.1f} s after the load"
    )
    server = report["server"]
    print(f"cache lookups: {server['cache']}")
    other = server["other"]
    print(
        f"jobs at the end: {server['jobs']}, {other.get('ragstore_job_queue_depth', 0):.0f} due; "
        f"texts embedded during the load: {other.get('ragstore_embedding_texts_total', 0):.0f}; "
        f"server resident memory {other.get('process_resident_memory_bytes', 0) / 2**20:.0f} MiB; "
        f"{len(report['server_warnings'])} warnings logged"
    )
    for route, row in server["requests"].items():
        print(f"  {route}: {row['count']:.0f} requests, server-side mean {row['mean_ms']:.1f} ms")
    failures = [
        f"{e['operation']} {e.get('status') or ''}: {e['error']} ({e.get('request_id') or '-'})"
        for e in report["errors"]
    ] + report["server_problems"]
    if failures:
        print(f"{len(report['errors'])} errors, {len(report['server_problems'])} server log problems; the first:")
        for failure in failures[:20]:
            print(f"  {failure}")


if __name__ == "__main__":
    sys.exit(main())
