# Two commands for a newcomer: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# lxml and xmlsec must come as wheels: a source build links another libxml2 and import fails.
SOURCES := gateway pki as4 smp_client eidas_node oots preview_space conformance tests bench
PIP_INSTALL := $(BIN)/pip install --quiet --only-binary lxml,xmlsec

.PHONY: run serve screenshots test bench install install-dev lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The whole cross-border journey on one machine: the Latvian node, a partner member-state node, the simulators
# and a demo portal (SQLite and keys under ./data/demo, created on first start). `make serve`: one node only.
run: install
	$(BIN)/gateway-node demo

serve: install
	$(BIN)/gateway-node --config config/dev.toml serve

# The README's demo screenshots, from the journey tests in headless Chromium (docs/screenshots/*.png).
screenshots: install-dev
	DEMO_SCREENSHOTS=1 $(BIN)/python -m pytest tests/demo/test_demo_journey.py -q

# The whole suite. PostgreSQL tests use 127.0.0.1:5432 (GATEWAY_TEST_PG_URL to change); under CI=true
# they must run, locally they are skipped with a message when the server is unreachable.
test: install-dev
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install-dev
	$(BIN)/python bench/run_all.py

lint: install-dev
	$(BIN)/ruff check $(SOURCES)

clean:
	rm -rf $(VENV) data .pytest_cache
