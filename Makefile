# Two commands do all set-up:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test chromium lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

## Install, migrate, load demo data, start Redis if needed, run web + worker.
run: $(STAMP)
	$(BIN)/python -m builder.server.devserver

## Install, then lint, check the import rules (.importlinter) and run the whole test suite (SQLite and PostgreSQL)
## in TEST_PROCESSES processes (pytest-xdist; each claims its own Redis database and PostgreSQL schema).
TEST_PROCESSES ?= 2
test: $(STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist worksteal

## Browser tests drive Debian's Chromium (never a downloaded one): install it when missing.
chromium:
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		(apt-get update && apt-get install -y chromium) \
		|| echo "Could not install Chromium: the browser tests will be skipped."; \
	else echo "Chromium is missing and installing it needs root: the browser tests will be skipped."; fi

$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	@touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python bench/engine_throughput.py
	$(BIN)/python bench/enroll_latency.py

clean:
	rm -rf $(VENV) instance/*.sqlite3
