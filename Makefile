# Two commands set up a fresh machine: `make run` (the service locally) and `make test` (every check).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# uv must never download a Python (no internet here but package registries): use the machine's 3.13,
# the Lambda runtime's version.
export UV_PYTHON_DOWNLOADS := never
PYTHON313 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) $(shell command -v python3.13 2>/dev/null))
export UV_PYTHON ?= $(PYTHON313)
# Bytecode is written (into the git-ignored __pycache__ directories), whatever the environment says:
# without it every interpreter compiles each module again, and pytest rewrites the asserts of its
# plugins' packages (schemathesis, hypothesis: over 300 modules) again in every xdist worker.
unexport PYTHONDONTWRITEBYTECODE
# The layer package and the repository root, as the Lambda runtime and pytest see them.
export PYTHONPATH := $(CURDIR)/layers/common:$(CURDIR)
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)

# pytest-xdist workers for the suites (each worker has its own simulator, moto and free ports);
# PYTEST_WORKERS=0 runs them in one process, which is easier to debug.
PYTEST_WORKERS ?= 2
PYTEST := $(UV) run pytest -q -n $(PYTEST_WORKERS) --dist worksteal

.PHONY: help install run test check lint types unit integration suites infra bench load openapi \
	layer-requirements clean

help:
	@echo "make run    - the service locally: embedded AWS, exchange simulator, HTTP API on 127.0.0.1:3000"
	@echo "make test   - lint, types, unit, integration and template tests, cfn-lint, checkov, sam build"
	@echo "make check  - the quick loop while coding: lint, types and unit tests (about a minute)"
	@echo "make bench  - connection-test speed, cold starts, AWS calls per operation, layer size"
	@echo "make load   - the long concurrent load run against the local stack"

$(UV):
	python3 -m pip install --quiet --user "uv==$(UV_VERSION)"

install: $(UV)
	@test -n "$(UV_PYTHON)" || { echo "Python 3.13 is required (pyenv install 3.13)"; exit 1; }
	$(UV) sync --locked --quiet

run: install
	$(UV) run python -m local

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .

types: install
	$(UV) run mypy layers/common functions simulator local tools benchmarks tests

unit: install
	$(PYTEST) tests/unit

integration: install
	$(PYTEST) tests/integration

# Every pytest suite but the template tests, which run inside infra/check.sh after sam build.
suites: install
	$(PYTEST) --ignore=tests/infra

infra: install
	UV=$(UV) bash infra/check.sh

# Everything at once on this 2-core machine: the pytest suites (xdist workers) share it with lint,
# types and the infra checks (mostly tool start-up and sam build). Each job's output is printed
# whole when it ends; --keep-going reports every failing job, not only the first.
test: install
	$(MAKE) --no-print-directory -j4 --keep-going --output-sync=target lint types suites infra

check: install
	$(MAKE) --no-print-directory -j3 --output-sync=target lint types unit

bench: install
	UV=$(UV) $(UV) run python -m benchmarks

load: install
	$(UV) run python -m benchmarks.load

layer-requirements: install
	$(UV) run python -m tools.layer_requirements

openapi: install
	$(UV) run python -m tools.openapi > docs/openapi.json
	$(UV) run python -m tools.readme
	$(UV) run python -m tools.facts

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
