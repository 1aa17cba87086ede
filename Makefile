# The two set-up commands: `make run` serves, `make test` tests. Both create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config/feedsvc.toml

.PHONY: run test demo lint typecheck bench check-config clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	mkdir -p data
	$(BIN)/feedsvc serve --config $(CONFIG)

test: $(VENV)/.installed-test
	./tests/peers/install.sh
	$(BIN)/pytest

demo: $(VENV)/.installed
	$(BIN)/feedsvc demo

check-config: $(VENV)/.installed
	$(BIN)/feedsvc check-config --config $(CONFIG)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check feedsvc tests bench
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

bench: $(VENV)/.installed-test
	./tests/peers/install.sh
	$(BIN)/python bench/bench_extract.py --pad 150
	$(BIN)/python bench/bench_match.py
	$(BIN)/python bench/bench_near.py
	$(BIN)/python bench/bench_store.py
	$(BIN)/python bench/serve.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
