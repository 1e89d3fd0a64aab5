# nmr-balance — the two commands of the README, plus benchmarks.
#   make demo   set up .venv and run the live dashboard on the simulated board
#   make test   set up .venv, lint (ruff, import layers) and run the whole test suite offscreen
#   make test-stress   make test beside two CPU-bound processes (the suite must pass on a busy machine)
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
            command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { command -v $$p; break; }; done)
export NUMBA_CACHE_DIR ?= $(CURDIR)/.numba_cache
# pytest-xdist workers for make test (0 = one process). Two help even on two busy cores: most
# tests wait on subprocesses, ptys, sockets and Qt timers rather than compute.
TEST_WORKERS ?= 2

.PHONY: demo test test-stress bench bench-quick setup system-libs lint clean pg

demo: setup
	@$(PY) -m nmr_balance.app.demo

# Lint first (seconds), then the suite: a finding fails the run before the tests start. The
# suite gets a throwaway PostgreSQL server (tests/pg_server.py: a private Unix socket, no TCP
# port, deleted at exit) for the store tests that run on both engines.
test: lint
	@bash .ci/system-libs.sh test
	QT_QPA_PLATFORM=offscreen $(PY) -m tests.pg_server --exec -- $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup

# make test with two CPU-bound processes beside it, started and stopped by .ci/with_cpu_hogs.py
# (they end with it, however it ends). Tests wait on events and counters, never on speed.
test-stress: setup
	$(PY) .ci/with_cpu_hogs.py --hogs 2 -- $(MAKE) --no-print-directory test

# A throwaway PostgreSQL server for a developer: the URL is on the last line; Ctrl-C ends it.
pg: setup
	@bash .ci/system-libs.sh test
	@$(PY) -m tests.pg_server

bench: setup
	$(PY) -m benchmarks.run_all

bench-quick: setup
	$(PY) -m benchmarks.run_all --quick

lint: setup
	@$(VENV)/bin/ruff check . || { echo "make lint: ruff check found the problems above. Run '$(VENV)/bin/ruff check --fix .' and fix what it still reports (rules: [tool.ruff] in pyproject.toml)."; exit 1; }
	@$(VENV)/bin/ruff format --check . || { echo "make lint: the files above are not formatted. Run '$(VENV)/bin/ruff format .'"; exit 1; }
	@QT_QPA_PLATFORM=offscreen $(VENV)/bin/lint-imports || { echo "make lint: a layer rule (DESIGN.md section 3) is broken; see the contract above ([tool.importlinter] in pyproject.toml)."; exit 1; }

setup: system-libs $(VENV)/.installed

system-libs:
	@bash .ci/system-libs.sh

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "nmr-balance needs Python 3.11 or newer: install it (e.g. 'apt-get install python3') and run make again."; exit 1; fi
	@test -x $(PY) || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,lint,bench,pg]'
	@if [ "$$(uname -s)" = Linux ]; then $(PY) -m pip install --quiet -e '.[evdev]' || echo "note: evdev (Wii Balance Board over Bluetooth HID) did not install; everything else works."; fi
	@touch $@

clean:
	rm -rf $(VENV) .numba_cache .pytest_cache build *.egg-info
