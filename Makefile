# posebrowser — two commands do all set-up on a fresh machine:
#   make run    create .venv if needed, install, launch the app on the built-in gallery
#   make test   same set-up, then lint, type-check, import contracts and the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export OMP_NUM_THREADS ?= 2

.PHONY: run test lint test-only models gallery bench package trust trust-full clean-venv

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
	$(PY) -m posebrowser train all --gallery resources/gallery --out models --device auto --seed 0 \
		--epochs 30 --metric hamming --miner batch-all --aux-posebits 10.0 --posebit-loss ranking  # = defaults
	$(PY) -m posebrowser embed --models models --cache-dir models/embeddings
	$(PY) -m posebrowser evaluate --models models --out models/evaluation

# Regenerate the built-in gallery with the project's own generator (fixed seed).
gallery: $(STAMP)
	$(PY) -m posebrowser synth --count 5000 --seed 2018 --out resources/gallery

# Every benchmark at its default size (tens of minutes on 2 cores); each prints ratios to a same-run baseline.
bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; QT_QPA_PLATFORM=offscreen $(PY) $$b || exit 1; done

# Build the PyInstaller folder app into dist/posebrowser and smoke-test it (offscreen start + a query).
package: $(STAMP)
	PY=$(PY) packaging/build.sh

# The trust suite at the size `make test` uses (under a minute on 2 cores).
trust: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest -q tests/trust

# Full-size fuzzing, kills and GUI soak, with the report (inputs, crashes, hangs, kills, corrupt files,
# soak actions, memory growth); exits non-zero when anything failed.
trust-full: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/trust_report.py --full

clean-venv:
	rm -rf $(VENV)
