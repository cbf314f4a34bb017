"""The PDF edition: the single-page HTML of the book, printed by Chromium.

``make pdf`` runs this script. It builds the book with Sphinx's ``singlehtml``
builder (one page, the same numbering of chapters, equations, figures and
exercises as the HTML edition), serves it on 127.0.0.1, opens it in headless
Chromium (Debian's package, driven by Playwright, as the browser tests do),
waits for MathJax to typeset every formula, opens every hidden block (code
inputs, solutions), adds a title page and a table of contents, and prints to
``_build/pdf/relunet-book.pdf``.

Prerequisites: the book's environment (``make setup``) and Chromium
(``apt-get install chromium``, or set ``CHROMIUM`` to another Chromium or
Chrome binary). No network is used and no browser is downloaded.

Usage: python scripts/make_pdf.py [OUTPUT.pdf]
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build" / "pdf_source"  # apart from the HTML build's own doctrees
SINGLE = BUILD / "_build" / "singlehtml"
DEFAULT_OUTPUT = ROOT / "_build" / "pdf" / "relunet-book.pdf"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]

# Run in the page before printing: open hidden blocks, add a title page and a
# table of contents built from the numbered chapter headings.
PREPARE = r"""
() => {
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
  document.querySelectorAll(".toggle-hidden").forEach((e) => e.classList.remove("toggle-hidden"));
  document.querySelectorAll("button.toggle-button").forEach((b) => b.remove());
  const main = document.querySelector("main") || document.body;
  const chapters = [];  // every page of the book after the landing page, in order
  for (const anchor of main.querySelectorAll('span[id^="document-"]')) {
    const section = anchor.nextElementSibling;
    const heading = section && section.querySelector("h1, h2");
    if (!heading) continue;
    section.style.pageBreakBefore = "always";
    chapters.push(heading.innerText.replace(/[#¶]\s*$/, "").trim());
  }
  const cover = document.createElement("div");
  cover.id = "pdf-cover";
  cover.innerHTML =
    `<h1 style="font-size:2.6em;margin-top:30vh">${document.title.split(" — ")[0]}</h1>` +
    `<p style="font-size:1.3em">The relunet-book authors</p>` +
    `<p>The PDF edition of the executable book: every chapter, with its stored outputs.</p>` +
    `<div style="page-break-after:always"></div>` +
    `<h2>Contents</h2><ol style="list-style:none;padding-left:0;font-size:1.1em">` +
    chapters.map((c) => `<li style="margin:0.4em 0">${c}</li>`).join("") +
    `</ol><div style="page-break-after:always"></div>`;
  main.prepend(cover);
  const style = document.createElement("style");
  style.textContent = `
    @media print {
      .bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer, .header-article,
      .prev-next-area, .bd-header-article, #pst-skip-link, .bd-footer-article { display: none !important; }
      .bd-main .bd-content .bd-article-container { max-width: 100% !important; }
      pre, .cell_output { white-space: pre-wrap; word-break: break-all; }
    }`;
  document.head.appendChild(style);
  return chapters;
}
"""


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


def print_pdf(output: Path) -> list[str]:
    if not Path(CHROMIUM).exists():
        raise SystemExit(
            f"make pdf needs Chromium: none at {CHROMIUM}. Install Debian's chromium "
            "(apt-get install chromium) or set CHROMIUM to a Chromium or Chrome binary."
        )
    from playwright.sync_api import sync_playwright

    page_file = build_single_page()
    handler = functools.partial(QuietHandler, directory=str(SINGLE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
            page = browser.new_page()
            page.goto(
                f"http://127.0.0.1:{server.server_address[1]}/{page_file.name}",
                wait_until="load",
            )
            page.wait_for_function(
                "window.MathJax && MathJax.startup && MathJax.startup.promise",
                timeout=60_000,
            )
            page.evaluate("MathJax.startup.promise")
            page.emulate_media(media="print")
            chapters = page.evaluate(PREPARE)
            page.evaluate("MathJax.typesetPromise ? MathJax.typesetPromise() : null")
            output.parent.mkdir(parents=True, exist_ok=True)
            page.pdf(
                path=str(output),
                format="A4",
                print_background=True,
                margin={
                    "top": "18mm",
                    "bottom": "18mm",
                    "left": "15mm",
                    "right": "15mm",
                },
                display_header_footer=True,
                header_template="<span></span>",
                footer_template='<div style="font-size:8px;width:100%;text-align:center">'
                '<span class="pageNumber"></span> / <span class="totalPages"></span></div>',
            )
            browser.close()
    finally:
        server.shutdown()
    return chapters


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main(argv: list[str]) -> int:
    output = Path(argv[0]).resolve() if argv else DEFAULT_OUTPUT
    chapters = print_pdf(output)
    print(
        f"wrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output} "
        f"({len(chapters)} chapters)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
