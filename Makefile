# Two commands on a fresh machine with Python 3.11+ (and Node.js/npm for the docs assets):
#   make run    create .venv, install the runtime only, migrate the SQLite default, serve on 127.0.0.1:$(PORT)
#   make test   create .venv if needed, add the dev tools, and run the whole suite
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8000
HOST   ?= 127.0.0.1
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEV    := $(VENV)/.installed-dev

.PHONY: install run test lint format migrate seed schema clean

$(STAMP): pyproject.toml package.json package-lock.json
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/gateway compress-assets
	@touch $@

# Development tools (pytest, ruff, mypy, import-linter, schemathesis) on top of the runtime: `make run` never
# needs them.
$(DEV): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(DEV)

run: $(STAMP)
	$(BIN)/gateway serve --host $(HOST) --port $(PORT)

# Two workers (pytest-xdist), each on a database of its own (tests/conftest.py).
TEST_WORKERS ?= 2

test: $(DEV)
	env -u GATEWAY_TEST_DATABASE_URL $(BIN)/pytest -n $(TEST_WORKERS)
	@if [ -n "$$GATEWAY_TEST_DATABASE_URL" ]; then \
		echo "--- again on PostgreSQL ($$GATEWAY_TEST_DATABASE_URL)"; \
		$(BIN)/pytest -n $(TEST_WORKERS); \
	fi

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(DEV)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: install
	$(BIN)/gateway migrate

seed: install
	$(BIN)/gateway seed

schema: install
	$(BIN)/gateway export-schema
	$(BIN)/gateway export-openapi

clean:
	rm -rf $(VENV) node_modules var
