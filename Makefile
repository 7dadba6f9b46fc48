# Two commands for a newcomer: `make demo` and `make test`. Each creates or refreshes .venv first.
# Another Python (3.11-3.13) in its own venv: make test PYTHON=python3.12 VENV=.venv-3.12
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
# The tested versions of every dependency and tool (pyproject.toml has ranges).
LOCK := constraints.txt
# What ruff lints and formats (the notebooks are left out: see [tool.ruff] in pyproject.toml).
LINTED := imagesearch tests bench scripts

.PHONY: venv demo lint format test test-pascal test-notebooks test-notebooks-threads bench bench-scale app screenshot workshop-kit notebooks learner-notebooks clean
NBVAL := --nbval-current-env -p no:cacheprovider

venv: $(STAMP)

$(STAMP): pyproject.toml $(LOCK) requirements-assets.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -c $(LOCK) -e '.[dev,scale]'
	$(PIP) install --no-deps -c $(LOCK) -r requirements-assets.txt
	touch $(STAMP)

demo: venv
	$(BIN)/python -m imagesearch demo

# The linter and the formatter's check; `make format` applies both.
lint: venv
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/lint-imports  # the import contracts in .importlinter: layers, query side apart from build side

format: venv
	$(BIN)/ruff check --fix $(LINTED)
	$(BIN)/ruff format $(LINTED)

# Lint, unit and behaviour tests (a wheel install included), then every notebook run top to
# bottom on the embedded data set.
test: lint
	$(BIN)/python -m pytest -m "not pascal" $(PYTEST_ARGS)
	IMAGESEARCH_DATASET=embedded $(BIN)/python -m pytest --nbval-lax $(NBVAL) notebooks/0*.ipynb

# Needs the Pascal Sentences mirror or internet: IMAGESEARCH_PASCAL_SOURCE=URL_OR_DIR.
test-pascal: venv
	$(BIN)/python -m pytest -m pascal $(PYTEST_ARGS)

# The notebooks on Pascal Sentences, outputs compared with the committed ones.
test-notebooks: venv
	$(BIN)/python -m pytest --nbval $(NBVAL) --nbval-sanitize-with notebooks/sanitize.cfg notebooks/0*.ipynb

# The same comparison on another machine's settings: one thread everywhere, TensorFlow's oneDNN
# off, and every index and model built again from the cached image features (the committed
# outputs were made with 2 threads and oneDNN on). Run after test-notebooks (it reuses its cache).
VARIANT_HOME := $(CURDIR)/.cache/variant-home
SOURCE_HOME = $${IMAGESEARCH_HOME:-$$HOME/.cache/imagesearch}
test-notebooks-threads: venv
	rm -rf $(VARIANT_HOME) && mkdir -p $(VARIANT_HOME)
	cp -a $(SOURCE_HOME)/features $(SOURCE_HOME)/datasets $(SOURCE_HOME)/vectors $(VARIANT_HOME)/
	IMAGESEARCH_HOME=$(VARIANT_HOME) OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	  TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 TF_ENABLE_ONEDNN_OPTS=0 \
	  $(BIN)/python -m pytest --nbval $(NBVAL) --nbval-sanitize-with notebooks/sanitize.cfg notebooks/0*.ipynb

# Re-run the notebooks on Pascal and store their outputs (what test-notebooks compares with).
notebooks: venv
	cd notebooks && for nb in 0*.ipynb; do ../$(BIN)/jupyter nbconvert --to notebook --execute --inplace $$nb || exit 1; done
	$(BIN)/python scripts/learner_notebooks.py

# The learners' copies (notebooks/learner/): no solution code or output, exercise outputs
# cleared; the full series' solutions collapsed (code and output).
learner-notebooks: venv
	$(BIN)/python scripts/learner_notebooks.py

# Every figure in the README (Pascal Sentences: set IMAGESEARCH_PASCAL_SOURCE or have internet).
bench: venv
	$(BIN)/python -m bench.foundation
	$(BIN)/python -m bench.language
	$(BIN)/python -m bench.steering
	$(BIN)/python -m bench.notebooks

# ANN backends on 1M x 512 vectors (issue 10), tuned toward recall@10 >= 0.95 at <= 5 ms: the
# synthetic set, then the realistic one (Pascal features + noise; needs the Pascal feature cache).
# CPU-heavy (over an hour on 2 cores), not in CI. `--n 100000` (the defaults) is the quick check.
SCALE_1M := annoy:trees=100,search_k=10000/50000 \
  usearch-f16:M=32,efc=128,ef=64/128/256/512 usearch-i8:M=32,efc=128,ef=128/256/512,rerank=100 \
  hnswlib:M=32,efc=128,ef=64/128/256/512 faiss-ivf:nlist=4096,nprobe=32/64/128
bench-scale: venv
	$(PIP) install -c $(LOCK) -e '.[bench]'
	$(BIN)/python -m bench.scale --n 1000000 --backends $(SCALE_1M)
	$(BIN)/python -m bench.scale --n 1000000 --source pascal --backends $(SCALE_1M)

# The live search box alone as a page (Voila serves app/search_box.ipynb, not the tutorial):
# open http://localhost:8866. `make app INDEX=DIR` searches the index folder DIR (the same as
# `python -m imagesearch app DIR`); without INDEX, the data set, model and vectors come from IMAGESEARCH_*.
app: venv
	$(if $(INDEX),$(BIN)/python -m imagesearch app $(INDEX) --port 8866,$(BIN)/voila app/search_box.ipynb --port=8866 --no-browser)

# The picture of the box in use that notebook 07 shows where widgets do not render (GitHub):
# the app on Pascal, driven by headless Chromium (needs chromium and the Pascal index cache).
screenshot: venv
	$(BIN)/python -m scripts.app_browser --out docs/images/search-box.png

# One folder for a USB stick (rooms without internet): every wheel for this platform, the
# offline assets, the Pascal photos and a prebuilt index cache; see workshop-kit/INSTALL.md.
# Downloads about 1 GB of wheels; not in CI (tests/test_workshop_kit.py checks a small kit).
# For a room of other machines: make workshop-kit PLATFORM=macos-arm64 PYTHON_VERSION=3.12
# (linux-x86_64, linux-aarch64, macos-arm64, windows-amd64; wheels only). KIT_ARGS=--no-data
# leaves out the photos and the cache.
KIT_PLATFORM = $(if $(PLATFORM),--platform $(PLATFORM) --python-version $(or $(PYTHON_VERSION),3.12))
workshop-kit: venv
	rm -rf workshop-kit
	$(BIN)/python -m scripts.workshop_kit build --out workshop-kit $(KIT_PLATFORM) $(KIT_ARGS)

clean:
	rm -rf $(VENV) results .cache
