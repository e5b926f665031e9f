# Two entry points for a fresh machine with only Python and pip:
#   make demo   set up .venv and run the full segmentation on generated data
#   make test   set up .venv and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
OUT    ?= out

.PHONY: demo test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,notebooks]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/payseg demo --out $(OUT)

test: $(BIN)/.installed
	$(BIN)/ruff check payseg tests benchmarks examples
	$(BIN)/ruff format --check payseg tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site
	$(BIN)/python -m pytest -n 2

lint: $(BIN)/.installed
	$(BIN)/ruff check payseg tests benchmarks examples
	$(BIN)/ruff format --check payseg tests benchmarks examples
	$(BIN)/mypy

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
