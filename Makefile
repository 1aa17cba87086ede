# The two set-up commands: `make run` serves, `make test` tests. Both create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config/feedsvc.toml
IMAGE ?= feedsvc:latest
BASE_IMAGE := docker.io/library/python:3.11-slim-bookworm
# Builds BASE_IMAGE from Debian's packages (and installs podman) where no registry answers.
CONTAINER_BASE ?= ../shared/tools/container-base.sh
# chroot isolation works on hosts whose cgroup layout rejects the default runtime;
# docker format keeps the HEALTHCHECK, which the OCI image format has no field for.
PODMAN_BUILD ?= podman build --isolation chroot --network host --format docker

.PHONY: run test demo lint typecheck bench check-config image smoke clean

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

# The whole suite, then the tests that run feedsvc on the real clock once more with the
# clock 30 days ahead: nothing may depend on today's date.
test: $(VENV)/.installed-test
	./tests/peers/install.sh
	$(BIN)/pytest
	faketime -f +30d $(BIN)/pytest -m dates -p no:cacheprovider

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
	$(BIN)/python bench/bench_backends.py
	$(BIN)/python bench/serve.py
	$(BIN)/python bench/bursts.py
	$(BIN)/python bench/scale.py

# The base image is used when present, else pulled, else built by CONTAINER_BASE.
image:
	@if command -v podman >/dev/null && podman image exists $(BASE_IMAGE); then :; \
	elif command -v podman >/dev/null && timeout 120 podman pull -q $(BASE_IMAGE) >/dev/null 2>&1; then \
	  echo "make image: pulled $(BASE_IMAGE)"; \
	elif [ -f "$(CONTAINER_BASE)" ]; then \
	  echo "make image: no registry answers; building $(BASE_IMAGE) with $(CONTAINER_BASE)"; \
	  bash "$(CONTAINER_BASE)"; \
	elif ! command -v podman >/dev/null; then \
	  echo "make image: podman is not installed" >&2; exit 1; \
	else \
	  echo "make image: cannot pull $(BASE_IMAGE) and $(CONTAINER_BASE) is missing" >&2; exit 1; \
	fi
	$(PODMAN_BUILD) -t $(IMAGE) -f Containerfile .

# Builds the image, then runs the demo in it and checks feeds, user and SIGTERM.
smoke:
	$(PYTHON) tests/container/smoke.py --image $(IMAGE)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
