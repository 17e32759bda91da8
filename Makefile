# The README's two commands, and a few more, as a thin layer over the workflow (workflow/Snakefile):
# Make sets up the environment from the lock file and hands the rest to Snakemake, which reruns
# exactly what changed and keeps every variant (profile, seed, data, parameters) in its own folder.
#
#   make book                  paper scale (256 px, 2,000 batches of 4), data ../shared/data/landscapes
#   make book PROFILE=smoke    tiny and fast, what the tests build
#   make book DATA=~/photos    any folder of photos
#   make book SEED=1 PM_ARGS="-p lr 0.0005"   another seed, any setting of colorlib train (colorlib/spec.py)
#   make book CORES=1          one job at a time (the numbers are the same: each run has THREADS threads)
#   make book CLUSTER=slurm    every training run as a SLURM job (workflow/profiles/slurm)
#   make beyond                the "Beyond the paper" study (seeds, fitted weights, a/b axis sets, L1)
#   make archive               pack the book built last (models, pages, hashes) into build/<variant>.tar
#   make book FROM=file.tar    rebuild the book from such a file, without training
#   make verify MODEL=blue     retrain one model of the book built last: bit-identical, or how far off?
#   make check                 did the book built last reproduce the paper and the reference builds?
#   make serve                 serve the built book on 127.0.0.1 (the explorer colorizes your photo there)
#   make explorer              the explorer as an app (Voilà) on the models of the book built last
#   make lab                   JupyterLab on the notebooks filled in for that variant
#   make test                  install and run the whole test suite (both tiers; what CI runs)
#   make test-fast             the fast tier only: unit tests on small real data, minutes (after every change)
#   make bench                 speed benchmarks (reference loop vs colorlib), on an idle machine
#   make lock                  refresh requirements.lock from pyproject.toml (package-lock.json: npm install)

# Make's own settings; every other variable named on the command line is a setting of the workflow
# (`make book SEED=1` is `--config seed=1`), listed once with its default in colorlib/workflow/plan.py
# (SETTINGS): PROFILE SEED DATA PM_ARGS THREADS GPUS BUILD CACHE BEYOND_* ... A misspelt one is refused there.
MAKE_OWN := CORES CLUSTER SNAKE_ARGS PYTHON VENV VARIANT JUPYTER_ARGS FROM OUT FORCE MODEL PORT
BUILD ?= build
CACHE ?= .colorlib-cache
CORES ?= all
CLUSTER ?=
SNAKE_ARGS ?=
PYTHON ?= python3
VENV ?= .venv
BIN = $(call quoted,$(VENV)/bin)

TYPED := $(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),$(v)))
GIVEN := $(filter-out $(MAKE_OWN),$(TYPED))
# A value typed on the command line is text, never expanded by make: each becomes a simple variable holding
# its own text before anything reads it (make would otherwise expand a `$(shell ...)` in PM_ARGS or DATA, say
# from a command copied out of a stranger's archive, where a recipe names it and when it exports it to every
# recipe's environment), and every recipe quotes it for the shell (a list of arguments word by word).
$(foreach v,$(TYPED),$(eval override $(v) := $$(value $(v))))
lower = $(subst A,a,$(subst B,b,$(subst C,c,$(subst D,d,$(subst E,e,$(subst F,f,$(subst G,g,$(subst H,h,$(subst \
  I,i,$(subst J,j,$(subst K,k,$(subst L,l,$(subst M,m,$(subst N,n,$(subst O,o,$(subst P,p,$(subst Q,q,$(subst \
  R,r,$(subst S,s,$(subst T,t,$(subst U,u,$(subst V,v,$(subst W,w,$(subst X,x,$(subst Y,y,$(subst \
  Z,z,$(1)))))))))))))))))))))))))))
quoted = '$(subst ','"'"',$(1))'
each_quoted = $(foreach a,$(1),$(call quoted,$(a)))
CONFIG = $(foreach v,$(GIVEN),$(call quoted,$(call lower,$(v))=$(value $(v))))
SNAKEMAKE = PATH=$(call quoted,$(abspath $(VENV)/bin)):"$$PATH" $(BIN)/snakemake -s workflow/Snakefile \
  --cores $(call quoted,$(CORES)) --rerun-incomplete --show-failed-logs \
  $(if $(CLUSTER),--profile $(call quoted,workflow/profiles/$(CLUSTER))) $(call each_quoted,$(SNAKE_ARGS)) \
  $(1) $(if $(strip $(GIVEN) $(2)),--config $(CONFIG) $(2))

.PHONY: book pipeline beyond archive verify check explorer lab serve web test test-fast venv lock browser bench clean clean-all help

help:
	@sed -n '1,22p' Makefile

# FROM=archive: restore the archive's variant (every sha256 checked, nothing overwritten) and build the
# book from it without training; the settings given must name that variant (checked before restoring).
book: $(VENV)/.installed web
	$(if $(value FROM),name=$$($(BIN)/colorlib archive restore $(call quoted,$(value FROM)) \
	  $(call quoted,$(BUILD)) --config $(CONFIG)) && \
	  $(call SNAKEMAKE,book,restored=$$name),$(call SNAKEMAKE,book))
	@echo "book: open _build/html/index.html (variant $$(readlink $(call quoted,$(BUILD)/latest)))"

pipeline: $(VENV)/.installed
	$(call SNAKEMAKE,pipeline)

# One call: study=on makes the beyond page depend on the study's runs (make book shows it once trained).
beyond: $(VENV)/.installed web
	$(call SNAKEMAKE,book,study=on)

# --- Jupyter on a built variant: build/latest (the book built last) unless VARIANT=build/<name> ---------
# `colorlib notebooks` writes the notebooks filled in for the variant into VARIANT/jupyter (or says what to
# build first); Jupyter runs each in that folder. JUPYTER_ARGS go to the server (e.g. --port=8888 --no-browser).
VARIANT ?= $(BUILD)/latest
JUPYTER_ARGS ?=
# JupyterLab refuses to run as root (CI, containers) unless told to
AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
explorer: $(VENV)/.installed
	@$(BIN)/colorlib notebooks $(call quoted,$(VARIANT)) >/dev/null
	cd $(call quoted,$(VARIANT))/jupyter && $(call quoted,$(abspath $(VENV)/bin))/voila explorer.ipynb \
	  $(call each_quoted,$(JUPYTER_ARGS))

# A built variant (VARIANT, build/latest by default) packed into one file, OUT (build/<variant>.tar by default):
# its manifest, checkpoints, logs and executed pages with a sha256 each; `make book FROM=that-file` rebuilds from it.
# An existing OUT is kept unless FORCE=1.
archive: $(VENV)/.installed
	@$(BIN)/colorlib archive pack $(if $(FORCE),--force) $(call quoted,$(VARIANT)) \
	  $(if $(value OUT),$(call quoted,$(value OUT)),$(call quoted,$(BUILD))/$$(basename $$(readlink -f $(call quoted,$(VARIANT)))).tar)

# Retrain one model (MODEL=blue) of VARIANT from scratch, beside it, and say whether it is the published one:
# bit-identical, or how far its validation MSE lies, in units of the measured band.
MODEL ?= blue
verify: $(VENV)/.installed
	@$(BIN)/colorlib verify $(call quoted,$(VARIANT)) $(call quoted,$(value MODEL))

# The reproduction check (colorlib.paper.reproduction) of VARIANT against colorlib/paper/reference_results.toml;
# the book shows the same on its front page and its page "Did it reproduce?".
check: $(VENV)/.installed
	@$(BIN)/colorlib check $(call quoted,$(VARIANT))

lab: $(VENV)/.installed
	@$(BIN)/colorlib notebooks $(call quoted,$(VARIANT)) >/dev/null
	cd $(call quoted,$(VARIANT))/jupyter && $(call quoted,$(abspath $(VENV)/bin))/jupyter-lab explorer.ipynb $(AS_ROOT) \
	  $(call each_quoted,$(JUPYTER_ARGS))

# --- environment: exact versions from the lock, then this package --------------------------------
venv: $(VENV)/.installed
$(VENV)/.installed: requirements.lock pyproject.toml
	@free=$$(df -Pk . | awk 'NR==2 {print int($$4 / 1048576)}'); \
	  if [ "$$free" -lt 7 ] && [ ! -d $(call quoted,$(VENV)/lib) ]; then \
	    echo "warning: $$free GB free here; the environment needs about 6 GB (torch's build with CUDA libraries) plus the builds' outputs" >&2; fi
	test -x $(BIN)/python || $(call quoted,$(PYTHON)) -m venv $(call quoted,$(VENV))
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(call quoted,$@)

lock:
	bash tools/lock.sh

# --- the book's browser runtime (onnxruntime-web and MathJax, pinned by package-lock.json) ------------
# Node.js and npm are build dependencies of those parts: without them the book still builds, the explorer
# page says that colorizing your own photo needs them, and formulas show as TeX. --ignore-scripts: nothing
# of the packages runs here.
web:
	@if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then :; \
	elif command -v npm >/dev/null; then npm ci --ignore-scripts --no-audit --no-fund --loglevel=error; \
	else echo "warning: npm not found: the book builds without the in-page colorizer, formulas as TeX (install Node.js 18+)" >&2; fi

# The built book over http on 127.0.0.1 (a page opened from file:// cannot load the explorer's models).
PORT ?= 8000
serve: $(VENV)/.installed
	@test -f _build/html/index.html || { echo "error: no built book in _build/html: run make book first" >&2; exit 2; }
	@echo serving the book at $(call quoted,http://127.0.0.1:$(PORT)/) \
	  "(explorer: "$(call quoted,http://127.0.0.1:$(PORT)/book/generated/explorer.html)"); Ctrl-C stops"
	$(BIN)/python -m http.server $(call quoted,$(PORT)) --bind 127.0.0.1 --directory _build/html

# Headless Chromium for the browser test (Debian packages; needs root, else the test is skipped).
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null) || echo "could not install chromium: the browser test will be skipped"; \
	  else echo "chromium not installed: the browser test will be skipped"; fi; fi

# Two tiers (tests/conftest.py): `make test-fast` for the unit tests a developer runs after every change; `make test`
# adds the slow tier (smoke books, notebooks, the workflow's re-runs, SLURM, browsers) and is what CI runs.
test: $(VENV)/.installed browser web
	$(BIN)/python -m pytest

test-fast: $(VENV)/.installed web
	$(BIN)/python -m pytest -m "not slow"

# --- benchmarks (speed; never part of the tests) --------------------------------------------------
# on the variant named by PROFILE, SEED, DATA...: its manifest, and its baseline model where trained
bench: $(VENV)/.installed
	$(call SNAKEMAKE,bench)

clean:
	rm -rf _build book/generated

clean-all: clean
	rm -rf $(call quoted,$(BUILD)) $(call quoted,$(CACHE)) .snakemake
