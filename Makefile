# The two commands a newcomer needs: `make book` and `make test`.
# Each creates .venv on first use and installs the pinned environment.

PYTHON ?= python3
# The interpreter .venv is made with, by path and version: when PYTHON names
# another one, .venv is rebuilt rather than silently kept.
PY_ID := $(shell $(PYTHON) -c 'import sys; print(sys.executable, "%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip --disable-pip-version-check

# The deterministic environment: TensorFlow quiet and on its reference
# kernels (oneDNN off), a fixed hash seed. Chapters are executed and
# validated with these.
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
export PYTHONHASHSEED := 0
# One thread per process: the tests run in two processes (one per core), and
# two multi-threaded BLAS or TensorFlow pools on two cores would fight.
# The chapters are executed with the same settings they are checked with.
THREADS := OMP_NUM_THREADS OPENBLAS_NUM_THREADS MKL_NUM_THREADS TF_NUM_INTRAOP_THREADS TF_NUM_INTEROP_THREADS
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export TF_NUM_INTRAOP_THREADS := 1
export TF_NUM_INTEROP_THREADS := 1

.PHONY: setup check-python book test check-portable notebooks lab bench pdf check-binder check-standalone experiments lock clean distclean

setup: check-python $(STAMP)

## check-python: refuse an unsupported interpreter up front; rebuild .venv if PYTHON changed
check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)' 2>/dev/null || { \
	  echo "relunet-book needs Python 3.11, 3.12 or 3.13; PYTHON=$(PYTHON) is $$($(PYTHON) --version 2>&1 || echo 'not found'). Try: make PYTHON=python3.11 $(MAKECMDGOALS)"; \
	  exit 1; }
	@if [ -f $(VENV)/.python ] && [ "$$(cat $(VENV)/.python)" != "$(PY_ID)" ]; then \
	  echo "PYTHON changed: .venv was made with $$(cat $(VENV)/.python), now $(PY_ID); rebuilding .venv"; \
	  rm -rf $(VENV); fi

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "$(PY_ID)" > $(VENV)/.python
	$(PIP) install --quiet -c constraints.txt pip
	$(PIP) install --quiet -c constraints.txt -e ".[book,test,lab]"
	@touch $@

## book: build the HTML book into _build/html from the stored outputs
book: setup
	$(BIN)/jupyter-book build . -W -n --keep-going

## test: unit, property and TensorFlow tests, strict nbval, book build, hygiene,
## in two processes (a notebook's cells stay together in one). Pass pytest
## arguments with ARGS, e.g. make test ARGS="chapters/05_linear_regions.ipynb"
test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile $(ARGS)

## check-portable: strict nbval of every chapter under three perturbations that
## change the last bits as another CPU would: TensorFlow's oneDNN kernels on,
## OpenBLAS on its Sandybridge kernel, two threads (about 7 minutes); run it
## before every change to a chapter
check-portable: setup
	$(BIN)/python scripts/check_portable.py

## notebooks: re-execute every chapter in place, in a fresh kernel
notebooks: setup
	$(BIN)/python scripts/execute_notebooks.py

## bench: time relunet.jacobian against TensorFlow (graph, XLA) and JAX
## (jacrev, jacfwd), measured references and a rate model; then the
## differential training step (one thread each) and rn.hessian / rn.hvp
## against the same frameworks, each in a process of its own; writes
## src/relunet/_data/benchmark.json and bench/results.md (bench/README.md)
bench: setup
	env $(addprefix -u ,TF_ENABLE_ONEDNN_OPTS $(THREADS)) $(BIN)/python bench/run.py

## experiments: Huge and Savine's experiments at their settings, the candidate
## defaults of train_twin and delta hedging with learned deltas, five
## repetitions each in two processes (about 15 minutes); writes
## src/relunet/_data/experiments.json, which chapters 10 and 11 read
experiments: setup
	$(BIN)/python experiments/run.py

## pdf: the PDF edition, _build/pdf/relunet-book.pdf: the single-page HTML
## printed by Chromium with pdf/print.css, a contents with page numbers and
## bookmarks (needs Debian's chromium, or CHROMIUM=/path/to/chrome; says what
## is missing); make book afterwards publishes it beside the HTML
pdf: setup
	$(BIN)/python scripts/make_pdf.py

## check-binder, check-standalone: run every chapter as Binder would (only
## binder/'s files installed) and as Colab or a downloaded notebook would (each
## chapter alone, relunet installed by its set-up cell); a few minutes each
check-binder: setup
	$(BIN)/python scripts/check_launch.py binder

check-standalone: setup
	$(BIN)/python scripts/check_launch.py standalone

## lab: open the chapters in JupyterLab with MyST rendered (jupyterlab-myst,
## installed by the set-up like everything else), relunet importable (as root too:
## containers, WSL); Jupyter prints the address to open
lab: setup
	$(BIN)/jupyter lab chapters --no-browser $(if $(filter 0,$(shell id -u)),--allow-root)

## lock: re-resolve the newest allowed versions and rewrite constraints.txt
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e ".[book,test,lab]"
	{ echo "# Exact versions for the book and its tests (Linux x86_64; Python 3.11, 3.12, 3.13)."; \
	  echo "# Regenerate with 'make lock'; pyproject.toml holds the loose ranges."; \
	  .lock-venv/bin/python -m pip freeze --all --exclude-editable | grep -vE "^(setuptools|wheel)=="; } > constraints.txt
	rm -rf .lock-venv

## clean: remove the built book; distclean: also the virtual environment
clean:
	rm -rf _build

distclean: clean
	rm -rf $(VENV) .lock-venv
