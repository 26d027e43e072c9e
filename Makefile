# posebrowser — two commands do all set-up on a fresh machine:
#   make run    create .venv if needed, install, launch the app on the built-in gallery
#   make test   same set-up, then lint, type-check, import contracts and the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export OMP_NUM_THREADS ?= 2

.PHONY: run test lint test-only models gallery bench fuzz-full package clean-venv

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m posebrowser

lint: $(STAMP)
	$(VENV)/bin/ruff check posebrowser tests benchmarks tools
	$(VENV)/bin/mypy posebrowser
	$(VENV)/bin/lint-imports

test-only: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest -q -m "not slow"

test: lint test-only

# Reproduce the shipped models from the built-in gallery (uses CUDA when present).
models: $(STAMP)
	$(PY) -m posebrowser train all --gallery resources/gallery --out models --device auto --seed 0

# Regenerate the built-in gallery with the project's own generator (fixed seed).
gallery: $(STAMP)
	$(PY) -m posebrowser synth --count 5000 --seed 2018 --out resources/gallery

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b --quick || exit 1; done

clean-venv:
	rm -rf $(VENV)
