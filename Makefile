# Two commands for a newcomer: `make demo` and `make test`. Each creates or refreshes .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: venv demo test test-pascal bench app notebooks clean

venv: $(STAMP)

$(STAMP): pyproject.toml requirements-assets.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -e '.[dev]'
	$(PIP) install --no-deps -r requirements-assets.txt
	touch $(STAMP)

demo: venv
	$(BIN)/python -m imagesearch demo

test: venv
	$(BIN)/python -m pytest -m "not pascal" $(PYTEST_ARGS)

# Needs the Pascal Sentences mirror or internet: IMAGESEARCH_PASCAL_SOURCE=URL_OR_DIR.
test-pascal: venv
	$(BIN)/python -m pytest -m pascal $(PYTEST_ARGS)

bench: venv
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) results .cache
