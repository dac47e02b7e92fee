# Every target builds its own virtual environment: nothing depends on what is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run mocks test soak bench lint typecheck openapi clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: the whole local stack: gateway on :8080, workers, mocks and mock OAuth on :8090, SQLite in instance/
run: $(STAMP)
	$(BIN)/epolicy stack

## mocks: start only the mock back-ends and the mock OAuth server
mocks: $(STAMP)
	$(BIN)/python -m mocks --port $${EPOLICY_MOCKS_PORT:-8090}

## test: lint, type-check and run the whole test suite
test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest

## soak: several hundred applications from concurrent clients under random faults (make test runs a small one)
soak: $(STAMP)
	EPOLICY_SOAK_APPLICATIONS=$${EPOLICY_SOAK_APPLICATIONS:-300} EPOLICY_SOAK_CLIENTS=$${EPOLICY_SOAK_CLIENTS:-8} \
		$(BIN)/python -m pytest tests/resilience/test_soak.py

## bench: benchmarks that print ratios measured side by side (BENCH_ARGS=--quick for a short run)
bench: $(STAMP)
	$(BIN)/python -m bench.cpu_per_request $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

## openapi: regenerate contracts/openapi.yaml from the code
openapi: $(STAMP)
	$(BIN)/epolicy openapi --output contracts/openapi.yaml

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
