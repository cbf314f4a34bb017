"""The PDF edition (make pdf): every page, maths typeset, numbered as the HTML.

Printed by the same Chromium as the browser tests; without it the test is
skipped loudly on a developer's machine and fails under CI.
"""

from __future__ import annotations

import os
import re
import unicodedata

import nbformat
import pytest
import yaml
from book_files import ROOT, load_script

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pdf_text(tmp_path_factory):
    make_pdf = load_script("make_pdf")
    if not os.path.exists(make_pdf.CHROMIUM):
        message = (
            f"PDF TEST SKIPPED: no Chromium at {make_pdf.CHROMIUM} (apt-get "
            "install chromium)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from pypdf import PdfReader

    output = tmp_path_factory.mktemp("pdf") / "relunet-book.pdf"
    chapters = make_pdf.print_pdf(output)
    reader = PdfReader(output)
    pages = [
        unicodedata.normalize("NFKC", page.extract_text() or "")
        for page in reader.pages
    ]
    return chapters, pages


def titles():
    """(number or None, title) of every page after the landing page, as in the HTML.

    Pages in a part with ``numbered: true`` are numbered 1, 2, ... across those
    parts; the others (notation, the appendix, the bibliography) are not.
    """
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    found, number = [], 0
    for part in toc["parts"]:
        for entry in part["chapters"]:
            notebook = ROOT / f"{entry['file']}.ipynb"
            if notebook.exists():
                first = nbformat.read(notebook, as_version=4).cells[0].source
            else:
                first = (ROOT / f"{entry['file']}.md").read_text(encoding="utf-8")
            title = first.splitlines()[0].lstrip("# ").strip()
            if part.get("numbered"):
                number += 1
            found.append((number if part.get("numbered") else None, title))
    return found


def plain(text: str) -> str:
    """Typographic quotes as typed ones; runs of white space as one space."""
    for curly, straight in (
        ("\u2018", "'"),
        ("\u2019", "'"),
        ("\u201c", '"'),
        ("\u201d", '"'),
    ):
        text = text.replace(curly, straight)
    return re.sub(r"\s+", " ", text)


def test_every_chapter_is_in_the_pdf_numbered_as_in_the_html(pdf_text):
    chapters, pages = pdf_text
    text = plain(" ".join(pages))
    expected = [f"{n}. {title}" if n else title for n, title in titles()]
    # the table of contents, in order, with the HTML's numbers
    assert [plain(c) for c in chapters] == [plain(e) for e in expected]
    for entry in expected:
        assert plain(entry) in text, entry
    assert "ReLU networks and their Jacobians" in plain(pages[0])
    assert "Contents" in pages[1]


def test_the_pdf_has_every_page_and_no_raw_tex(pdf_text):
    _, pages = pdf_text
    text = "\n".join(pages)
    assert len(pages) > 100
    for raw in ("$$", "\\frac", "\\begin{", "\\mathbb", "\\operatorname"):
        assert raw not in text, f"untypeset maths in the PDF: {raw}"
    # numbered equations, figures and exercises, as in the HTML edition
    for label in ("(2.2)", "Fig. 5.1", "Exercise 8.1"):
        assert label in text, label
