# Happydesk: `make run` for a running help desk with demo data, `make test` for the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HTTP ?= 127.0.0.1:8000
SMTP ?= 127.0.0.1:2525
export HAPPYDESK_DATA_DIR ?= $(CURDIR)/var

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml constraints.txt
	@test -d $(VENV) || { echo "==> creating $(VENV) with $$($(PYTHON) --version)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> installing Happydesk and its dependencies into $(VENV) (pinned by constraints.txt)"
	@$(BIN)/pip install -q --disable-pip-version-check -U pip 2>&1 | grep -v "is ignored" || true
	@$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e ".[dev]" 2>&1 | grep -v "is ignored" || true
	@$(BIN)/python -c "import happydesk, django, aiosmtpd, playwright" && touch $@

install: $(BIN)/.installed ## create .venv and install everything

run: $(BIN)/.installed ## migrate, load demo data once, serve on $(HTTP) (SMTP $(SMTP))
	@$(BIN)/happydesk migrate --no-input -v 0
	@$(BIN)/happydesk demo --once
	@echo "==> Happydesk at http://$(HTTP)/  (sign in as demo@happydesk.test / demo-password)"
	@echo "==> SMTP listener on $(SMTP); outgoing mail is written to $(HAPPYDESK_DATA_DIR)/outbox"
	@$(BIN)/happydesk serve --http $(HTTP) --smtp $(SMTP)

test: $(BIN)/.installed ## install system packages if missing, run the suite on SQLite and on PostgreSQL
	@scripts/test.sh

bench: $(BIN)/.installed ## ingest benchmarks on SQLite and PostgreSQL, written to bench/results.json
	@scripts/bench.sh

quality: $(BIN)/.installed ## measure triage order, search answers, early-warning precision, quote stripping, redaction (quality/)
	@scripts/quality.sh

screenshots: $(BIN)/.installed ## regenerate docs/screenshots from the browser tests (tests alone never write there)
	@scripts/system-packages.sh
	@HAPPYDESK_SHOTS_DIR=$(CURDIR)/docs/screenshots HAPPYDESK_DATA_DIR=$$(mktemp -d) CHROMIUM_PATH=$$(command -v chromium) \
	  $(BIN)/python -m pytest -q -m e2e

lint: $(BIN)/.installed ## ruff, mypy, the app import graph (layers, no cycles), the OpenAPI snapshot against the served schema
	@$(BIN)/ruff check src tests bench scripts quality
	@$(BIN)/ruff format --check src tests bench scripts quality
	@$(BIN)/mypy
	@$(BIN)/python scripts/app_graph.py
	@$(BIN)/happydesk openapi --check

openapi: $(BIN)/.installed ## refresh docs/api/openapi.json from the schema the API serves
	@$(BIN)/happydesk openapi --write

lock: ## refresh constraints.txt from a clean resolve of pyproject.toml
	rm -rf /tmp/hd-lock && $(PYTHON) -m venv /tmp/hd-lock && /tmp/hd-lock/bin/pip install -q -U pip && /tmp/hd-lock/bin/pip install -q ".[dev]"
	/tmp/hd-lock/bin/pip freeze --exclude happydesk | grep -v '^-e' > constraints.txt

.PHONY: help install run test bench quality screenshots lint openapi lock
