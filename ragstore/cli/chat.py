"""`ragstore conversations export` and `ragstore datasets list|export`: chat memory and training data as files."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated, Literal

import typer

from ragstore.cli import context
from ragstore.cli.context import DataDir, Tenant, Verbose

app = typer.Typer()
conversations_app = typer.Typer(help="Conversations and their answers.", no_args_is_help=True)
datasets_app = typer.Typer(help="Curated fine-tuning datasets.", no_args_is_help=True)
app.add_typer(conversations_app, name="conversations")
app.add_typer(datasets_app, name="datasets")

Output = Annotated[
    Path | None, typer.Option("-o", "--output", help="write here instead of to standard output", show_default=False)
]


@conversations_app.command("export", epilog="Example: ragstore conversations export --user ana -o ana.json")
def export_conversations(
    user: Annotated[str | None, typer.Option(help="only this user's conversations")] = None,
    conversation: Annotated[str | None, typer.Option(help="only this conversation (its id)")] = None,
    tenant: Tenant = None,
    output: Output = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """One conversation, or all of a user's (or everyone's), as JSON."""
    from ragstore.service import conversations

    if user is not None and conversation is not None:  # as argparse's mutually exclusive group said it
        raise typer.BadParameter("not allowed with --user", param_hint="--conversation")
    with context.database(context.settings(data_dir, verbose)) as db:
        tenant_id = context.tenant_id(db, tenant)
        document = conversations.export(db, tenant_id, conversation_id=conversation, user_id=user)
    with _output(output) as out:
        json.dump(document, out, indent=2, ensure_ascii=False)
        out.write("\n")
    count = len(document["conversations"])
    if output:
        print(f"exported {count} conversation{'s' * (count != 1)} to {output}", file=sys.stderr)
    return 0


@datasets_app.command("list")
def list_datasets(
    tenant: Tenant = None, output: Output = None, data_dir: DataDir = None, verbose: Verbose = False
) -> int:
    """Datasets and their example counts."""
    from ragstore.models import PageRequest
    from ragstore.service import training

    with context.database(context.settings(data_dir, verbose)) as db:
        tenant_id = context.tenant_id(db, tenant)
        found, cursor = [], None
        while True:
            page = training.list_datasets(db, tenant_id, PageRequest(100, "asc", cursor))
            found += page.items
            if not page.has_more:
                break
            cursor = page.items[-1].id
    with _output(output) as out:
        out.write(f"{'id':<28} {'examples':>8}  name\n")
        for dataset in found:
            out.write(f"{dataset.id:<28} {dataset.example_count:>8}  {dataset.name}\n")
    return 0


@datasets_app.command("export", epilog='Example: ragstore datasets export "support v1" --format triplets --scrub')
def export_dataset(
    name: Annotated[str, typer.Argument(metavar="NAME", help="the dataset's name or id")],
    form: Annotated[
        Literal["chat", "triplets"],
        typer.Option("--format", help="chat: OpenAI fine-tuning chat JSONL; triplets: query, positive, hard negatives"),
    ] = "chat",
    scrub: Annotated[bool, typer.Option("--scrub", help="replace e-mail addresses and phone numbers")] = False,
    tenant: Tenant = None,
    output: Output = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """A dataset's approved examples as JSONL (a file is written whole or not at all)."""
    from ragstore.service import training

    with context.database(context.settings(data_dir, verbose)) as db:
        tenant_id = context.tenant_id(db, tenant)
        dataset = training.find_dataset(db, tenant_id, name)
        records = training.export(db, tenant_id, dataset.id, form, scrub=scrub)
        lines = 0
        with _output(output) as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                lines += 1
    print(
        f"exported {lines} {form} line{'s' * (lines != 1)} from dataset {dataset.name} "
        f"({dataset.example_count} examples; duplicates, unapproved examples and, for triplets, answers without "
        "passages left out)",
        file=sys.stderr,
    )
    return 0


@contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    """The file (written whole or not at all: a temporary sibling renamed at the end), or standard output."""
    if path is None:
        yield sys.stdout
        return
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        try:
            yield out
        except BaseException:
            out.close()
            partial.unlink(missing_ok=True)
            raise
    partial.replace(path)
