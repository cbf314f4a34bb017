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
  link (an ``only`` block in ``intro.md``); without it, there is no link to
  lead nowhere.
- The appendix is lettered: its title is "A", its sections "A.1", "A.2",
  ..., and its exercises, figures, tables and equations "A.1", "A.2", ...
  (Sphinx leaves an unnumbered part's sections without numbers and numbers
  its items 1, 2, ... without a prefix, as if they were chapter 1's).
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
    """The PDF beside the HTML pages, and the tag that shows the link to it.

    Both are set when the configuration is read, so that a PDF that appears
    or goes away changes the configuration and the tags Sphinx compares with
    the last build: every page is written again. ``intro.md`` shows the link
    only in the HTML builder (``pdf_edition and builder_html``), not in the
    single page that the PDF itself is printed from.
    """
    pdf = Path(app.srcdir) / "_build" / "pdf" / "relunet-book.pdf"
    if pdf.exists():
        config.html_extra_path = [*config.html_extra_path, str(pdf)]
        app.tags.add("pdf_edition")


#: Documents of the appendix part and their letters (see _toc.yml).
APPENDICES = {"chapters/A1_jax_and_pytorch": "A"}


def _letter_appendices(app, env) -> list[str]:
    """Number the appendix's sections from its letter and prefix the numbers
    Sphinx gave its items with it, after Sphinx has numbered the book (every
    join of a number's parts is ``".".join(map(str, number))``)."""
    for docname, letter in APPENDICES.items():
        if docname in env.tocs:
            secnums: dict[str, tuple] = {}
            _number_sections(env.tocs[docname], letter, [0], secnums)
            env.toc_secnumbers[docname] = secnums
        for numbers in env.toc_fignumbers.get(docname, {}).values():
            for node_id, number in numbers.items():
                if number and number[0] != letter:
                    numbers[node_id] = (letter, *number)
    return []


def _number_sections(node, letter: str, stack: list[int], secnums: dict) -> None:
    """The title ``(letter,)``, its sections ``(letter, 1)``, ``(letter, 2)``,
    their subsections ``(letter, 1, 1)``, ...: a document's table of contents
    (nested bullet lists) walked as Sphinx walks a numbered one."""
    from docutils import nodes
    from sphinx import addnodes

    for child in node.children:
        if isinstance(child, nodes.bullet_list):
            stack.append(0)
            _number_sections(child, letter, stack, secnums)
            stack.pop()
        elif isinstance(child, (nodes.list_item, addnodes.only)):
            _number_sections(child, letter, stack, secnums)
        elif isinstance(child, addnodes.compact_paragraph):
            stack[-1] += 1
            number = (letter, *stack[1:])
            reference = child[0]
            secnums[reference["anchorname"]] = number
            reference["secnumber"] = list(number)


def setup(app):
    app.connect("html-page-context", _unique_scripts, priority=100)
    app.connect("config-inited", _include_pdf)
    app.connect("env-get-updated", _letter_appendices, priority=900)
    from myst_nb.sphinx_ import (
        HideCodeCellNode,
        depart_HideCellInput,
        visit_HideCellInput,
    )

    handlers = (visit_HideCellInput, depart_HideCellInput)
    app.add_node(HideCodeCellNode, override=True, html=handlers, singlehtml=handlers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
