"""Execute the chapters in place, each in a fresh kernel, in canonical form.

This is the one producer of the stored outputs (``make notebooks``). It
fixes the environment that makes outputs reproducible, runs every code cell
top to bottom (execution counts 1..N), strips volatile metadata and writes
nbformat's canonical JSON, so that running it twice leaves the files
byte-identical and nbval can compare a fresh run against them.

Usage: python scripts/execute_notebooks.py [NOTEBOOK ...]
(default: every chapters/*.ipynb)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent

#: The deterministic environment, also set by the Makefile for nbval.
ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "3",  # no TensorFlow C++ log lines on stderr
    "TF_ENABLE_ONEDNN_OPTS": "0",  # same kernels, same last bits, no oneDNN banner
    "PYTHONHASHSEED": "0",
    # One thread per process, as when the tests check the chapters two at a time.
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def canonicalize(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop metadata that changes from run to run or machine to machine."""
    nb.metadata = nbformat.from_dict(
        {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    )
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)
    return nb


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive outputs of one stream, as nbval does when comparing.

    How a cell's prints are split into stream outputs depends on timing;
    merged, the stored file does not.
    """
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.output_type == "stream"
            and previous is not None
            and previous.output_type == "stream"
            and previous.name == output.name
        ):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=900,
        startup_timeout=120,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    nbformat.validate(nb)
    nbformat.write(canonicalize(nb), path)


def main(argv: list[str]) -> int:
    os.environ.update(ENVIRONMENT)
    paths = [Path(p).resolve() for p in argv] or sorted(
        (ROOT / "chapters").glob("*.ipynb")
    )
    for path in paths:
        print(f"executing {path.relative_to(ROOT)}", flush=True)
        execute(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
