"""Small fixes to the stock Jupyter Book 1 pages, as a local Sphinx extension.

- sphinx-thebe's inline configuration script (``const THEBE_JS_URL = ...``)
  and sphinx-togglebutton's selector script end up on every page twice (the
  extensions register them again when Jupyter Book reads the documents), and
  the browser throws "Identifier 'THEBE_JS_URL' has already been declared".
  Just before each page is rendered, each script is kept once, in its first
  position.
"""

from __future__ import annotations


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


def setup(app):
    app.connect("html-page-context", _unique_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
