# The README's two commands: `make serve` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint browser

serve: $(STAMP)
	$(BIN)/ragstore serve

# Four test processes on two cores: most tests wait (on servers, workers, PostgreSQL) more than they compute.
# Each has its own embedded PostgreSQL and databases; one file alone: .venv/bin/pytest tests/...
test: $(STAMP) browser
	$(BIN)/pytest -n 4

# The web page's tests (tests/ui) drive Debian's chromium: Playwright never downloads a browser of its own.
browser:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# Benchmarks: `make bench-ingest`, bench-ceiling, bench-ann, bench-api, bench-peers, bench-load, bench-tenants,
# bench-startup, bench-replicas, bench-quality, bench-fusion_study, bench-rerank, bench-limits, bench-busy,
# bench-long_passages, bench-capacity; ARGS='...' passes
# options. Each prints a table and writes bench/results/<name>.json. The peers are installed for bench-peers only.
bench-%: $(STAMP)
	$(BIN)/python bench/$*.py $(ARGS)

bench-peers: $(STAMP)
	$(BIN)/pip install --quiet -r bench/requirements-peers.txt
	$(BIN)/python bench/peers.py $(ARGS)

# Style and types: ruff, then mypy over ragstore/ (settings in pyproject.toml). CI runs it before the tests.
lint: $(STAMP)
	$(BIN)/ruff check ragstore tests bench
	$(BIN)/ruff format --check ragstore tests bench
	$(BIN)/mypy

# torch first, pinned to 2.13.0 (the CPU build on these machines): unpinned, it pulls GBs of CUDA packages.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)
