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

.PHONY: setup book test notebooks lab lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -c constraints.txt pip
	$(PIP) install --quiet -c constraints.txt -e ".[book,test]"
	@touch $@

## book: build the HTML book into _build/html from the stored outputs
book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going

## test: unit, property and TensorFlow tests, strict nbval, book build, hygiene
test: $(STAMP)
	$(BIN)/python -m pytest

## notebooks: re-execute every chapter in place, in a fresh kernel
notebooks: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py

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
