# The compendium's two commands (see README.md):
#   make reproduce   run every numbered notebook on the embedded default (papermill)
#   make test        unit tests + nbval on the executed notebooks (what CI runs)
# Both set up .venv first (idempotent: skipped when pyproject/constraints are unchanged).
#
# Overrides for reproduce: NB="01 03" (notebook numbers), PROFILE=quick|default|paper,
# SEED=1, PARAMS="-p device cuda -p epochs 5", OUT=/some/dir (tables/figures go there).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.emolib-installed
WARM   := $(VENV)/.emolib-warm
NB ?=
PROFILE ?=
SEED ?=
PARAMS ?=
OUT ?=
# Where pip finds torch==2.13.0 (CPU build). Empty: the default index (this workplace keeps
# the CPU wheel on disk). On a stock Linux machine use the CPU wheel index, e.g.
#   make test TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=

# Same numbers on any x86-64 machine: pin the SIMD code paths to AVX2, so that a machine
# with AVX-512 takes the same float rounding as the reference machine (trained models, and
# hence the tables, would otherwise drift in the last bits and then visibly):
#   PyTorch's ATen kernels, oneDNN and MKL (ATEN_CPU_CAPABILITY, ONEDNN_MAX_CPU_ISA, MKL_CBWR);
#   NumPy/SciPy's BLAS, OpenBLAS (OPENBLAS_CORETYPE);
#   NumPy's own ufunc loops (NPY_DISABLE_CPU_FEATURES: its AVX-512 float32 log10/log2/log1p/
#   expm1/power and float64 log/exp round differently; the names are NumPy-2.4 specific,
#   and NumPy reads the variable once, when it is imported).
# The same values go into the Jupyter kernel spec below, and emolib.simd.PINNED_ENV lists
# them (tests/test_simd.py keeps the three in step; emolib warns, naming the variable, when
# a process runs unpinned on an AVX-512 machine). No effect without AVX-512 or on ARM.
export ATEN_CPU_CAPABILITY ?= avx2
export ONEDNN_MAX_CPU_ISA ?= AVX2
export MKL_CBWR ?= AVX2
export OPENBLAS_CORETYPE ?= Haswell
export NPY_DISABLE_CPU_FEATURES ?= X86_V4 AVX512_ICL AVX512_SPR
# OpenMP's wait policy (no effect on results: the same bits either way). make test runs two
# processes on the 2 cores, each with 2 PyTorch threads; there idle threads must sleep
# (OMP_WAIT_POLICY=PASSIVE), or their spinning starves the other process. A process alone
# (make reproduce runs one notebook at a time) is fastest with libgomp's default (spin a
# little, then sleep). Measured, a small-MLP training of 3000 steps: alone 6.8 s (default)
# vs 18.7 s (PASSIVE); two side by side 34.9 s each (default) vs 9.9 s (PASSIVE).
# TEST_OMP_WAIT_POLICY sets it for make test only.
TEST_OMP_WAIT_POLICY ?= PASSIVE
# Executed notebooks carry no progress bars (text bars would be stored as red stderr output);
# an interactive Jupyter session keeps them (emolib.progress).
export EMOLIB_PROGRESS ?= 0

.PHONY: setup warm reproduce test unit lint clean-cache help

help:
	@echo "make reproduce [NB='00 01'] [PROFILE=quick|default|paper] [SEED=n] [PARAMS='-p k v']"
	@echo "make test      # pytest unit tests + nbval on the committed notebooks"

setup: $(STAMP)

$(VPY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt requirements-nodeps.txt Makefile | $(VPY)
	$(VPY) -m pip install --quiet --upgrade "pip>=23"
	$(VPY) -m pip install --quiet --no-compile -c constraints.txt $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX) --extra-index-url https://pypi.org/simple) "torch==2.13.0" "setuptools<81" wheel
	@# Bytecode: pip compiles serially, one file after the other (≈ 90 s here); compileall uses
	@# both cores, torch's beside the next install. Files that do not compile (Python-2
	@# leftovers in some wheels) are skipped, as pip skips them.
	site="$$($(VPY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"; \
	  $(VPY) -m compileall -qq -j 0 "$$site/torch" & c=$$!; \
	  $(VPY) -m pip install --quiet --no-compile -c constraints.txt -e ".[all]" && \
	  $(VPY) -m pip install --quiet --no-compile --no-deps -c constraints.txt \
	    -r requirements-nodeps.txt; p=$$?; \
	  wait $$c; $(VPY) -m compileall -qq -j 0 "$$site"; test $$p -eq 0
	@if $(VPY) -m pip freeze | grep -iE '^(nvidia|tensorflow)'; then \
	  echo "ERROR: CUDA or TensorFlow packages were installed; torch must stay the CPU build 2.13.0" \
	    "and the musicnn checkpoints are read without TensorFlow" >&2; exit 1; fi
	$(VPY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (emolib)" \
	  --env ATEN_CPU_CAPABILITY avx2 --env ONEDNN_MAX_CPU_ISA AVX2 --env MKL_CBWR AVX2 \
	  --env OPENBLAS_CORETYPE Haswell --env NPY_DISABLE_CPU_FEATURES "X86_V4 AVX512_ICL AVX512_SPR" \
	  >/dev/null
	touch $(STAMP)

# numba's compile caches (librosa, umap): filled once, by the first command that needs them.
# make reproduce fills them first; make test fills them in its second process, beside the
# first notebooks (about 100 s of compiling kept off the critical path; scripts/warmup.py).
warm: $(WARM)

$(WARM): $(STAMP)
	$(VPY) scripts/warmup.py
	touch $(WARM)

reproduce: $(WARM)
	$(VPY) scripts/reproduce.py $(if $(NB),--nb $(NB)) $(if $(PROFILE),--profile $(PROFILE)) \
	  $(if $(SEED),--seed $(SEED)) $(if $(OUT),--out $(OUT)) $(PARAMS)

# make test: ruff, then two processes side by side, the notebooks shared between them so
# that both end at about the same time (a notebook alone leaves a core idle in its
# single-threaded parts; PyTorch work itself gains nothing from the other process):
#   * nbval re-executes the notebooks of NBVAL_MAIN with their tables and figures going to
#     TEST_OUT (never over the committed paper_tables/ and figures/); in the same session
#     tests/test_reexecuted_tables.py then compares the tables written there with the
#     committed ones (trained numbers within the tolerance stated in README.md, everything
#     else exactly);
#   * beside it: the numba warm-up, every other test (the unit tests, then the real-data
#     notebook runs of tests/test_realdata_notebooks.py: own miniature data root, cache and
#     output, all in temporary folders), then nbval on the notebooks of NBVAL_SIDE with the
#     same table checks. Its log is printed at the end.
# Either process failing fails the target. NBVAL_SIDE are notebooks that start after the
# unit tests, when the first process has long built the emotion world they read.
TEST_OUT ?= $(CURDIR)/notebooks/executed/test-output
LINTED := emolib tests scripts benchmarks notebooks
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
NBVAL_SIDE := notebooks/03_chowdhury2023.ipynb notebooks/04_zhu2023.ipynb
NBVAL_MAIN := $(filter-out $(NBVAL_SIDE),$(NOTEBOOKS))
NBVAL := --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=1800 \
  -p no:cacheprovider
CHECKS := tests/test_reexecuted_tables.py
# The real-data runs are marked after_notebooks (in a single session they must follow nbval),
# so -m "not after_notebooks" deselects them: the second process runs them explicitly, after
# the unit tests (tests/test_make_test.py checks that make test runs this module and every
# notebook once).
REALDATA := tests/test_realdata_notebooks.py

test: $(STAMP)
	$(VPY) -m ruff check $(LINTED)
	rm -rf "$(TEST_OUT)" && mkdir -p "$(TEST_OUT)"
	@export OMP_WAIT_POLICY=$(TEST_OMP_WAIT_POLICY); \
	( { test -f $(WARM) || { $(VPY) scripts/warmup.py && touch $(WARM); }; } \
	     > "$(TEST_OUT)/side.log" 2>&1; w=$$?; \
	   $(VPY) -m pytest tests -m "not after_notebooks" -p no:cacheprovider \
	     >> "$(TEST_OUT)/side.log" 2>&1; u=$$?; \
	   $(VPY) -m pytest $(REALDATA) -p no:cacheprovider >> "$(TEST_OUT)/side.log" 2>&1; r=$$?; \
	   EMOLIB_OUTPUT="$(TEST_OUT)" $(VPY) -m pytest $(NBVAL_SIDE) $(CHECKS) $(NBVAL) \
	     >> "$(TEST_OUT)/side.log" 2>&1; n=$$?; \
	   test $$w -eq 0 && test $$u -eq 0 && test $$r -eq 0 && test $$n -eq 0; \
	   echo $$? > "$(TEST_OUT)/side.rc" ) & \
	EMOLIB_OUTPUT="$(TEST_OUT)" $(VPY) -m pytest $(NBVAL_MAIN) $(CHECKS) $(NBVAL); \
	main=$$?; wait; \
	echo "== beside the notebooks above: warm-up, pytest tests, real-data runs, nbval $(NBVAL_SIDE) =="; \
	cat "$(TEST_OUT)/side.log"; \
	test $$main -eq 0 && test "$$(cat "$(TEST_OUT)/side.rc")" -eq 0

lint: $(STAMP)
	$(VPY) -m ruff check $(LINTED)

unit: $(STAMP)
	$(VPY) -m pytest tests -q

clean-cache: $(STAMP)
	rm -rf "$$($(VPY) -c 'from emolib.paths import cache_dir; print(cache_dir())')"
