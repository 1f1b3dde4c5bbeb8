# Pitwall: `make run` to try it, `make test` for the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
MANAGE := $(UV) run --frozen python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help run setup check-tools install migrate seed static test lint format worker beat bench

help: ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

check-tools:
	@if ! command -v python3.11 >/dev/null 2>&1 && ! python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1; then \
		echo "Pitwall needs Python 3.11: install it so that python3.11 is on your PATH, then run make again."; exit 1; fi
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
		echo "Pitwall needs Node.js and npm for the NHS.UK design system: install Node.js 18 or newer, then run make again."; exit 1; fi
	@if ! command -v uv >/dev/null 2>&1 && ! test -x $(HOME)/.local/bin/uv; then \
		echo "Installing uv (the Python environment manager) from PyPI..."; \
		python3 -m pip install --user --quiet uv 2>/dev/null || python3.11 -m pip install --user --quiet uv; fi

.venv/.synced: pyproject.toml uv.lock
	$(UV) sync --frozen --python 3.11
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: check-tools .venv/.synced node_modules/.installed ## Install Python and front-end packages

staticfiles/.collected: node_modules/.installed $(shell find static -type f 2>/dev/null)
	$(MANAGE) collectstatic --noinput -v 0
	@touch $@

static: install staticfiles/.collected

migrate: install
	$(MANAGE) migrate --noinput -v 0

seed: migrate ## Load the demo data (idempotent)
	$(MANAGE) seed_demo

run: static seed ## Install, migrate, load the demo and serve http://127.0.0.1:8000
	@echo "Serving Pitwall on http://$(HOST):$(PORT)/ (Ctrl+C to stop)"
	$(MANAGE) runserver $(HOST):$(PORT)

PYTEST_ARGS ?=
# Two processes (pytest-xdist); the worker and browser suites each keep to one of them.
PYTEST_WORKERS ?= 2
test: static ## Run the whole test suite (set DATABASE_URL / REDIS_URL for PostgreSQL / Redis)
	$(UV) run --frozen pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: install ## ruff, Django's checks and missing migrations
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen bandit -q -r accounts cohort config events mentoring metrics notifications pdp -ll -x "*/migrations/*"
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run

format: install
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

worker: install ## A Celery worker (needs REDIS_URL)
	$(UV) run --frozen celery -A config worker --loglevel=INFO

beat: install ## Celery beat, the scheduler (needs REDIS_URL)
	$(UV) run --frozen celery -A config beat --loglevel=INFO

# pages and load need PostgreSQL (DATABASE_URL for pages; load makes its own database on
# PITWALL_BENCH_POSTGRES, default postgres://postgres@127.0.0.1:5432) and Redis
# (PITWALL_BENCH_REDIS, default redis://127.0.0.1:6379/7); locust comes from uv.lock.
bench: migrate ## Run the benchmarks (results in benchmarks/results/)
	$(UV) run --frozen python -m benchmarks.matching
	$(UV) run --frozen python -m benchmarks.forecast
	$(UV) run --frozen python -m benchmarks.metrics
	$(UV) run --frozen python -m benchmarks.api
	$(UV) run --frozen python -m benchmarks.pages
	$(UV) run --frozen python -m benchmarks.load
