"""The README's picture of the book: one chapter of the built HTML in Chromium.

Opens ``_build/html`` (run ``make book`` first) in headless Chromium (Debian's
package, driven by Playwright, as the browser tests do) in a 1280 x 800 window,
waits for MathJax, and writes the first screen of a chapter to
``docs/chapter.png``.

Usage: python scripts/readme_screenshot.py [CHAPTER]   (default: chapter 7)
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading

from make_pdf import CHROMIUM, CHROMIUM_ARGS, ROOT, QuietHandler

HTML = ROOT / "_build" / "html"
OUTPUT = ROOT / "docs" / "chapter.png"


def main(argv: list[str]) -> int:
    chapter = argv[0] if argv else "chapters/07_second_derivatives"
    if not (HTML / f"{chapter}.html").exists():
        raise SystemExit(f"no {chapter}.html in _build/html: run make book first")
    from playwright.sync_api import sync_playwright

    handler = functools.partial(QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            port = server.server_address[1]
            page.goto(f"http://127.0.0.1:{port}/{chapter}.html", wait_until="load")
            page.evaluate("MathJax.startup.promise")
            page.evaluate("document.fonts.ready.then(() => true)")
            OUTPUT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(OUTPUT))
            browser.close()
    finally:
        server.shutdown()
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
