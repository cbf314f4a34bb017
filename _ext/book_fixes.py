"""Small fixes to the stock Jupyter Book 1 pages, as a local Sphinx extension.

- sphinx-thebe's inline configuration script (``const THEBE_JS_URL = ...``)
  and sphinx-togglebutton's selector script end up on every page twice (the
  extensions register them again when Jupyter Book reads the documents), and
  the browser throws "Identifier 'THEBE_JS_URL' has already been declared".
  Just before each page is rendered, each script is kept once, in its first
  position.
- myst-nb registers the HTML of its hidden-input cells (``HideCodeCellNode``)
  for the ``html`` builder only, so the single-page builder that the PDF
  edition prints (``make pdf``) crashed on the first hidden cell. The same
  HTML is registered for ``singlehtml``.
- The landing page links the PDF edition, ``relunet-book.pdf``, only when
  the build has it: when ``make pdf`` has written
  ``_build/pdf/relunet-book.pdf``, the HTML build copies it beside the pages
  (``html_extra_path``) and sets the tag ``pdf_edition``, which shows the
  link (an ``only`` block in ``intro.md``); without it, no link leads
  nowhere.
- The appendix is lettered, not numbered: its exercises, figures, tables and
  equations are numbered "A.1", "A.2", ..., as its title ("Appendix A")
  calls it (Sphinx numbers an unnumbered part's items 1, 2, ... without a
  prefix, as if they were chapter 1's).
"""

from __future__ import annotations

from pathlib import Path


def _unique_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = dict(getattr(script, "attributes", {}) or {})
        # The copies differ only in how "no file" is spelled (None or "").
        key = (getattr(script, "filename", None) or "", attributes.get("body"))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: later handlers (MathJax) append to this list


def _include_pdf(app) -> None:
    """The PDF beside the HTML pages, and the link to it (not in the
    single-page build that the PDF itself is printed from)."""
    pdf = Path(app.srcdir) / "_build" / "pdf" / "relunet-book.pdf"
    if pdf.exists() and app.builder.name == "html":
        app.config.html_extra_path = [*app.config.html_extra_path, str(pdf)]
        app.tags.add("pdf_edition")


#: Documents of the appendix part and their letters (see _toc.yml).
APPENDICES = {"chapters/A1_jax_and_pytorch": "A"}


def _letter_appendices(app, env) -> list[str]:
    """Prefix the numbers Sphinx gave the appendix's items with its letter,
    after Sphinx has numbered them (every join of a number's parts is
    ``".".join(map(str, number))``)."""
    for docname, letter in APPENDICES.items():
        for numbers in env.toc_fignumbers.get(docname, {}).values():
            for node_id, number in numbers.items():
                if number and number[0] != letter:
                    numbers[node_id] = (letter, *number)
    return []


def setup(app):
    app.connect("html-page-context", _unique_scripts, priority=100)
    app.connect("builder-inited", _include_pdf)
    app.connect("env-get-updated", _letter_appendices, priority=900)
    from myst_nb.sphinx_ import (
        HideCodeCellNode,
        depart_HideCellInput,
        visit_HideCellInput,
    )

    handlers = (visit_HideCellInput, depart_HideCellInput)
    app.add_node(HideCodeCellNode, override=True, html=handlers, singlehtml=handlers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
