"""The PDF edition: the single-page HTML of the book, printed by Chromium.

``make pdf`` runs this script. It builds the book with Sphinx's ``singlehtml``
builder (one page, the same numbering of chapters, equations, figures and
exercises as the HTML edition), serves it on 127.0.0.1, opens it in headless
Chromium (Debian's package, driven by Playwright, as the browser tests do) and
waits for MathJax to typeset every formula. Then ``pdf/print.css`` (the print
stylesheet) and ``pdf/prepare.js`` (what a stylesheet cannot do) make the page
a book: hidden blocks open without their labels, no set-up cells, a title
page, a contents, every chapter on a new page, long code lines wrapped with a
marker, wide tables and equations scaled to the page.

The page is printed at least twice: the first print says on which page every
chapter and section starts (Chromium writes a named destination for every
heading linked from the contents); the next prints the contents with those
page numbers, again until no number moves (a third print when a heading on a
page boundary moved). Then the script writes the PDF's
bookmarks (parts, chapters, sections) to ``_build/pdf/relunet-book.pdf``.

Prerequisites: the book's environment (``make setup``: Playwright's Python
package and pypdf) and Chromium (``apt-get install chromium``, or set
``CHROMIUM`` to another Chromium or Chrome binary). No network is used and no
browser is downloaded.

Usage: python scripts/make_pdf.py [OUTPUT.pdf]
"""

from __future__ import annotations

import functools
import http.server
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build" / "pdf_source"  # apart from the HTML build's own doctrees
SINGLE = BUILD / "_build" / "singlehtml"
DEFAULT_OUTPUT = ROOT / "_build" / "pdf" / "relunet-book.pdf"
PRINT_CSS = ROOT / "pdf" / "print.css"
PREPARE_JS = ROOT / "pdf" / "prepare.js"
CONTENT_JS = ROOT / "pdf" / "content.js"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]
SETUP_MARKER = "# Set-up for running this chapter anywhere"
# A4 with these margins; the page is laid out at the printed width.
MARGIN_MM = {"top": 16, "bottom": 18, "left": 15, "right": 15}
PRINT_WIDTH_PX = round((210 - MARGIN_MM["left"] - MARGIN_MM["right"]) / 25.4 * 96)
PLAYWRIGHT_MIN = (1, 42)  # page.pdf(outline=, tagged=)

# Give the headings with these ids a page of their own.
BREAK_BEFORE = r"""
(ids) => {
  for (const id of ids) {
    const heading =
      document.querySelector(`[data-pdf-id="${id}"]`) || document.getElementById(id);
    if (heading) heading.style.breakBefore = "page";
  }
}
"""

# Fill in the contents' page numbers: {id: page}.
NUMBER = r"""
(pages) => {
  for (const span of document.querySelectorAll(".pdf-toc-page")) {
    span.textContent = String(pages[span.dataset.for]);
  }
}
"""


def missing_prerequisites() -> list[str]:
    """What ``make pdf`` needs and does not find, each with how to get it."""
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(
            f"Chromium: none at {CHROMIUM}. Install Debian's chromium (apt-get "
            "install chromium) or set CHROMIUM to a Chromium or Chrome binary."
        )
    for package, minimum in (("playwright", PLAYWRIGHT_MIN), ("pypdf", (4, 0))):
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            missing.append(f"the Python package {package}: run make setup.")
            continue
        found = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
        if found < minimum:
            missing.append(
                f"{package} >= {'.'.join(map(str, minimum))} (found {version}): "
                "run make setup."
            )
    for path in (PRINT_CSS, PREPARE_JS, CONTENT_JS):
        if not path.exists():
            missing.append(f"{path.relative_to(ROOT)}, part of the book's sources.")
    return missing


def book_parts() -> list[dict]:
    """The parts of ``_toc.yml``: caption and files, in order."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [
        {
            "caption": part["caption"],
            "files": [entry["file"] for entry in part["chapters"]],
        }
        for part in toc["parts"]
    ]


def book_metadata() -> tuple[str, str]:
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["title"], config.get("author", "")


def build_single_page() -> Path:
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    subprocess.run(
        [
            str(jupyter_book),
            "build",
            str(ROOT),
            "--builder",
            "singlehtml",
            "--path-output",
            str(BUILD),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    page = SINGLE / "intro.html"
    if not page.exists():
        raise SystemExit(f"the single-page build did not write {page}")
    return page


def heading_pages(pdf: Path) -> dict[str, tuple[int, float]]:
    """Page (1-based) and height of every heading's named destination."""
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    found = {}
    for name, destination in reader.named_destinations.items():
        name = name.lstrip("/")  # pypdf gives names as PDF name objects
        if name.startswith("pdf-h"):
            page = reader.get_destination_page_number(destination) + 1
            found[name] = (page, float(destination.top or 0))
    return found


def write_outline(pdf: Path, output: Path, entries: list[dict], places: dict) -> None:
    """The PDF's bookmarks: parts, their chapters, the chapters' sections."""
    import logging

    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import Fit

    # Chromium's cross-reference table is one entry short; pypdf repairs it
    logging.getLogger("pypdf").setLevel(logging.ERROR)

    writer = PdfWriter(clone_from=PdfReader(pdf))
    parent_part = parent_chapter = None
    for entry in entries:
        page, top = places[entry["id"]]
        fit = Fit.xyz(left=0, top=top)
        if entry["kind"] == "part":
            parent_part = writer.add_outline_item(
                title=entry["title"], page_number=page - 1, fit=fit
            )
            continue
        if entry["kind"] == "section":
            if parent_chapter is not None:
                writer.add_outline_item(
                    title=entry["title"],
                    page_number=page - 1,
                    parent=parent_chapter,
                    fit=fit,
                )
            continue
        in_part = entry["kind"] == "chapter" and entry.get("part") is not None
        parent_chapter = writer.add_outline_item(
            title=entry["title"],
            page_number=page - 1,
            parent=parent_part if in_part else None,
            fit=fit,
        )
        if not in_part:
            parent_part = None
    writer.page_mode = "/UseOutlines"
    title, author = book_metadata()
    writer.add_metadata({"/Title": title, "/Author": author})
    with open(output, "wb") as handle:
        writer.write(handle)


def print_pdf(output: Path) -> dict:
    """Build, prepare and print the book to ``output``; return what was done."""
    missing = missing_prerequisites()
    if missing:
        raise SystemExit(
            "make pdf cannot run; missing:\n" + "\n".join(f"- {m}" for m in missing)
        )
    from playwright.sync_api import sync_playwright

    page_file = build_single_page()
    title, author = book_metadata()
    options = {
        "parts": book_parts(),
        "setupMarker": SETUP_MARKER,
        "title": title,
        "author": author,
    }
    handler = functools.partial(QuietHandler, directory=str(SINGLE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    pdf_options = {
        "format": "A4",
        "print_background": True,
        "margin": {side: f"{mm}mm" for side, mm in MARGIN_MM.items()},
        "display_header_footer": True,
        "header_template": "<span></span>",
        "footer_template": '<div style="font-size:8px;width:100%;text-align:center">'
        '<span class="pageNumber"></span> / <span class="totalPages"></span></div>',
        "outline": False,
        "tagged": True,
    }
    try:
        with sync_playwright() as playwright, tempfile.TemporaryDirectory() as tmp:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": PRINT_WIDTH_PX, "height": 1000})
            page.emulate_media(media="print")
            page.goto(
                f"http://127.0.0.1:{server.server_address[1]}/{page_file.name}",
                wait_until="load",
            )
            page.wait_for_function(
                "window.MathJax && MathJax.startup && MathJax.startup.promise",
                timeout=60_000,
            )
            page.evaluate("MathJax.startup.promise")
            content = page.evaluate(
                CONTENT_JS.read_text(encoding="utf-8"), SETUP_MARKER
            )
            page.add_style_tag(path=str(PRINT_CSS))
            page.evaluate("document.fonts.ready.then(() => true)")
            report = page.evaluate(PREPARE_JS.read_text(encoding="utf-8"), options)
            ids = [entry["id"] for entry in report["entries"]]
            # A first print, untagged (a quarter faster), for the layout alone.
            first = Path(tmp) / "first.pdf"
            page.pdf(path=str(first), **{**pdf_options, "tagged": False})
            places = heading_pages(first)
            lost = [i for i in ids if i not in places]
            if lost:
                raise SystemExit(f"no page found for the headings {lost[:5]}")
            # Fill in the contents' numbers (their width is fixed) and print
            # again, until no heading moves. Headings may move together (a line
            # more or less before them shifts every later page): they are left
            # to settle. One that comes back to a page it had in an earlier print
            # flips between two pages (a heading that Chromium's break rules push
            # to the top of a page can land on the page before in the next print),
            # and is given the later one. (Giving every heading at a page's top
            # its page in advance added page breaks that moved later headings,
            # and a print.)
            second = Path(tmp) / "second.pdf"
            report["prints"] = 1
            seen = {i: {places[i][0]} for i in ids}
            for _ in range(6):
                report["prints"] += 1
                page.evaluate(NUMBER, {i: places[i][0] for i in ids})
                page.pdf(path=str(second), **pdf_options)
                again = heading_pages(second)
                moved = [i for i in ids if again.get(i, (0,))[0] != places[i][0]]
                if not moved:
                    break
                flipping = [i for i in moved if again.get(i, (0,))[0] in seen[i]]
                page.evaluate(BREAK_BEFORE, flipping)
                for i in moved:
                    seen[i].add(again.get(i, (0,))[0])
                places = again
            browser.close()
            if moved:
                raise SystemExit(f"the page numbers keep moving: {moved}")
            output.parent.mkdir(parents=True, exist_ok=True)
            write_outline(second, output, report["entries"], again)
    finally:
        server.shutdown()
    report["pages"] = {i: again[i][0] for i in ids}
    report["content"] = content
    return report


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main(argv: list[str]) -> int:
    output = Path(argv[0]).resolve() if argv else DEFAULT_OUTPUT
    report = print_pdf(output)
    shown = output.relative_to(ROOT) if output.is_relative_to(ROOT) else output
    from pypdf import PdfReader

    pages = len(PdfReader(output).pages)
    print(
        f"wrote {shown}: {pages} pages, {len(report['chapters'])} chapters, "
        f"printed {report['prints']} times"
    )
    print(
        f"  {report['setupCells']} set-up cells left out, {report['wrappedLines']} "
        f"code lines wrapped, {len(report['scaledTables'])} tables and "
        f"{len(report['scaledEquations'])} equations scaled to the page"
    )
    low = [f for f in report["figures"] if not f["vector"] and f["dpi"] < 200]
    if low:
        print(f"  {len(low)} figures below 200 dpi as printed:")
        for figure in low:
            print(f"    {figure['caption'] or figure['src']}: {figure['dpi']} dpi")
    for item in report["overflow"]:
        print(f"  WIDER THAN THE PAGE: {item}")
    return 1 if report["overflow"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
