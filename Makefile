# Every target builds its own virtual environment: nothing depends on what is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run run-pg mocks test chromium soak bench lint typecheck openapi clean

$(STAMP): pyproject.toml mocks/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./mocks
	touch $(STAMP)

## run: the whole local stack: gateway on :8080, workers, mocks and mock OAuth on :8090, SQLite in instance/
run: $(STAMP)
	$(BIN)/epolicy stack

## run-pg: the production profile on the local PostgreSQL (EPOLICY_DATABASE_URL): mocks, migrations, gunicorn
## (deploy/gunicorn.conf.py) and a separate `epolicy worker` with its metrics on :8091; Ctrl-C stops them all
run-pg: $(STAMP)
	$(BIN)/python deploy/production_stack.py

## mocks: start only the mock back-ends and the mock OAuth server
mocks: $(STAMP)
	$(BIN)/python -m mocks --port $${EPOLICY_MOCKS_PORT:-8090}

## test: lint, type-check and run the whole test suite (installing Debian's chromium and the npm tools first)
test: $(STAMP) lint typecheck chromium $(NODE_STAMP)
	$(BIN)/python -m pytest

## node_modules: the tests' npm tools (package.json: redocly lints the OpenAPI document, axe-core checks the portal);
## without npm it says so and goes on, and the tests that need them skip (they fail under CI=true)
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error && touch $(NODE_STAMP); \
	else echo "make: npm is missing: the OpenAPI lint and the accessibility checks will skip" >&2; fi

## chromium: Debian's chromium for the browser tests, when it is missing and we are root or have sudo -n
chromium:
	tests/browser/install-chromium.sh

## soak: several hundred applications from concurrent clients under random faults (make test runs a small one)
soak: $(STAMP)
	EPOLICY_SOAK_APPLICATIONS=$${EPOLICY_SOAK_APPLICATIONS:-300} EPOLICY_SOAK_CLIENTS=$${EPOLICY_SOAK_CLIENTS:-8} \
		$(BIN)/python -m pytest tests/resilience/test_soak.py

## bench: the six benchmarks, each printing ratios measured side by side (BENCH_ARGS=--quick: under two minutes)
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

## openapi: regenerate contracts/openapi.yaml from the code
openapi: $(STAMP)
	$(BIN)/epolicy openapi --output contracts/openapi.yaml

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
