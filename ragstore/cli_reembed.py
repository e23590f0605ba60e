"""`ragstore reembed start|build|status|report|switch|rollback|drop`: a store moved to another embedding model."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragstore.cli_common import tenant_id
from ragstore.config import Settings

if TYPE_CHECKING:
    from ragstore.runtime import Runtime


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add `reembed` and its steps to the `ragstore` command."""
    which = argparse.ArgumentParser(add_help=False)
    which.add_argument("--store", required=True, help="vector store name or id")
    which.add_argument("--tenant", help="tenant name or id (default: the default tenant)")
    steps = commands.add_parser(
        "reembed", help="move a store to another embedding model, online, with a way back"
    ).add_subparsers(required=True, metavar="STEP")

    start = steps.add_parser("start", parents=[common, which], help="record the new model's space and build it")
    start.add_argument("--model", required=True, help="the new model's name")
    start.add_argument("--dimensions", type=int, required=True, help="its vectors' dimension")
    start.add_argument("--base-url", help="its OpenAI-compatible /embeddings endpoint (unless it is the local model)")
    start.add_argument("--api-key-env", help="the environment variable holding that endpoint's key")
    start.set_defaults(command=cmd_start)
    steps.add_parser("build", parents=[common, which], help="resume building the new space").set_defaults(
        command=cmd_build
    )
    steps.add_parser("status", parents=[common, which], help="the store's spaces").set_defaults(command=cmd_status)
    report = steps.add_parser("report", parents=[common, which], help="compare the new space with the active one")
    report.add_argument("--sample", type=int, default=50, help="sampled queries (default 50)")
    report.add_argument("--dataset", type=Path, help="a BEIR dataset of the store's documents, for nDCG@10")
    report.add_argument("--json", type=Path, metavar="FILE", help="also write the report here")
    report.set_defaults(command=cmd_report)
    for name, help_text in (
        ("switch", "make the new space active, atomically"),
        ("rollback", "make the previous space active again"),
        ("drop", "delete every space but the active one (no way back after this)"),
    ):
        steps.add_parser(name, parents=[common, which], help=help_text).set_defaults(command=cmd_change, step=name)


def cmd_start(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.service import reembed

    with _runtime(settings) as runtime:
        tenant, store = _store(runtime, args)
        target = reembed.NewModel(args.model, args.dimensions, args.base_url, args.api_key_env)
        space = reembed.start(runtime.db, tenant, store.id, target, runtime.embedder)
        print(f"space {space.id}: {space.model} ({space.dimension}-d) for {store.name} ({store.id})")
        _build(runtime, tenant, space)
        _print_report(reembed.report(runtime.db, tenant, store.id, runtime.embedder))
    return 0


def cmd_build(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.service import reembed

    with _runtime(settings) as runtime:
        tenant, store = _store(runtime, args)
        space = reembed.building(runtime.db, tenant, store.id)
        if space is None:
            print(f"{store.name}: nothing is being built")
            return 0
        _build(runtime, tenant, space)
    return 0


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.service import reembed

    with _runtime(settings) as runtime:
        tenant, store = _store(runtime, args)
        rows = reembed.status(runtime.db, tenant, store.id)
    if not rows:
        print(f"{store.name}: {store.embedding_model} ({store.embedding_dim}-d), never re-embedded")
    for row in rows:
        missing = f", {row['missing']} chunks missing" if row["missing"] else ""
        print(f"{row['id']}  {row['state']:<8}  {row['model']} ({row['dimension']}-d, in {row['location']}){missing}")
    return 0


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.service import evaluation, reembed

    with _runtime(settings) as runtime:
        tenant, store = _store(runtime, args)
        dataset = evaluation.load(args.dataset) if args.dataset else None
        found = reembed.report(runtime.db, tenant, store.id, runtime.embedder, sample=args.sample, dataset=dataset)
    _print_report(found)
    if args.json:
        args.json.write_text(json.dumps(found, indent=2) + "\n")
    return 0


def cmd_change(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.service import reembed

    with _runtime(settings) as runtime:
        tenant, store = _store(runtime, args)
        if args.step == "drop":
            dropped = reembed.drop(runtime.db, tenant, store.id)
            names = ", ".join(f"{s.model} ({s.state})" for s in dropped) or "nothing"
            print(f"{store.name}: dropped {names}")
            return 0
        space = (reembed.switch if args.step == "switch" else reembed.rollback)(runtime.db, tenant, store.id)
    print(f"{store.name}: searches now use {space.model} ({space.dimension}-d)")
    return 0


def _build(runtime: Runtime, tenant: str, space: Any) -> None:
    from tqdm import tqdm

    from ragstore.service import reembed, spaces

    embedder = spaces.embedder_for(runtime.embedder, space.model, space.dimension, space)
    with tqdm(desc=f"embedding with {space.model}", unit="chunk") as bar:
        done = reembed.build(runtime.db, tenant, space, embedder, runtime.chunker, progress=bar.update)
    print(f"built: {done} chunks embedded with {space.model}; index ready")


def _print_report(found: dict[str, Any]) -> None:
    active, candidate = found["active"], found["candidate"]
    print(f"active:    {active['model']} ({active['dimension']}-d)")
    print(f"candidate: {candidate['model']} ({candidate['dimension']}-d, {candidate['state']})")
    for key, value in found.items():
        if key.startswith(("overlap", "min_overlap")) and value is not None:
            print(f"{key}: {value:.3f} over {found['queries']} sampled queries")
    if "ndcg@10" in found:
        print("nDCG@10: " + ", ".join(f"{name} {value:.4f}" for name, value in found["ndcg@10"].items()))


@contextmanager
def _runtime(settings: Settings) -> Iterator[Runtime]:
    from ragstore.runtime import open_runtime

    runtime = open_runtime(settings)
    try:
        yield runtime
    finally:
        runtime.close()


def _store(runtime: Runtime, args: argparse.Namespace) -> tuple[str, Any]:
    from ragstore.service import stores

    tenant = tenant_id(runtime.db, args.tenant)
    return tenant, stores.resolve(runtime.db, tenant, args.store)
