# vetvol: `make demo` runs the platform with a demo province; `make test` runs every check and test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VETVOL := $(BIN)/vetvol
HOST ?= 127.0.0.1:8000
export VETVOL_VAR_DIR ?= $(CURDIR)/var

.PHONY: install static demo serve test check pytest lint bench messages clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "vetvol needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "vetvol needs Node.js 20 and npm (sudo apt-get install -y nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

static: node_modules/.installed
	node scripts/build_static.mjs

install: $(VENV)/.installed static

# The demo: SQLite under var/, Guangdong's tree, demo accounts, then the server (pages and live websockets)
# with the dispatch clock and a simulation of incidents and responders in the same process.
demo: install
	scripts/check_system_deps.sh
	@mkdir -p var
	$(VETVOL) migrate --verbosity 0
	$(VETVOL) load_regions
	$(VETVOL) seed_demo
	VETVOL_DEMO_MODE=true $(VETVOL) serve $(HOST) --simulate

serve: install
	VETVOL_DEMO_MODE=true $(VETVOL) serve $(HOST) --simulate

# Everything CI checks. With VETVOL_TEST_POSTGRES_URL set, the suite runs a second time on PostgreSQL.
test: install
	scripts/check_system_deps.sh
	$(MAKE) --no-print-directory lint check pytest
	@if [ -n "$$VETVOL_TEST_POSTGRES_URL" ]; then \
		echo "== test suite on PostgreSQL"; \
		DATABASE_URL="$$VETVOL_TEST_POSTGRES_URL" $(MAKE) --no-print-directory pytest; \
	fi

lint:
	$(BIN)/ruff check src tests bench scripts conftest.py
	$(BIN)/ruff format --check src tests bench scripts conftest.py
	$(BIN)/mypy src

check:
	VETVOL_VAR_DIR=$$(mktemp -d) $(VETVOL) check --fail-level WARNING
	VETVOL_VAR_DIR=$$(mktemp -d) $(VETVOL) makemigrations --check --dry-run
	VETVOL_ENV=production SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
		VETVOL_DATA_KEY=$$(head -c 32 /dev/urandom | base64) VETVOL_LOOKUP_KEY=check-lookup-key \
		VETVOL_SIGNING_KEY=$$(head -c 32 /dev/urandom | base64) REDIS_URL=redis://127.0.0.1:6379/0 \
		ALLOWED_HOSTS=vetvol.example.org $(VETVOL) check --deploy --fail-level WARNING

pytest:
	VETVOL_ENV=test $(BIN)/pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

messages: install
	cd src/vetvol && ../../$(VETVOL) makemessages -l en --no-obsolete && ../../$(VETVOL) compilemessages -l en

clean:
	rm -rf $(VENV) node_modules var src/vetvol/static/vendor
