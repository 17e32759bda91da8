# Beyond the paper (notebooks/beyond.ipynb, colorlib/study.py): every model over several seeds and
# baseline draws, measured vividness, blend weights fitted on calibration photos, sets biased along
# the a and b axes, and the study again under a second loss. Included at the end of the Makefile,
# whose variables it reuses (BIN, VENV, PAPERMILL, PAGES, OUT, CACHE, DATA, SEED, MODELS, ...).
#
#   make beyond                  train the study (128 px: CPU-sized), execute its page, rebuild the book
#   make -j2 beyond              two training runs at a time
#   make beyond PROFILE=smoke    the beyond-smoke profile: 64 px, 20 batches, tiny sets (for tests)
#   make beyond BEYOND_IMAGE_SIZE=256   at the paper's working size (meant for a GPU); the size
#                                       then sticks until another one is named
#   benchmarks/gpu_study.py      trains the study on a GPU machine and imports it here (see its docstring)
#   make beyond-train            only the training runs
#
# `make book` never trains the study: without it, the page says it was not built and how to build it.

BEYOND_PROFILE ?= $(if $(filter smoke,$(PROFILE)),beyond-smoke,beyond)
ifeq ($(BEYOND_PROFILE),beyond)
# Unless named, the size is the one the existing study was trained at (a study trained at 256 px on a
# GPU is not thrown away by a later plain `make book`), and 128 px for a new one.
BEYOND_RECORDED_SIZE := $(patsubst size=%,%,$(filter size=%,$(file <build/beyond/train-params.txt)))
BEYOND_IMAGE_SIZE ?= $(or $(BEYOND_RECORDED_SIZE),128)
BEYOND_ITERATIONS ?= 2000
BEYOND_PER_AXIS ?= 24
BEYOND_CALIBRATION ?= 32
else ifeq ($(BEYOND_PROFILE),beyond-smoke)
BEYOND_IMAGE_SIZE ?= 64
BEYOND_ITERATIONS ?= 20
BEYOND_PER_AXIS ?= 4
BEYOND_CALIBRATION ?= 4
else
$(error unknown BEYOND_PROFILE '$(BEYOND_PROFILE)': use beyond or beyond-smoke)
endif
BEYOND_BATCH_SIZE ?= 4
BEYOND_BASELINE ?= $(BASELINE)
BEYOND_SEEDS ?= 0 1 2
BEYOND_AXIS_SEEDS ?= 0
BEYOND_LOSS2 ?= l1
BEYOND_LOSS2_SEEDS ?= 0

BEYOND_OUT := build/$(BEYOND_PROFILE)
BEYOND_MANIFEST := $(BEYOND_OUT)/manifest.json
BEYOND_CKPT := $(BEYOND_OUT)/checkpoints
BEYOND_LOGS := $(BEYOND_OUT)/logs
BEYOND_AXIS_MODELS := a+ a- b+ b- ab
# Seeds whose baseline trains on its own draw (baseline-<s>), so the study manifest holds one draw each.
BEYOND_DRAW_SEEDS := $(sort $(BEYOND_SEEDS) $(if $(BEYOND_LOSS2),$(BEYOND_LOSS2_SEEDS)))
BEYOND_COMMAND := make beyond$(if $(filter smoke,$(PROFILE)), PROFILE=smoke)

# Parameter files change only when a parameter changes (as in the Makefile). The seeds are not in
# the training parameters: adding a seed adds runs, it does not invalidate the others.
$(shell mkdir -p $(BEYOND_OUT))
BEYOND_SPLIT_PARAMS := paper=$(OUT)/manifest.json calibration=$(BEYOND_CALIBRATION) baseline=$(BEYOND_BASELINE) draws=$(BEYOND_DRAW_SEEDS) per_axis=$(BEYOND_PER_AXIS) seed=$(SEED)
BEYOND_TRAIN_PARAMS := size=$(BEYOND_IMAGE_SIZE) iterations=$(BEYOND_ITERATIONS) batch=$(BEYOND_BATCH_SIZE)
ifneq ($(file <$(BEYOND_OUT)/split-params.txt),$(BEYOND_SPLIT_PARAMS))
$(file >$(BEYOND_OUT)/split-params.txt,$(BEYOND_SPLIT_PARAMS))
endif
ifneq ($(file <$(BEYOND_OUT)/train-params.txt),$(BEYOND_TRAIN_PARAMS))
$(file >$(BEYOND_OUT)/train-params.txt,$(BEYOND_TRAIN_PARAMS))
endif

# Every run as model:seed:loss, in the order of colorlib.study.study_runs.
BEYOND_RUNS := $(foreach s,$(BEYOND_SEEDS),$(foreach m,$(MODELS),$(m):$(s):mse)) \
  $(foreach s,$(BEYOND_AXIS_SEEDS),$(foreach m,$(BEYOND_AXIS_MODELS),$(m):$(s):mse)) \
  $(if $(BEYOND_LOSS2),$(foreach s,$(BEYOND_LOSS2_SEEDS),$(foreach m,$(MODELS),$(m):$(s):$(BEYOND_LOSS2))))
beyond_name = $(word 1,$(subst :, ,$(1)))-s$(word 2,$(subst :, ,$(1)))-$(word 3,$(subst :, ,$(1)))
BEYOND_LOG_FILES := $(foreach r,$(BEYOND_RUNS),$(BEYOND_LOGS)/$(call beyond_name,$(r)).txt)

.PHONY: beyond beyond-train beyond-manifest beyond-clean

beyond: $(BEYOND_OUT)/study.done
	$(MAKE) --no-print-directory book

beyond-train: $(BEYOND_OUT)/study.done
beyond-manifest: $(BEYOND_MANIFEST)

beyond-clean:
	rm -rf $(BEYOND_OUT) $(PAGES)/beyond.ipynb $(PAGES)/findings-beyond.md

# --- the study manifest: the paper's sets verbatim + calibration, baseline draws, axis sets -------
# order-only: the manifest counts as changed only when prepare really rewrote it
$(BEYOND_MANIFEST): | $(BEYOND_OUT)/.prepared ;
$(BEYOND_OUT)/.prepared: $(OUT)/manifest.json $(BEYOND_OUT)/split-params.txt $(DATA_CODE) colorlib/study.py | $(VENV)/.installed
	$(BIN)/python -m colorlib.study prepare $(DATA) --paper-manifest $(OUT)/manifest.json --out $(BEYOND_MANIFEST) \
	  --calibration $(BEYOND_CALIBRATION) --baseline $(BEYOND_BASELINE) --seeds "$(BEYOND_DRAW_SEEDS)" \
	  --per-axis $(BEYOND_PER_AXIS) --seed $(SEED) --cache $(CACHE) > $(BEYOND_OUT)/study-report.txt
	cat $(BEYOND_OUT)/study-report.txt
	touch $@

# --- one rule per training run; the target is the run's log, so an interrupted run keeps its ------
# checkpoint and resumes. A checkpoint older than the manifest or the training parameters belongs to
# another study and is removed first (train would refuse it).
# $(1) model, $(2) seed, $(3) loss, $(4) the manifest set it trains on
define BEYOND_RUN_RULE
$(BEYOND_LOGS)/$(1)-s$(2)-$(3).txt: $(BEYOND_MANIFEST) $(BEYOND_OUT)/train-params.txt $(TRAIN_CODE) | $(VENV)/.installed
	@mkdir -p $(BEYOND_LOGS) $(BEYOND_CKPT)
	@for f in $(BEYOND_MANIFEST) $(BEYOND_OUT)/train-params.txt; do \
	  if [ -f "$(BEYOND_CKPT)/$(1)-s$(2)-$(3).pt" ] && [ "$$$$f" -nt "$(BEYOND_CKPT)/$(1)-s$(2)-$(3).pt" ]; then \
	    echo "$(BEYOND_CKPT)/$(1)-s$(2)-$(3).pt is older than $$$$f: training it again"; \
	    rm -f "$(BEYOND_CKPT)/$(1)-s$(2)-$(3).pt"; fi; done
	$$(THREADS_PER_JOB) $(BIN)/colorlib -q train $(4) --manifest $(BEYOND_MANIFEST) --out $(BEYOND_CKPT)/$(1)-s$(2)-$(3).pt \
	  --seed $(2) --loss $(3) --image-size $(BEYOND_IMAGE_SIZE) --iterations $(BEYOND_ITERATIONS) \
	  --batch-size $(BEYOND_BATCH_SIZE) > $$@.tmp
	@mv $$@.tmp $$@
endef
beyond_set = $(if $(filter baseline,$(1)),$(if $(filter 0,$(2)),baseline,baseline-$(2)),$(1))
$(foreach r,$(BEYOND_RUNS),$(eval $(call BEYOND_RUN_RULE,$(word 1,$(subst :, ,$(r))),$(word 2,$(subst :, ,$(r))),$(word 3,$(subst :, ,$(r))),$(call beyond_set,$(word 1,$(subst :, ,$(r))),$(word 2,$(subst :, ,$(r)))))))

$(BEYOND_OUT)/study.done: $(BEYOND_LOG_FILES)
	printf '%s\n' $(notdir $(BEYOND_LOG_FILES:.txt=)) > $@

# --- the page: always built with the book; it depends on the study only once the study is done ----
$(PAGES)/beyond.ipynb: notebooks/beyond.ipynb $(ALL_CODE) $(wildcard $(BEYOND_OUT)/study.done) | $(VENV)/.installed
	$(PAPERMILL) notebooks/beyond.ipynb $@ -p study_dir $(BEYOND_OUT) -p paper_manifest $(OUT)/manifest.json \
	  -p generated_dir $(PAGES) -p image_size $(BEYOND_IMAGE_SIZE) -p seeds "$(BEYOND_SEEDS)" \
	  -p axis_seeds "$(BEYOND_AXIS_SEEDS)" -p second_loss "$(BEYOND_LOSS2)" -p second_loss_seeds "$(BEYOND_LOSS2_SEEDS)" \
	  -p profile $(BEYOND_PROFILE) -p build_command "$(BEYOND_COMMAND)"
	$(BIN)/python -m colorlib.study -q finalize $@

_build/html/index.html: $(PAGES)/beyond.ipynb
pipeline: $(PAGES)/beyond.ipynb
clean: beyond-clean-smoke
.PHONY: beyond-clean-smoke
beyond-clean-smoke:
	rm -rf build/beyond-smoke
