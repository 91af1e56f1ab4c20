# The two commands of the README: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

# Dependencies are installed from uv.lock (every package of every environment pinned, with its
# hashes, from PyPI), so two machines get the same versions. uv itself comes from PyPI into the
# virtual environment, pinned here; it installs into $(VENV), never downloads a Python, and
# (--inexact) leaves pip and itself in place.
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv
UV_ENV := UV_PROJECT_ENVIRONMENT="$(abspath $(VENV))" UV_PYTHON_DOWNLOADS=never
SYNC := $(UV_ENV) $(UV) sync --quiet --frozen --inexact
# make lock resolves from PyPI whatever other index this machine's pip or uv configuration
# names: the lock is installed on machines that have only PyPI.
LOCK := env -u UV_INDEX -u UV_INDEX_URL -u UV_EXTRA_INDEX_URL -u UV_FIND_LINKS $(UV_ENV) \
	$(UV) lock --default-index https://pypi.org/simple

.PHONY: run test lint format bench bench-batch serve worker loadtest install install-test lock clean

$(UV):
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(SYNC)
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml uv.lock
	$(SYNC) --group test
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## lock: uv.lock from pyproject.toml, after adding or changing a dependency there (README).
lock: | $(UV)
	$(LOCK) $(LOCK_ARGS)

## run: install, migrate the SQLite file (unless DATABASE_URL is set), load demo data, serve.
run: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver $(HOST):$(PORT)

## test: the whole suite on PostgreSQL, then on SQLite.
test: install-test
	bash scripts/test.sh

lint: install-test
	$(LOCK) --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DATABASE_URL= $(PY) manage.py makemigrations --check --dry-run --settings=tests.settings

format: install-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## serve: production serving with gunicorn; static files by WhiteNoise (see README, Production).
## Jobs run in `make worker`, started beside it.
serve: install
	$(PY) manage.py collectstatic --noinput -v0
	$(VENV)/bin/gunicorn portal.wsgi:application --config gunicorn.conf.py \
		--workers $${WEB_CONCURRENCY:-4} --bind $${BIND:-$(HOST):$(PORT)} \
		--no-control-socket --access-logfile - --forwarded-allow-ips "$${FORWARDED_ALLOW_IPS:-127.0.0.1}"

## worker: a Celery worker for the jobs (README, Background jobs); `make serve` needs one or more,
## on this machine or others, with the same REDIS_URL and DATABASE_URL. WORKER_CONCURRENCY
## processes (default: the number of cores).
worker: install
	$(VENV)/bin/celery -A portal worker --loglevel=INFO \
		--concurrency $${WORKER_CONCURRENCY:-$$(nproc)}

bench: install-test
	bash scripts/bench.sh

## bench-batch: the batch benchmark alone (1,000-item batches; no data set needed).
bench-batch: install-test
	BENCH_ONLY=batch bash scripts/bench.sh

## loadtest: 60 s of operators and API clients against gunicorn on PostgreSQL (README, Load test).
loadtest: install
	bash -c 'source scripts/pg.sh && source scripts/redis.sh && $(PY) bench/loadtest.py'

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
