"""The PDF edition (make pdf): every page, maths typeset, numbered as the HTML.

Printed by the same Chromium as the browser tests; without it the test is
skipped loudly on a developer's machine and fails under CI.
"""

from __future__ import annotations

import importlib.util
import os
import re
import unicodedata

import nbformat
import pytest
from book_files import ROOT, toc_files

pytestmark = pytest.mark.slow


def _make_pdf():
    spec = importlib.util.spec_from_file_location(
        "make_pdf", ROOT / "scripts" / "make_pdf.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pdf_text(tmp_path_factory):
    make_pdf = _make_pdf()
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
    """(number or None, title) of every page of the table of contents after the landing
    page.
    """
    found, number = [], 0
    for name in toc_files():
        notebook = ROOT / f"{name}.ipynb"
        if notebook.exists():
            number += 1
            first = (
                nbformat.read(notebook, as_version=4).cells[0].source.splitlines()[0]
            )
            found.append((number, first.lstrip("# ").strip()))
        else:
            first = (ROOT / f"{name}.md").read_text(encoding="utf-8").splitlines()[0]
            found.append((None, first.lstrip("# ").strip()))
    return found


def test_every_chapter_is_in_the_pdf_numbered_as_in_the_html(pdf_text):
    chapters, pages = pdf_text
    text = re.sub(r"\s+", " ", " ".join(pages))
    expected = [f"{n}. {title}" if n else title for n, title in titles()]
    assert (
        chapters == expected
    )  # the table of contents, in order, with the HTML's numbers
    for entry in expected:
        assert re.sub(r"\s+", " ", entry) in text, entry
    assert (
        "ReLU networks and their Jacobians" in re.sub(r"\s+", " ", pages[0])
        and "Contents" in pages[1]
    )


def test_the_pdf_has_every_page_and_no_raw_tex(pdf_text):
    _, pages = pdf_text
    text = "\n".join(pages)
    assert len(pages) > 100
    for raw in ("$$", "\\frac", "\\begin{", "\\mathbb", "\\operatorname"):
        assert raw not in text, f"untypeset maths in the PDF: {raw}"
    # numbered equations, figures and exercises, as in the HTML edition
    for label in ("(2.2)", "Fig. 5.1", "Exercise 8.1"):
        assert label in text, label
