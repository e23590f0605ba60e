"""The import rule, read from the source with `ast`: each part of ragstore/ imports only what LAYERS lets it (the same
table as docs/architecture.md's), only store/ imports psycopg, only api/ and web/ import FastAPI or Starlette, and
only config.py reads the environment.

Every import counts, wherever it stands: one inside a function is deferred, not exempt, and one under
`if TYPE_CHECKING:` counts too, because mypy follows it and it ties the lower layer to the upper one's names all the
same; a lower layer that needs a type from above should have that type moved down (to models.py, or a Protocol
beside its user)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import ragstore

# Every part may import the leaves; the leaves import nothing of ragstore, not even one another.
LEAVES = ("telemetry", "errors", "config", "models", "ids", "redis_link", "__init__")

# Top to bottom: a layer, its parts (a folder or a module of ragstore/), and what each part may import besides itself
# and the leaves.
LAYERS: tuple[tuple[str, dict[str, tuple[str, ...]]], ...] = (
    (
        "edges",
        {
            "__main__": ("cli",),
            "cli": ("api", "runtime", "worker", "observability", "importers", "archive", "service", "store", "ingest"),
            "api": ("web", "runtime", "observability", "service", "chat", "ingest"),
            "web": (),
            "runtime": ("worker", "service", "cache", "chat", "store", "ingest"),
            "worker": ("service", "store", "ingest"),
            "observability": ("service", "store", "ingest"),
        },
    ),
    ("use cases", {"importers": ("service", "ingest"), "archive": ("service", "ingest")}),
    ("service", {"service": ("store", "cache", "chat", "ingest")}),
    ("cache, chat", {"cache": ("ingest",), "chat": ("ingest",)}),
    ("store", {"store": ()}),
    ("ingest", {"ingest": ()}),
)

# Third-party packages only some parts may import.
OWNED = {"psycopg": {"store"}, "psycopg_pool": {"store"}, "fastapi": {"api", "web"}, "starlette": {"api", "web"}}
# What reads the environment (pydantic-settings reads it for Settings), and the one module that may.
ENVIRONMENT = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
ENVIRONMENT_READER = "config"
SOURCE = Path(ragstore.__file__).parent
DOC = Path(__file__).parents[2] / "docs" / "architecture.md"


def may_import() -> dict[str, set[str]]:
    """Each part, with every part it may import (itself and the leaves included)."""
    allowed = {leaf: {leaf} for leaf in LEAVES}
    for _, parts in LAYERS:
        for part, below in parts.items():
            allowed[part] = {part, *below, *LEAVES}
    return allowed


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str  # the importing module, dotted
    target: str  # what it imports, dotted (a module, or the package a name was imported from)


def module_name(root: Path, path: Path) -> str:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(root: Path) -> Iterator[Import]:
    """Every import statement of every module under root (a package directory), resolved to dotted names."""
    for path in sorted(root.rglob("*.py")):
        module = module_name(root, path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(path, node.lineno, module, alias.name)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    yield Import(path, node.lineno, module, _submodule(root, base, alias.name))


def _submodule(root: Path, base: str, name: str) -> str:
    """`from base import name`: base.name when that is a module or package under root, else base."""
    relative = Path(*base.split(".")[1:], name)
    return f"{base}.{name}" if (root / relative).is_dir() or (root / relative).with_suffix(".py").is_file() else base


def part(root: Path, dotted: str) -> str:
    """The part of the package a dotted name belongs to: its folder or module under root, `__init__` for the root."""
    pieces = dotted.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def violations(root: Path) -> list[str]:
    """Every import that breaks the rule, every part in no layer and every read of the environment outside
    config.py, one line each."""
    allowed, found = may_import(), []
    for imp in imports(root):
        where = f"{imp.path.relative_to(root.parent)}:{imp.line}"
        source, top = part(root, imp.module), imp.target.split(".")[0]
        if source not in allowed:
            continue  # said once below
        if top == root.name and part(root, imp.target) not in allowed[source]:
            found.append(f"{where} {source} imports {part(root, imp.target)} ({imp.target}), which it may not")
        elif top in OWNED and source not in OWNED[top]:
            found.append(f"{where} {source} imports {top}, which only {', '.join(sorted(OWNED[top]))} may")
        elif top == "pydantic_settings" and source != ENVIRONMENT_READER:
            found.append(
                f"{where} {source} imports pydantic_settings: only {ENVIRONMENT_READER}.py reads the environment"
            )
    placed = {part(root, module_name(root, path)) for path in root.rglob("*.py")}
    found += [
        f"{root.name}/{name} is in no layer: add it to LAYERS and docs/architecture.md"
        for name in sorted(placed - set(allowed))
    ]
    return list(dict.fromkeys(found + environment_reads(root)))  # `from x import a, b`: said once


def environment_reads(root: Path) -> list[str]:
    """`os.environ`, `os.getenv`, ... and `from os import environ, ...` anywhere but config.py."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if part(root, module_name(root, path)) == ENVIRONMENT_READER:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            named = (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
                and node.attr in ENVIRONMENT
            )
            imported = isinstance(node, ast.ImportFrom) and node.module == "os"
            if named or (imported and any(alias.name in ENVIRONMENT for alias in node.names)):
                where = f"{path.relative_to(root.parent)}:{node.lineno}"
                found.append(f"{where} reads the environment: only {ENVIRONMENT_READER}.py may")
    return found


def markdown_table() -> str:
    """LAYERS as docs/architecture.md shows it."""
    rows = ["| layer | part of ragstore/ | may import, besides itself and the leaves |", "|---|---|---|"]
    for layer, parts in LAYERS:
        for name, below in parts.items():
            rows.append(f"| {layer} | `{name}` | {', '.join(below) or 'nothing else'} |")
    rows.append(f"| leaves | {', '.join(f'`{leaf}`' for leaf in LEAVES)} | nothing of ragstore |")
    return "\n".join(rows)


def test_ragstore_imports_only_down_its_layers() -> None:
    assert violations(SOURCE) == []


def test_architecture_doc_shows_the_same_table() -> None:
    assert markdown_table() in DOC.read_text(), "docs/architecture.md's table differs from LAYERS:\n" + markdown_table()


def _tree(root: Path, files: dict[str, str]) -> Path:
    package = root / "ragstore"
    for name, text in {"__init__.py": "", **files}.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return package


CLEAN = {
    "config.py": "import os\nfrom pydantic_settings import BaseSettings\nHOME = os.environ.get('HOME')\n",
    "errors.py": "",
    "ingest/__init__.py": "",
    "ingest/chunk.py": "from ragstore import errors\nfrom ragstore.config import HOME\n",
    "service/__init__.py": "",
    "service/search.py": "from ragstore.ingest import chunk\nfrom . import files\n",
    "service/files.py": "from ..store import db\n",
    "store/__init__.py": "",
    "store/db.py": "import psycopg\n",
    "api/__init__.py": "",
    "api/app.py": "from fastapi import FastAPI\nfrom ragstore.service import search\n",
}


def test_checker_passes_a_tree_that_keeps_the_rule(tmp_path: Path) -> None:
    assert violations(_tree(tmp_path, CLEAN)) == []


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        ("ingest/parse.py", "x = 1\nfrom ragstore.service import search\n", "ingest/parse.py:2 ingest imports service"),
        ("ingest/parse.py", "def f():\n    from ..api import app\n", "ingest/parse.py:2 ingest imports api"),
        (
            "ingest/parse.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ragstore.store.db import X\n",
            "ingest/parse.py:3 ingest imports store",
        ),
        ("errors.py", "from ragstore import ingest\n", "errors.py:1 errors imports ingest"),
        ("service/search.py", "import psycopg.sql\n", "service/search.py:1 service imports psycopg"),
        ("service/search.py", "from starlette.types import Scope\n", "service/search.py:1 service imports starlette"),
        ("store/db.py", "import os\nURL = os.getenv('URL')\n", "store/db.py:2 reads the environment"),
        ("store/db.py", "from os import environ\n", "store/db.py:1 reads the environment"),
        ("ingest/embed.py", "import pydantic_settings\n", "ingest/embed.py:1 ingest imports pydantic_settings"),
        ("plugins/x.py", "from ragstore import errors\n", "plugins is in no layer"),
    ],
)
def test_checker_finds_the_one_bad_import(tmp_path: Path, path: str, text: str, expected: str) -> None:
    found = violations(_tree(tmp_path, {**CLEAN, path: text}))
    assert len(found) == 1 and found[0].startswith(f"ragstore/{expected}"), found
