# The two commands a newcomer needs: `make book` and `make test`.
# Each creates .venv on first use and installs the pinned environment.

PYTHON ?= python3
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

.PHONY: setup book test notebooks lab bench lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -c constraints.txt pip
	$(PIP) install --quiet -c constraints.txt -e ".[book,test]"
	@touch $@

## book: build the HTML book into _build/html from the stored outputs
book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going

## test: unit, property and TensorFlow tests, strict nbval, book build, hygiene,
## in two processes (a notebook's cells stay together in one)
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

## notebooks: re-execute every chapter in place, in a fresh kernel
notebooks: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py

## bench: time relunet.jacobian against TensorFlow and two NumPy references
## (TensorFlow with its defaults, oneDNN on); writes bench/results.{json,md}
bench: $(STAMP)
	env $(addprefix -u ,TF_ENABLE_ONEDNN_OPTS $(THREADS)) $(BIN)/python bench/run.py

## lab: open the chapters in JupyterLab, relunet importable
lab: $(STAMP)
	$(PIP) install --quiet -c constraints.txt -e ".[lab]"
	$(BIN)/jupyter lab chapters

## lock: re-resolve the newest allowed versions and rewrite constraints.txt
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e ".[book,test,lab]"
	{ echo "# Exact versions for the book and its tests (Linux x86_64, Python 3.11)."; \
	  echo "# Regenerate with 'make lock'; pyproject.toml holds the loose ranges."; \
	  .lock-venv/bin/python -m pip freeze --all --exclude-editable | grep -vE "^(setuptools|wheel)=="; } > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf _build
