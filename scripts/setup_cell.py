"""Write the set-up cell, the first code cell of every chapter.

In the book's own environment the cell does nothing. Opened alone (Colab,
Binder, a notebook downloaded from the book) it installs the book's package,
``relunet``, from the repository address set once in ``_config.yml``
(``repository.url`` and ``repository.branch``), or from the environment
variable ``RELUNET_BOOK_SOURCE`` (a local path or any pip requirement), and it
stands in for ``myst_nb.glue`` when myst-nb is missing.

Usage: python scripts/setup_cell.py   (then ``make notebooks``)
The hygiene tests check that every chapter starts with exactly this cell.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
MARKER = "# Set-up for running this chapter anywhere"


def package_source() -> str:
    """The pip requirement of the book's package at its repository (_config.yml)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repository = config["repository"]
    return f"git+{repository['url']}@{repository.get('branch', 'main')}"


def render() -> str:
    """The source of the set-up cell."""
    return f'''{MARKER}: in the book's environment it does nothing;
# alone (Colab, Binder, a downloaded notebook) it installs the book's package,
# relunet, from the book's repository, or from RELUNET_BOOK_SOURCE if set.
# The chapters also import NumPy, Matplotlib and TensorFlow (the appendix,
# JAX): Colab has them; elsewhere, pip install numpy matplotlib tensorflow.
# Outside the book, MyST markup ({{cite}}, {{eq}}, :::) shows as plain text.
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("relunet") is None:
    source = os.environ.get(
        "RELUNET_BOOK_SOURCE", "{package_source()}"
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", source], check=True
    )
    importlib.invalidate_caches()
try:
    from myst_nb import glue  # numbers quoted in the book's text
except ImportError:  # outside the book's build, glue has nothing to do

    def glue(name, value, display=True):
        if display:
            print(value)'''


#: The set-up cell is for running a chapter, not for reading it: the book's
#: pages and the PDF leave it out (Jupyter Book's ``remove-cell`` tag).
TAGS = ["remove-cell"]


def update(path: Path) -> bool:
    """Make the first code cell of ``path`` the set-up cell; True if it changed."""
    nb = nbformat.read(path, as_version=4)
    code = [k for k, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    cell = nbformat.v4.new_code_cell(render())
    if code and nb.cells[code[0]].source.startswith(MARKER):
        first = nb.cells[code[0]]
        if first.source == cell.source and first.metadata.get("tags") == TAGS:
            return False
        first.source = cell.source
        first.metadata["tags"] = list(TAGS)
    else:
        position = code[0] if code else len(nb.cells)
        cell["id"] = "setup"
        cell.metadata["tags"] = list(TAGS)
        nb.cells.insert(position, cell)
    nbformat.write(nb, path)
    return True


def main() -> int:
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        if update(path):
            print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
