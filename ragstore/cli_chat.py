"""`ragstore conversations export` and `ragstore datasets list|export`: chat memory and training data as files."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ragstore.cli_common import database, tenant_id
from ragstore.config import Settings


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add `conversations export` and `datasets list|export` to the `ragstore` command."""
    scope = argparse.ArgumentParser(add_help=False)
    scope.add_argument("--tenant", help="tenant name or id (default: the default tenant)")
    scope.add_argument("-o", "--output", type=Path, help="write here instead of to standard output")

    conversations = commands.add_parser("conversations", help="conversations and their answers").add_subparsers(
        required=True, metavar="ACTION"
    )
    export = conversations.add_parser(
        "export", parents=[common, scope], help="one conversation, or all of a user's (or everyone's), as JSON"
    )
    which = export.add_mutually_exclusive_group()
    which.add_argument("--user", help="only this user's conversations")
    which.add_argument("--conversation", help="only this conversation (its id)")
    export.set_defaults(command=cmd_conversations_export)

    datasets = commands.add_parser("datasets", help="curated fine-tuning datasets").add_subparsers(
        required=True, metavar="ACTION"
    )
    listing = datasets.add_parser("list", parents=[common, scope], help="datasets and their example counts")
    listing.set_defaults(command=cmd_datasets_list)
    dump = datasets.add_parser("export", parents=[common, scope], help="a dataset's approved examples as JSONL")
    dump.add_argument("name", metavar="NAME", help="the dataset's name or id")
    dump.add_argument(
        "--format",
        choices=["chat", "triplets"],
        default="chat",
        help="chat: OpenAI fine-tuning chat JSONL (default); triplets: query, positive, hard negatives",
    )
    dump.add_argument("--scrub", action="store_true", help="replace e-mail addresses and phone numbers")
    dump.set_defaults(command=cmd_datasets_export)


def cmd_conversations_export(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.service import conversations

    with database(settings) as db:
        tenant = tenant_id(db, args.tenant)
        document = conversations.export(db, tenant, conversation_id=args.conversation, user_id=args.user)
    with _output(args.output) as out:
        json.dump(document, out, indent=2, ensure_ascii=False)
        out.write("\n")
    count = len(document["conversations"])
    if args.output:
        print(f"exported {count} conversation{'s' * (count != 1)} to {args.output}", file=sys.stderr)
    return 0


def cmd_datasets_list(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.models import PageRequest
    from ragstore.service import training

    with database(settings) as db:
        tenant = tenant_id(db, args.tenant)
        found, cursor = [], None
        while True:
            page = training.list_datasets(db, tenant, PageRequest(100, "asc", cursor))
            found += page.items
            if not page.has_more:
                break
            cursor = page.items[-1].id
    with _output(args.output) as out:
        out.write(f"{'id':<28} {'examples':>8}  name\n")
        for dataset in found:
            out.write(f"{dataset.id:<28} {dataset.example_count:>8}  {dataset.name}\n")
    return 0


def cmd_datasets_export(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.service import training

    with database(settings) as db:
        tenant = tenant_id(db, args.tenant)
        dataset = training.find_dataset(db, tenant, args.name)
        records = training.export(db, tenant, dataset.id, args.format, scrub=args.scrub)
        lines = 0
        with _output(args.output) as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                lines += 1
    print(
        f"exported {lines} {args.format} line{'s' * (lines != 1)} from dataset {dataset.name} "
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
