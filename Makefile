# Two commands: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# System tools the tests run for real (Debian package names), installed by `make test`.
SYSTEM_PACKAGES := haproxy chromium
SYSTEM_STAMP    := $(VENV)/.system-tools

.PHONY: run test lint typecheck unit bench sandbox clean system-tools vendor-assets schema

$(STAMP): pyproject.toml package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# Test-only: the GraphQL over HTTP audit suite (Node); its test is skipped without it.
	if command -v npm >/dev/null; then npm ci --no-audit --no-fund; fi
	touch $(STAMP)

# Installs the missing $(SYSTEM_PACKAGES) with apt-get when run as root; otherwise says which
# are missing and stops. Checked again whenever this Makefile changes (e.g. the list).
$(SYSTEM_STAMP): Makefile
	@missing=""; \
	for pkg in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null | grep -q 'install ok installed' \
	    || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing system packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing \
	      || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; } \
	      || { echo "make: could not install the system packages:$$missing" >&2; exit 1; }; \
	  else \
	    echo "make: the tests need the Debian packages:$$missing; install them as root (apt-get install$$missing) and run make test again" >&2; \
	    exit 1; \
	  fi; \
	fi; \
	mkdir -p $(dir $@) && echo "$(SYSTEM_PACKAGES)" > $@

system-tools: $(SYSTEM_STAMP)

run: $(STAMP)
	$(BIN)/unefois run

test: $(STAMP) $(SYSTEM_STAMP) lint typecheck unit

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

# Rewrites schema.graphql, the published schema, from the code (a test fails when they differ).
schema: $(STAMP)
	$(BIN)/unefois schema print --output schema.graphql

# Copies the pages' assets (GraphiQL, React, the DSFR) from node_modules into the package, after
# a version change in package.json; the copies are committed, so neither run nor test needs it.
vendor-assets: $(STAMP)
	$(BIN)/python -m gateway.web.vendor

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
