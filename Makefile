# Parley. `make run` to try it, `make test` to check it. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: `make run` needs only Parley's runtime dependencies; test, lint and bench add
# the dev set (test tools, the Genesys SDK, Playwright, matplotlib, mypy) on top.
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
NODE_STAMP := tests/sdk/js/node_modules/.installed
SMSC_SRC ?= ../shared/tools/smsc
SMSC_STAMP := $(VENV)/smsc/node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: install run test test-fast lint bench clean chromium
CHROMIUM ?= /usr/bin/chromium

install: $(DEV_STAMP)

$(RUNTIME_STAMP): pyproject.toml
	@echo "==> creating $(VENV) and installing Parley with its runtime dependencies"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e .
	@touch $(RUNTIME_STAMP)

$(DEV_STAMP): $(RUNTIME_STAMP)
	@echo "==> adding the test, bench and dev tools to $(VENV)"
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(DEV_STAMP)

$(NODE_STAMP): tests/sdk/js/package.json tests/sdk/js/package-lock.json
	@echo "==> installing the official Genesys JavaScript SDK for the SDK tests (npm ci)"
	@cd tests/sdk/js && npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

$(SMSC_STAMP): $(DEV_STAMP) $(wildcard $(SMSC_SRC)/package-lock.json $(SMSC_SRC)/smsc.js)
	@test -f $(SMSC_SRC)/smsc.js || { echo "the test SMSC is missing: expected $(SMSC_SRC)/smsc.js (set SMSC_SRC=...)"; exit 1; }
	@echo "==> installing the test SMSC (node-smpp) from $(SMSC_SRC) into $(VENV)/smsc"
	@rm -rf $(VENV)/smsc && mkdir -p $(VENV)/smsc
	@cp $(SMSC_SRC)/package.json $(SMSC_SRC)/package-lock.json $(SMSC_SRC)/smsc.js $(VENV)/smsc/
	@cd $(VENV)/smsc && npm ci --no-audit --no-fund --loglevel=error
	@touch $(SMSC_STAMP)

run: $(RUNTIME_STAMP)
	@$(BIN)/parley init --demo --base-url http://$(HOST):$(PORT)
	@echo
	@$(BIN)/parley serve --host $(HOST) --port $(PORT)

# Two runs: everything but the browser tests on two workers, then the browser tests alone
# (Playwright's sync API keeps an event loop running for its whole session).
test: install $(NODE_STAMP) $(SMSC_STAMP) chromium
	@$(BIN)/python -m pytest -n 2 --ignore=tests/web
	@$(BIN)/python -m pytest tests/web

test-fast: install
	@$(BIN)/python -m pytest -m "not sdk" -x -q --ignore=tests/web

# The browser tests (tests/web) drive Debian's Chromium with Playwright; Playwright's own
# browser download cannot work here, so the system package is installed instead.
chromium:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "==> installing Debian's chromium for the browser tests (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "the browser tests need Chromium at $(CHROMIUM): run 'sudo apt-get install chromium'"; \
	    echo "(Debian/Ubuntu), or point CHROMIUM= and PARLEY_TEST_CHROMIUM= at another build"; \
	    exit 1; \
	  fi; }

# mypy's files (src, tests, bench) are in pyproject.toml; then the schema the migrations build
# is compared with the one store/tables.py declares, on both databases.
lint: install
	@$(BIN)/ruff check src tests bench
	@$(BIN)/mypy
	@$(BIN)/python -m pytest -q tests/store/test_migration_drift.py

bench: install $(SMSC_STAMP)
	@$(BIN)/python bench/acd.py
	@$(BIN)/python bench/outbound_api.py
	@$(BIN)/python bench/outbound.py
	@$(BIN)/python bench/inbound.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache tests/sdk/js/node_modules
