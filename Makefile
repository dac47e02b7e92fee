# Every target builds its own virtual environment: nothing depends on what is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run mocks test lint typecheck check clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: start the whole local stack (mocks and mock OAuth server on 127.0.0.1:$${EPOLICY_MOCKS_PORT:-8090})
run: $(STAMP)
	$(BIN)/python -m mocks --port $${EPOLICY_MOCKS_PORT:-8090}

## mocks: start only the mock back-ends and the mock OAuth server
mocks: $(STAMP)
	$(BIN)/python -m mocks --port $${EPOLICY_MOCKS_PORT:-8090}

## test: lint, type-check and run the whole test suite
test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
