# Two entry points: `make demo` (set up, archive the bundled sample site) and `make test`.
# `make demo` installs newsvault alone (`pip install .`); `make test` adds the [test] extra.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint schema bench-quality bench-speed clean

$(BIN)/newsvault: pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e .
	touch $@

$(VENV)/.test-extras: $(BIN)/newsvault
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $@

setup: $(BIN)/newsvault

demo: setup
	$(BIN)/newsvault demo

test: $(VENV)/.test-extras
	$(BIN)/python -m pytest

lint: $(VENV)/.test-extras
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	$(BIN)/ruff check common crawler pipeline storage newsvault tests bench
	$(BIN)/mypy

# docs/config.schema.json, from the config model (tests/test_config_schema.py checks it is current)
schema: setup
	$(BIN)/python -c "import json; from common.config import config_schema; \
	print(json.dumps(config_schema(), indent=2, ensure_ascii=False))" > docs/config.schema.json

bench-quality: $(VENV)/.test-extras
	$(BIN)/python bench/quality.py

bench-speed: $(VENV)/.test-extras
	$(BIN)/python bench/throughput.py --articles 2000

clean:
	rm -rf $(VENV) *.egg-info newsvault-demo.db*
