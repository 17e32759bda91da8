# The whole reproduction as one chain: photos -> manifest -> 6 trained models -> figures -> book.
# Make skips every step whose inputs (parameters, manifest, code) have not changed.
#
#   make book                  paper scale (256 px, 2,000 batches of 4), data ../shared/data/landscapes
#   make book PROFILE=smoke    tiny and fast, what the tests build
#   make book DATA=~/photos    any folder of photos
#   make book SEED=1 PM_ARGS="-p lr 0.0005"   override papermill parameters of the training runs
#   make test                  install and run the test suite
#   make bench                 speed benchmarks (reference loop vs colorlib), on an idle machine
#   make -j2 book              train two models at a time
#   make beyond                the "Beyond the paper" study (seeds, fitted weights, a/b axis sets, L1)

PROFILE ?= paper
SEED ?= 0
DATA ?= ../shared/data/landscapes
PM_ARGS ?=
JB_FLAGS ?= -W --keep-going
PYTHON ?= python3
VENV ?= .venv

ifeq ($(PROFILE),paper)
IMAGE_SIZE ?= 256
ITERATIONS ?= 2000
BATCH_SIZE ?= 4
PER_COLOUR ?= 24
BASELINE ?= 864
VALIDATION ?= 32
else ifeq ($(PROFILE),smoke)
IMAGE_SIZE ?= 64
ITERATIONS ?= 30
BATCH_SIZE ?= 4
PER_COLOUR ?= 4
BASELINE ?= 16
VALIDATION ?= 4
else
$(error unknown PROFILE '$(PROFILE)': use paper or smoke)
endif

BIN := $(VENV)/bin
OUT := build/$(PROFILE)
PAGES := $(OUT)/pages
MODELS := blue yellow green by bgy baseline
PAPERMILL := $(BIN)/papermill --cwd . --log-level WARNING --progress-bar --log-output
CACHE := .colorlib-cache

# Parameter files change only when a parameter changes, so Make reruns exactly what they feed.
$(shell mkdir -p $(PAGES) $(OUT)/checkpoints)
SPLIT_PARAMS := data=$(DATA) per_colour=$(PER_COLOUR) baseline=$(BASELINE) validation=$(VALIDATION) seed=$(SEED)
TRAIN_PARAMS := size=$(IMAGE_SIZE) iterations=$(ITERATIONS) batch=$(BATCH_SIZE) seed=$(SEED) pm=$(PM_ARGS)
ifneq ($(file <$(OUT)/split-params.txt),$(SPLIT_PARAMS))
$(file >$(OUT)/split-params.txt,$(SPLIT_PARAMS))
endif
ifneq ($(file <$(OUT)/train-params.txt),$(TRAIN_PARAMS))
$(file >$(OUT)/train-params.txt,$(TRAIN_PARAMS))
endif

# Training recipes split the CPUs between Make's jobs (make -j2 on 2 cores: one thread per run),
# since two runs of two threads each on two cores fight over them. OMP_NUM_THREADS, if set, wins.
THREADS_PER_JOB = jobs=$$(echo " $$MAKEFLAGS" | sed -n 's/.* -j\([0-9][0-9]*\).*/\1/p'); \
  t=$$(( $$(nproc 2>/dev/null || echo 1) / $${jobs:-1} )); [ "$$t" -ge 1 ] || t=1; \
  export OMP_NUM_THREADS=$${OMP_NUM_THREADS:-$$t};

DATA_CODE := colorlib/__init__.py colorlib/data.py colorlib/lab.py
TRAIN_CODE := $(DATA_CODE) colorlib/model.py colorlib/train.py
ALL_CODE := $(wildcard colorlib/*.py)
TRAIN_PAGES := $(MODELS:%=$(PAGES)/train-%.ipynb)
BOOK_PAGES := $(PAGES)/data.ipynb $(PAGES)/results.ipynb $(PAGES)/explorer.ipynb $(TRAIN_PAGES)
BOOK_SRC := _config.yml _toc.yml $(wildcard book/*.md) $(wildcard book/_static/*)

.DELETE_ON_ERROR:
.PHONY: book pipeline train test venv browser bench clean clean-all help

help:
	@sed -n '1,14p' Makefile

book: _build/html/index.html
	@echo "book: open _build/html/index.html (profile $(PROFILE))"

pipeline: $(BOOK_PAGES)
train: $(TRAIN_PAGES)

# --- environment --------------------------------------------------------------------------------
venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Headless Chromium for the browser test (Debian packages; needs root, else the test is skipped).
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null) || echo "could not install chromium: the browser test will be skipped"; \
	  else echo "chromium not installed: the browser test will be skipped"; fi; fi

# --- data -----------------------------------------------------------------------------------------
# order-only: the manifest counts as changed only when prepare really rewrote it
$(OUT)/manifest.json: | $(OUT)/.prepared ;
$(OUT)/.prepared: $(OUT)/split-params.txt $(DATA_CODE) | $(VENV)/.installed
	$(BIN)/colorlib prepare $(DATA) --out $(OUT)/manifest.json --per-colour $(PER_COLOUR) \
	  --baseline $(BASELINE) --validation $(VALIDATION) --seed $(SEED) --cache $(CACHE) > $(OUT)/data-report.txt
	cat $(OUT)/data-report.txt
	touch $@

# --- notebooks ------------------------------------------------------------------------------------
$(PAGES)/train-%.ipynb: notebooks/train.ipynb $(OUT)/manifest.json $(OUT)/train-params.txt $(TRAIN_CODE) colorlib/figures.py
	$(THREADS_PER_JOB) $(PAPERMILL) notebooks/train.ipynb $@ -p dataset $* -p manifest $(OUT)/manifest.json \
	  -p out_dir $(OUT)/checkpoints -p iterations $(ITERATIONS) -p batch_size $(BATCH_SIZE) \
	  -p image_size $(IMAGE_SIZE) -p seed $(SEED) $(PM_ARGS)

$(PAGES)/data.ipynb: notebooks/data.ipynb $(OUT)/manifest.json $(ALL_CODE)
	$(PAPERMILL) notebooks/data.ipynb $@ -p manifest $(OUT)/manifest.json

$(PAGES)/results.ipynb: notebooks/results.ipynb $(TRAIN_PAGES) $(ALL_CODE)
	$(PAPERMILL) notebooks/results.ipynb $@ -p manifest $(OUT)/manifest.json \
	  -p checkpoints $(OUT)/checkpoints -p generated_dir $(PAGES) -p profile $(PROFILE)

$(PAGES)/explorer.ipynb: notebooks/explorer.ipynb $(TRAIN_PAGES) $(ALL_CODE)
	$(PAPERMILL) notebooks/explorer.ipynb $@ -p manifest $(OUT)/manifest.json \
	  -p checkpoints $(OUT)/checkpoints -p static_dir $(PAGES)/explorer-data -p show_widget False

# --- the book -------------------------------------------------------------------------------------
# Executed pages are copied (mtimes kept) into book/generated, which _toc.yml points at.
# Sphinx does not recopy changed static files when no page changed: start afresh then.
_build/html/index.html: $(BOOK_PAGES) $(BOOK_SRC)
	rm -rf book/generated && mkdir -p book/generated && cp -pr $(PAGES)/. book/generated/
	$(if $(filter book/_static/% _config.yml,$?),rm -rf _build/html _build/.doctrees)
	$(BIN)/jupyter-book build . --path-output . $(JB_FLAGS)
	touch $@

# --- tests ----------------------------------------------------------------------------------------
test: $(VENV)/.installed browser
	$(BIN)/python -m pytest

# --- benchmarks (speed; never part of the tests) --------------------------------------------------
bench: $(OUT)/manifest.json | $(VENV)/.installed
	$(BIN)/python benchmarks/bench_train.py --manifest $(OUT)/manifest.json --image-size $(IMAGE_SIZE) \
	  --json $(OUT)/bench_train.json
	$(BIN)/python benchmarks/bench_colorize.py --manifest $(OUT)/manifest.json --json $(OUT)/bench_colorize.json \
	  $(if $(wildcard $(OUT)/checkpoints/baseline.pt),--checkpoint $(OUT)/checkpoints/baseline.pt)

clean:
	rm -rf _build book/generated build/smoke

clean-all: clean
	rm -rf build $(CACHE)

# The "Beyond the paper" study and its page.
include beyond.mk
