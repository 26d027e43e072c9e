# posebrowser — two commands do all set-up on a fresh machine:
#   make run    create .venv if needed, install, launch the app on the built-in gallery
#   make test   same set-up, then lint, type-check, import contracts and the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export OMP_NUM_THREADS ?= 2

.PHONY: run test lint test-only models train-data finetune-data gallery stress-sets evaluate-stress bench package trust trust-full clean-venv

$(STAMP): pyproject.toml packaging/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c packaging/constraints.txt -e '.[dev,train]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m posebrowser

lint: $(STAMP)
	$(VENV)/bin/ruff check posebrowser tests benchmarks tools
	$(VENV)/bin/mypy posebrowser
	$(VENV)/bin/lint-imports

test-only: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest -q -rs -m "not slow"

test: lint test-only

TRAIN_DATA := build/train-data
TRAIN_COUNT ?= 30000
EPOCHS ?= 8

# The training set: 30,000 images of the broad default distribution, seed 1 (not committed; ~30 min on
# 2 cores; resumes after an interruption).
train-data: $(STAMP)
	$(PY) -m posebrowser synth --count $(TRAIN_COUNT) --seed 1 --out $(TRAIN_DATA)

# The fine-tune set: 5,000 images, seed 21, camera elevation widened to -15…70° (~3.5 min; its ~3,100
# train images fine-tune the image net after the training set).
FINETUNE_DATA := build/finetune-data
finetune-data: $(STAMP)
	$(PY) -m posebrowser synth --count 5000 --seed 21 --elevation -15 70 --out $(FINETUNE_DATA)

# Reproduce the shipped models (10 % of the image net's and the keypoint net's training images grey, for
# black-and-white photos): train on the train split of the training set, fine-tune the image net on
# the fine-tune set's train split (3 epochs, heads probed first), train the posebit nets and masks on the
# training set, validate on the built-in gallery's val split, give the image net its mirrored second view
# (a map fitted on 2,000 train images), train the keypoint reader (a keypoint net from the image net's
# trunk that reads the landmarks and their depths, 6 epochs, + a lifter into the joints net's space,
# ~30 min), fit the fused image model (the CNN blended with
# the pose estimator + joints net and the keypoint reader, the map fitted on 2,000 train images), then
# embed the built-in gallery and evaluate (val queries → test database). Resumable: re-running continues an interrupted run (uses CUDA when present).
models: $(STAMP) train-data finetune-data
	$(PY) -m posebrowser train all --gallery $(TRAIN_DATA) --finetune-gallery $(FINETUNE_DATA) \
		--val-gallery resources/gallery --out models --device auto --seed 0 --epochs $(EPOCHS) --metric 3d \
		--aux-trunk-joints-3d 5 --mirror-view --grey-share 0.1 --resume
	$(PY) -m posebrowser train keypoints --gallery $(TRAIN_DATA) --finetune-gallery $(FINETUNE_DATA) \
		--out models --device auto --seed 0 --keypoint-depth --keypoint-epochs 6 --grey-share 0.1 --resume
	$(PY) -m posebrowser train fusion --gallery $(TRAIN_DATA) --out models --device auto --seed 0 \
		--fusion-readers joints_net=0.2 keypoint_reader=0.2
	$(PY) -m posebrowser embed --models models --cache-dir models/embeddings
	$(PY) -m posebrowser evaluate --models models --cache-dir models/embeddings --out models/evaluation

# Regenerate the built-in gallery with the project's own generator (fixed seed, broad defaults).
gallery: $(STAMP)
	$(PY) -m posebrowser synth --count 5000 --seed 2018 --out resources/gallery

# The named stress galleries (shifted distributions, seed 7, not committed; 5,000 images each like the
# built-in gallery, so the protocol has the same shape) and their evaluation.
STRESS := random-poses camera-shift body-shift
STRESS_COUNT := 5000
stress-sets: $(STAMP)
	for s in $(STRESS); do $(PY) -m posebrowser synth --count $(STRESS_COUNT) --seed 7 --stress $$s \
		--out build/stress/$$s || exit 1; done

evaluate-stress: stress-sets
	for s in $(STRESS); do $(PY) -m posebrowser evaluate --gallery build/stress/$$s --models models \
		--cache-dir build/stress-cache/$$s --out models/evaluation/stress/$$s --markdown || exit 1; done

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
