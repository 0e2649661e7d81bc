# infoimb: `make run` sets up and starts the dashboard; `make test` sets up and runs every test.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PYTHON ?= python3

.PHONY: run test test-fast screenshots bench bench-serve system-deps serve worker clean venv venv-test

venv: $(VENV)/.runtime
venv-test: $(VENV)/.test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements.txt
	$(PIP) install --quiet --no-deps -e .
	touch $@

$(VENV)/.test: $(VENV)/.runtime requirements-test.txt
	$(PIP) install --quiet -r requirements.txt -r requirements-test.txt
	touch $@

# Debian packages the tests use: chromium + chromium-driver (browser tests), redis-server
# (scale-out tests). Installed when missing and running as root; under CI a missing one fails.
system-deps:
	@bash scripts/system_deps.sh

run: venv
	$(PY) app.py

test: venv-test system-deps
	$(PY) -m pytest -q

# the browser tests save their screenshots in a scratch folder; this refreshes the documentation's
screenshots: venv-test system-deps
	INFOIMB_SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest -q tests/test_browser_data_compare.py tests/test_browser_analyses.py tests/test_browser_figures.py tests/test_browser_datahub.py

test-fast: venv-test
	$(PY) -m pytest -q -m "not browser and not scaleout"

bench: venv-test
	$(PY) bench/bench_engine.py
	$(PY) bench/bench_analyses.py
	$(PY) bench/bench_graph.py --skip-graph

bench-serve: venv-test
	$(PY) bench/bench_serve.py

# the hosted demo (gunicorn, the Docker image's CMD) and a Celery worker (needs REDIS_URL)
serve: venv
	$(VENV)/bin/gunicorn --config gunicorn.conf.py --no-control-socket app:server

worker: venv
	$(VENV)/bin/celery -A app:celery_app worker --loglevel=INFO --concurrency=1

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
