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
- The landing page links the PDF edition, ``relunet-book.pdf``. When ``make
  pdf`` has written ``_build/pdf/relunet-book.pdf``, the HTML build copies it
  beside the pages (``html_extra_path``), so that the link works in the
  published site.
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


def _include_pdf(app, config) -> None:
    pdf = Path(app.srcdir) / "_build" / "pdf" / "relunet-book.pdf"
    if pdf.exists():
        config.html_extra_path = [*config.html_extra_path, str(pdf)]


def setup(app):
    app.connect("html-page-context", _unique_scripts, priority=100)
    app.connect("config-inited", _include_pdf)
    from myst_nb.sphinx_ import (
        HideCodeCellNode,
        depart_HideCellInput,
        visit_HideCellInput,
    )

    handlers = (visit_HideCellInput, depart_HideCellInput)
    app.add_node(HideCodeCellNode, override=True, html=handlers, singlehtml=handlers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
