# Two commands set up a fresh machine: `make run` (the service locally) and `make test` (every check).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# uv must never download a Python (no internet here but package registries): use the machine's 3.13,
# the Lambda runtime's version.
export UV_PYTHON_DOWNLOADS := never
PYTHON313 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) $(shell command -v python3.13 2>/dev/null))
export UV_PYTHON ?= $(PYTHON313)
# The layer package and the repository root, as the Lambda runtime and pytest see them.
export PYTHONPATH := $(CURDIR)/layers/common:$(CURDIR)
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)

.PHONY: help install run test lint types unit integration infra bench load openapi layer-requirements clean

help:
	@echo "make run    - the service locally: embedded AWS, exchange simulator, HTTP API on 127.0.0.1:3000"
	@echo "make test   - lint, types, unit, integration and template tests, cfn-lint, checkov, sam build"
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
	$(UV) run pytest tests/unit -q

integration: install
	$(UV) run pytest tests/integration -q

infra: install
	UV=$(UV) bash infra/check.sh

# The template tests run inside infra/check.sh, after sam build.
test: lint types
	$(UV) run pytest -q --ignore=tests/infra
	UV=$(UV) bash infra/check.sh

bench: install
	$(UV) run python -m benchmarks

load: install
	$(UV) run python -m benchmarks.load

layer-requirements: install
	{ sed -n '/^#/p' layers/common/requirements.txt; $(UV) export --frozen --no-dev \
	  --no-emit-project --no-header --no-annotate --no-emit-package boto3 --no-emit-package botocore \
	  --no-emit-package s3transfer --no-emit-package urllib3 --no-emit-package python-dateutil \
	  --no-emit-package six; } > layers/common/requirements.txt.new
	mv layers/common/requirements.txt.new layers/common/requirements.txt

openapi: install
	$(UV) run python -m tools.openapi > docs/openapi.json
	$(UV) run python -m tools.readme
	$(UV) run python -m tools.facts

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
