# Two commands: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench sandbox clean

$(STAMP): pyproject.toml package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# Test-only: the GraphQL over HTTP audit suite (Node); its test is skipped without it.
	if command -v npm >/dev/null; then npm ci --no-audit --no-fund; fi
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/unefois run

test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench.fanout

sandbox: $(STAMP)
	$(BIN)/unefois sandbox

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
