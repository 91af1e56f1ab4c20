# The two commands of the README: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench bench-batch serve loadtest install install-test clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PY) scripts/deps.py > $(VENV)/requirements.txt
	$(PIP) install -q -r $(VENV)/requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PY) scripts/deps.py test > $(VENV)/requirements-test.txt
	$(PIP) install -q -r $(VENV)/requirements-test.txt
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## run: install, migrate the SQLite file (unless DATABASE_URL is set), load demo data, serve.
run: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver $(HOST):$(PORT)

## test: the whole suite on PostgreSQL, then on SQLite.
test: install-test
	bash scripts/test.sh

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DATABASE_URL= $(PY) manage.py makemigrations --check --dry-run --settings=tests.settings

format: install-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## serve: production serving with gunicorn; static files by WhiteNoise (see README, Production).
serve: install
	$(PY) manage.py collectstatic --noinput -v0
	$(VENV)/bin/gunicorn portal.wsgi:application --config gunicorn.conf.py \
		--workers $${WEB_CONCURRENCY:-4} --bind $${BIND:-$(HOST):$(PORT)} \
		--no-control-socket --access-logfile - --forwarded-allow-ips "$${FORWARDED_ALLOW_IPS:-127.0.0.1}"

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
