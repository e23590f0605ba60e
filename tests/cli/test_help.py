"""The `ragstore` command before it opens anything: help, version, completion and usage errors, without a database."""

from __future__ import annotations

import os
import subprocess
import sys
import typing
from importlib.metadata import version

from ragstore.cli import context
from ragstore.ingest.chunk import AUTO
from tests.support.processes import ragstore, ragstore_env

COMMANDS = [
    "serve",
    "worker",
    "ingest",
    "search",
    "eval",
    "migrate",
    "doctor",
    "stats",
    "check",
    "tenants",
    "keys",
    "import",
    "conversations",
    "datasets",
    "backup",
    "restore",
    "verify",
    "reembed",
    "float16",
]


def test_help_names_every_command_and_loads_neither_the_model_nor_the_database():
    shown = ragstore("--help", env=ragstore_env())
    assert shown.returncode == 0, shown.stderr
    listed = {line.strip("│ ").split(" ", 1)[0] for line in shown.stdout.splitlines()}
    assert set(COMMANDS) <= listed
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from ragstore.cli.main import main; main(['--help']); "
            "print(' '.join(sorted(sys.modules)), file=sys.stderr)",
        ],
        env=ragstore_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    modules = set(loaded.stderr.split())
    assert "ragstore.cli.float16" in modules  # every command module was read to list its command
    heavy = {"torch", "psycopg", "sentence_transformers", "onnxruntime", "tokenizers", "ragstore.store.db"}
    assert not heavy & modules


def test_each_command_has_help_with_its_options():
    for args, option in [
        (["search"], "--ranker"),
        (["ingest"], "--chunk-overlap"),
        (["keys", "create"], "--tenant"),
        (["float16", "convert"], "--maintenance-work-mem"),
        (["import", "chroma"], "--embeddings"),
        (["reembed", "report"], "--dataset"),
    ]:
        shown = ragstore(*args, "-h", env=ragstore_env())
        assert shown.returncode == 0 and option in shown.stdout and "--data-dir" in shown.stdout, args


def test_version():
    shown = ragstore("--version", env=ragstore_env())
    assert (shown.returncode, shown.stdout) == (0, f"ragstore {version('ragstore')}\n")


def test_shell_completion_completes_command_names():
    env = {**ragstore_env(), "_RAGSTORE_COMPLETE": "complete_bash", "COMP_WORDS": "ragstore re", "COMP_CWORD": "1"}
    completed = subprocess.run([sys.executable, "-m", "ragstore"], env=env, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0 and set(completed.stdout.split()) == {"restore", "reembed"}


def test_usage_errors_exit_2_before_anything_opens():
    env = ragstore_env(database_url="postgresql://nobody@127.0.0.1:1/none")  # would fail if it were opened
    for args in [
        ["search", "q"],  # --store missing
        ["search", "q", "--store", "s", "--ranker", "best"],
        ["search", "q", "--store", "s", "-k", "many"],
        ["conversations", "export", "--user", "ana", "--conversation", "conv_1"],
        ["nosuchcommand"],
        ["keys"],
        [],
    ]:
        result = ragstore(*args, env=env)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_an_invalid_setting_is_one_line():
    result = ragstore("doctor", env=ragstore_env(port="eighty"))
    assert result.returncode == 1
    assert result.stderr.startswith("ragstore: invalid setting: port: ") and result.stderr.count("\n") == 1


def test_the_chunking_help_says_the_auto_strategy_numbers():
    # context.py writes them out so that --help need not load the tokenizer: they must stay ingest.chunk.AUTO's.
    size, overlap = (typing.get_args(alias)[1].help for alias in (context.ChunkSize, context.ChunkOverlap))
    assert f"default {AUTO.max_tokens})" in size and f"default {AUTO.overlap_tokens})" in overlap


def test_python_dash_m_and_the_installed_script_are_the_same_command():
    script = os.path.join(os.path.dirname(sys.executable), "ragstore")
    shown = subprocess.run([script, "--version"], env=ragstore_env(), capture_output=True, text=True, timeout=60)
    assert shown.stdout == ragstore("--version", env=ragstore_env()).stdout
