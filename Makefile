# Two entry points: `make demo` (set up, archive the bundled sample site) and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint bench-quality bench-speed clean

$(BIN)/newsvault: pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $@

setup: $(BIN)/newsvault

demo: setup
	$(BIN)/newsvault demo

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	$(BIN)/ruff check common crawler pipeline storage newsvault tests bench
	$(BIN)/mypy

bench-quality: setup
	$(BIN)/python bench/quality.py

bench-speed: setup
	$(BIN)/python bench/throughput.py --articles 2000

clean:
	rm -rf $(VENV) *.egg-info newsvault-demo.db*
