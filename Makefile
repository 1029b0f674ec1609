# The two commands of the README: `make demo` (grade the bundled examples) and `make test`.
# Each creates .venv if missing and installs the project into it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint pytest clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test,dask,similarity,serve]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/grader grade --assignment a1 --out build/demo assignments/a1/solution.py assignments/a1/examples/*.py

test: lint pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(PY) -m pytest

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
