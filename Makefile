# BooksTrack backend. The two commands: `make run` (serve everything, embedded) and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test test-unit test-integration lint format schema bench fakes serve worker beat migrate static install lock lock-upgrade clean

## install: the exact versions (and hashes) of requirements-dev.lock, so installs a month apart match
$(VENV)/.installed: requirements-dev.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	@touch $@

install: $(VENV)/.installed

## lock: resolve the ranges (requirements*.txt) into the locks, keeping every pin that still fits;
## run it after changing a range. The dev lock is constrained by the runtime lock, so both agree.
## It uses the pip index pip is configured with and writes no index address into the locks.
PIP_COMPILE = $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links
lock:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	@test -x $(VENV)/bin/pip-compile || $(PY) -m pip install --quiet "pip-tools>=7.5,<8"
	$(PIP_COMPILE) $(LOCK_FLAGS) --output-file requirements.lock requirements.txt
	$(PIP_COMPILE) $(LOCK_FLAGS) --constraint requirements.lock --output-file requirements-dev.lock requirements-dev.txt

## lock-upgrade: the same, taking the newest versions the ranges allow
lock-upgrade:
	$(MAKE) --no-print-directory lock LOCK_FLAGS=--upgrade

migrate: install
	$(PY) manage.py migrate --noinput

## static: collect the admin and Swagger UI files into STATIC_ROOT (gzip-compressed, content-hashed
## names) for WhiteNoise to serve. They come from the installed packages (and any app's static/
## folder), so they are collected again only when those change (~5 s).
STATIC_ROOT ?= staticfiles
$(STATIC_ROOT)/staticfiles.json: $(VENV)/.installed $(shell find booktrack search enrichment scanning jobs harvest -path '*/static/*' -type f 2>/dev/null)
	STATIC_ROOT=$(abspath $(STATIC_ROOT)) $(PY) manage.py collectstatic --noinput -v 0
	@touch $@

static: $(STATIC_ROOT)/staticfiles.json

## run: one process serves HTTP + WebSocket + an in-process Celery worker (SQLite, no Redis needed)
run: migrate static
	$(VENV)/bin/uvicorn booktrack.asgi:application --host $(HOST) --port $(PORT) --lifespan off --no-proxy-headers

## test: the whole suite (unit + integration on PostgreSQL, Redis, a worker process, an ASGI server)
test: install
	$(VENV)/bin/pytest

test-unit: install
	$(VENV)/bin/pytest -m "not integration"

test-integration: install
	$(VENV)/bin/pytest -m integration

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo --cache-dir var/import_linter_cache
	$(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=booktrack.settings.production SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
		ALLOWED_HOSTS=api.bookstrack.app $(PY) manage.py check --deploy --fail-level WARNING
	$(MAKE) --no-print-directory schema

## schema: write and validate the OpenAPI schema (served live at /api/schema/, UI at /api/docs/)
schema: install
	$(PY) manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml
	@if git rev-parse --git-dir >/dev/null 2>&1 && ! git diff --quiet -- docs/openapi.yaml; then \
		echo "docs/openapi.yaml changed: the API changed, so commit the regenerated file with it"; exit 1; fi

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## bench: benchmarks against real server processes; writes docs/benchmarks.md
bench: install
	$(PY) -m benchmarks.run

## fakes: local stand-ins for every upstream (prints the env lines to point the service at them)
fakes: install
	$(PY) -m tests.fakes --port 8765

## service mode: separate processes (set REDIS_URL and DATABASE_URL first)
serve: migrate static
	$(VENV)/bin/uvicorn booktrack.asgi:application --host $(HOST) --port $(PORT) --workers 2 --lifespan off --no-proxy-headers

worker: install
	$(VENV)/bin/celery -A booktrack worker -Q default,providers,ai,maintenance --loglevel INFO

beat: install
	$(VENV)/bin/celery -A booktrack beat --loglevel INFO

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
