"""The `ragstore` command: the command groups' apps merged into one, and the entry point."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from ragstore.cli import (
    admin,
    archive,
    chat,
    context,
    database,
    documents,
    evaluation,
    float16,
    imports,
    manage,
    reembed,
    serve,
)
from ragstore.errors import RagstoreError


class _Ragstore(TyperGroup):
    """Runs a command: what it returns is the exit code; a RagstoreError or an interrupt is one line on stderr."""

    def invoke(self, ctx: Any) -> Any:
        try:
            code = super().invoke(ctx)
        except RagstoreError as exc:
            context.fail(exc.message)
            code = 1
        except KeyboardInterrupt:
            context.fail("interrupted")
            code = 1
        if code:
            raise typer.Exit(code)
        return code


app = typer.Typer(
    cls=_Ragstore,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    # A traceback (of a bug) shows no local variables: they may hold a database URL with its password.
    pretty_exceptions_show_locals=False,
    epilog="Example: ragstore ingest ./docs --store handbook, then ragstore search 'how do I reset my password'"
    " --store handbook. Each command says more with --help.",
)
for group in (serve, documents, manage, evaluation, database, admin, imports, chat, archive, reembed, float16):
    app.add_typer(group.app)


def _print_version(wanted: bool) -> None:
    from importlib.metadata import version

    if wanted:
        print(f"ragstore {version('ragstore')}")
        raise typer.Exit()


@app.callback()
def ragstore(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """A self-hosted knowledge base for RAG chatbots, on PostgreSQL + pgvector, with an OpenAI-compatible API."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `ragstore` command with these arguments (else the process's); its exit code."""
    try:
        app(args=None if argv is None else list(argv), prog_name="ragstore")
    except SystemExit as exc:  # Typer ends every run this way, a usage error with 2 as argparse did
        return exc.code if isinstance(exc.code, int) else 1
    return 0
