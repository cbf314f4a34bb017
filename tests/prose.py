"""The prose of the book's pages, without its mathematics, code and roles.

Used by the numerals test (``tests/test_prose_numerals.py``): what is left
after :func:`prose` is what a reader reads as words and numbers typed by an
author, so every numeral in it must be a definition, a chapter number, a
quotation, ... never a result (results come from the computation, through
myst-nb's ``glue``).
"""

from __future__ import annotations

import re

import nbformat
from book_files import ROOT, toc_files

_REMOVE = [
    re.compile(r"^(`{3,}|~{3,}).*?^\1", re.M | re.S),  # fenced code blocks
    re.compile(r"\$\$.*?\$\$(\s*\([\w-]+\))?", re.S),  # display maths and its label
    re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S),  # amsmath environments
    re.compile(r"(?<!\\)\$[^$\n]+?(?<!\\)\$"),  # inline maths
    re.compile(
        r"\{[\w:-]+\}`[^`]*`"
    ),  # roles: {glue:text}`...`, {eq}`...`, {cite}`...`
    re.compile(r"``.*?``|`[^`\n]*`"),  # inline code
    re.compile(r"^\s*:[\w-]+:.*$", re.M),  # directive options (:label:, :class:)
    re.compile(r"^:{3,}\{[\w-]+\}.*$", re.M),  # directive headers and their arguments
    re.compile(r"^\([\w-]+\)=\s*$", re.M),  # targets: (ch1-checks)=
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"<!--.*?-->", re.S),  # comments
]
#: A numeral: digits not glued to a name (``float64``, ``x_1``, ``tab20``).
NUMERAL = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")


def prose(markdown: str) -> str:
    """``markdown`` with maths, code, roles, labels and directive syntax removed."""
    for pattern in _REMOVE:
        markdown = pattern.sub(" ", markdown)
    return markdown


def pages() -> dict[str, str]:
    """Every page of the table of contents: its path, and its Markdown text.

    For a notebook, the Markdown cells joined by blank lines.
    """
    found = {}
    for name in toc_files():
        notebook = ROOT / f"{name}.ipynb"
        if notebook.exists():
            nb = nbformat.read(notebook, as_version=4)
            text = "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
            found[f"{name}.ipynb"] = text
        else:
            found[f"{name}.md"] = (ROOT / f"{name}.md").read_text(encoding="utf-8")
    return found
