"""`ragstore reembed start|build|status|report|switch|rollback|drop`: a store moved to another embedding model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ragstore.cli import context, progress
from ragstore.cli.context import DataDir, Tenant, Verbose

if TYPE_CHECKING:
    from ragstore.models import VectorStore
    from ragstore.runtime import Runtime

app = typer.Typer()
reembed_app = typer.Typer(
    help="Move a store to another embedding model, online, with a way back.",
    no_args_is_help=True,
    epilog="Example: ragstore reembed start --store handbook --model text-embedding-3-small --dimensions 512"
    " --base-url https://api.openai.com/v1 --api-key-env OPENAI_API_KEY; then report, switch, rollback or drop",
)
app.add_typer(reembed_app, name="reembed")

Store = Annotated[str, typer.Option(help="vector store name or id")]


@reembed_app.command()
def start(
    store: Store,
    model: Annotated[str, typer.Option(help="the new model's name")],
    dimensions: Annotated[int, typer.Option(help="its vectors' dimension")],
    base_url: Annotated[
        str | None, typer.Option(help="its OpenAI-compatible /embeddings endpoint (unless it is the local model)")
    ] = None,
    api_key_env: Annotated[
        str | None, typer.Option(help="the environment variable holding that endpoint's key")
    ] = None,
    tenant: Tenant = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """Record the new model's space and build it."""
    from ragstore.service import reembed

    with context.runtime(context.settings(data_dir, verbose)) as runtime:
        tenant_id, found = _store(runtime, tenant, store)
        target = reembed.NewModel(model, dimensions, base_url, api_key_env)
        space = reembed.start(runtime.db, tenant_id, found.id, target, runtime.embedder)
        print(f"space {space.id}: {space.model} ({space.dimension}-d) for {found.name} ({found.id})")
        _build(runtime, tenant_id, space)
        _print_report(reembed.report(runtime.db, tenant_id, found.id, runtime.embedder))
    return 0


@reembed_app.command()
def build(store: Store, tenant: Tenant = None, data_dir: DataDir = None, verbose: Verbose = False) -> int:
    """Resume building the new space."""
    from ragstore.service import reembed

    with context.runtime(context.settings(data_dir, verbose)) as runtime:
        tenant_id, found = _store(runtime, tenant, store)
        space = reembed.building(runtime.db, tenant_id, found.id)
        if space is None:
            print(f"{found.name}: nothing is being built")
            return 0
        _build(runtime, tenant_id, space)
    return 0


@reembed_app.command()
def status(store: Store, tenant: Tenant = None, data_dir: DataDir = None, verbose: Verbose = False) -> int:
    """The store's spaces."""
    from ragstore.service import reembed

    with context.runtime(context.settings(data_dir, verbose)) as runtime:
        tenant_id, found = _store(runtime, tenant, store)
        rows = reembed.status(runtime.db, tenant_id, found.id)
    if not rows:
        print(f"{found.name}: {found.embedding_model} ({found.embedding_dim}-d), never re-embedded")
    for row in rows:
        missing = f", {row['missing']} chunks missing" if row["missing"] else ""
        print(f"{row['id']}  {row['state']:<8}  {row['model']} ({row['dimension']}-d, in {row['location']}){missing}")
    return 0


@reembed_app.command()
def report(
    store: Store,
    sample: Annotated[int, typer.Option(help="sampled queries")] = 50,
    dataset: Annotated[Path | None, typer.Option(help="a BEIR dataset of the store's documents, for nDCG@10")] = None,
    json_file: Annotated[Path | None, typer.Option("--json", metavar="FILE", help="also write the report here")] = None,
    tenant: Tenant = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """Compare the new space with the active one."""
    from ragstore.service import evaluation, reembed

    with context.runtime(context.settings(data_dir, verbose)) as runtime:
        tenant_id, found = _store(runtime, tenant, store)
        beir = evaluation.load(dataset) if dataset else None
        compared = reembed.report(runtime.db, tenant_id, found.id, runtime.embedder, sample=sample, dataset=beir)
    _print_report(compared)
    if json_file:
        json_file.write_text(json.dumps(compared, indent=2) + "\n")
    return 0


@reembed_app.command()
def switch(store: Store, tenant: Tenant = None, data_dir: DataDir = None, verbose: Verbose = False) -> int:
    """Make the new space active, atomically."""
    return _activate("switch", store, tenant, data_dir, verbose)


@reembed_app.command()
def rollback(store: Store, tenant: Tenant = None, data_dir: DataDir = None, verbose: Verbose = False) -> int:
    """Make the previous space active again."""
    return _activate("rollback", store, tenant, data_dir, verbose)


@reembed_app.command()
def drop(store: Store, tenant: Tenant = None, data_dir: DataDir = None, verbose: Verbose = False) -> int:
    """Delete every space but the active one (no way back after this)."""
    from ragstore.service import reembed

    with context.runtime(context.settings(data_dir, verbose)) as runtime:
        tenant_id, found = _store(runtime, tenant, store)
        dropped = reembed.drop(runtime.db, tenant_id, found.id)
    names = ", ".join(f"{s.model} ({s.state})" for s in dropped) or "nothing"
    print(f"{found.name}: dropped {names}")
    return 0


def _activate(step: str, store: str, tenant: str | None, data_dir: Path | None, verbose: bool) -> int:
    from ragstore.service import reembed

    with context.runtime(context.settings(data_dir, verbose)) as runtime:
        tenant_id, found = _store(runtime, tenant, store)
        space = (reembed.switch if step == "switch" else reembed.rollback)(runtime.db, tenant_id, found.id)
    print(f"{found.name}: searches now use {space.model} ({space.dimension}-d)")
    return 0


def _build(runtime: Runtime, tenant_id: str, space: Any) -> None:
    from ragstore.service import reembed, spaces

    embedder = spaces.embedder_for(runtime.embedder, space.model, space.dimension, space)
    with progress.bar(desc=f"embedding with {space.model}", unit="chunk") as shown:
        done = reembed.build(runtime.db, tenant_id, space, embedder, runtime.chunker, progress=shown.update)
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


def _store(runtime: Runtime, tenant: str | None, name_or_id: str) -> tuple[str, VectorStore]:
    from ragstore.service import stores

    tenant_id = context.tenant_id(runtime.db, tenant)
    return tenant_id, stores.resolve(runtime.db, tenant_id, name_or_id)
