"""Build the whole book strictly, then check it as files and in a real browser.

The book is built once per test run (-W -n --keep-going) into a temporary
folder. The browser tests serve that folder on 127.0.0.1 and open every page
in headless Chromium (Debian's package, driven by Playwright; no browser is
downloaded). With SCREENSHOTS=1 in the environment, a full-page screenshot of
every page goes to _build/screenshots/ (for looking, not checked; a third of
the browser tests' time, so off by default).

Without Chromium the browser tests are skipped with a loud reason on a
developer's machine; under CI (the CI environment variable set) they fail
instead: CI never skips them. Set CHROMIUM to use another binary.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from book_files import ROOT, toc_files, toc_root

JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
SCREENSHOTS = ROOT / "_build" / "screenshots"
TAKE_SCREENSHOTS = os.environ.get("SCREENSHOTS") == "1"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests may run as root
    "--disable-gpu",
    "--disable-background-networking",  # no calls home: the book must need no network
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Console errors that cannot be fixed in the book, by exact text. None today:
# the two of stock Jupyter Book 1 are fixed (see _ext/book_fixes.py and
# html_context.default_mode in _config.yml).
ALLOWED_CONSOLE_ERRORS: set[str] = set()

pytestmark = pytest.mark.slow

#: The landing page links the PDF edition when the build includes it, that is when
#: `make pdf` has made it (see _ext/book_fixes.py), as in the published site.
PDF_LINK = "relunet-book.pdf"


PAGES = [toc_root(), *toc_files()]
BROWSER_PAGES = [*PAGES, "search", "genindex"]


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    result = subprocess.run(
        [
            str(JUPYTER_BOOK),
            "build",
            str(ROOT),
            "--path-output",
            str(out),
            "-W",
            "-n",
            "--keep-going",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    return result, out / "_build" / "html"


@pytest.fixture(scope="module")
def html(build):
    result, folder = build
    if result.returncode != 0:
        pytest.fail(
            "the book did not build:\n" + (result.stdout + result.stderr)[-4000:]
        )
    return folder


# --- the build, as files ------------------------------------------------------


def test_build_succeeds_without_warnings(build):
    result, _ = build
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert not re.search(r"WARNING|ERROR", log), log[-4000:]


def test_every_page_of_the_toc_is_built(html):
    for page in PAGES:
        assert (html / f"{page}.html").is_file(), page
    assert (html / "index.html").is_file()


def test_nothing_outside_the_toc_is_built(html):
    assert not (html / ".venv").exists()
    assert not (html / "README.html").exists()
    assert not list(html.rglob("site-packages"))


def test_math_is_served_with_the_book(html):
    page = (html / "chapters" / "02_layer_jacobian.html").read_text(encoding="utf-8")
    assert "_static/mathjax/tex-chtml.js" in page
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert "cdn.jsdelivr.net" not in page


def test_stored_outputs_are_published(html):
    page = (html / "chapters" / "01_relu_layer.html").read_text(encoding="utf-8")
    assert "z     = [15. 32.]" in page  # a stored output, not re-executed
    assert "all checks passed" in page
    assert list((html / "_images").glob("*.png")), "the chapter figures are missing"


def test_every_page_states_the_licences(html):
    """The footer names both licences (LICENSE-CONTENT and LICENSE)."""
    for page in PAGES:
        text = (html / f"{page}.html").read_text(encoding="utf-8")
        assert "CC BY 4.0" in text and "MIT" in text, page


CITATION_ENTRY = re.compile(
    r'<div class="citation" id="(id\d+)"[^>]*>\s*<span class="label">'
    r'<span class="fn-bracket">\[</span>([^<]*)<'
)
CITATION_LINK = re.compile(
    r'href="(?:\.\./)?bibliography\.html#(id\d+)"[^>]*>([^<]*)</a>'
)


def test_bibliography_labels_are_the_citations_and_sorted_by_author(html):
    """Each citation in the text reads exactly as the label of the entry it links
    to ("Huge and Savine, 2020"), and the entries are sorted by author."""
    entries = CITATION_ENTRY.findall(
        (html / "bibliography.html").read_text(encoding="utf-8")
    )
    labels = dict(entries)
    assert len(labels) == len(entries) >= 30
    order = [label.casefold() for _, label in entries]
    assert order == sorted(order)
    cited = 0
    for page in PAGES:
        for target, text in CITATION_LINK.findall(
            (html / f"{page}.html").read_text(encoding="utf-8")
        ):
            assert text == labels[target], (page, text, labels[target])
            cited += 1
    assert cited >= 30


def test_downloads_exist(html):
    for page in PAGES:
        source = next((ROOT / page).parent.glob(Path(page).name + ".*"))
        assert (html / "_sources" / page).with_suffix(source.suffix).is_file(), page


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


@functools.cache
def _parse(path: Path) -> _Anchors:
    parser = _Anchors()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_internal_links_resolve(html):
    broken = []
    pages = sorted(
        p
        for p in html.rglob("*.html")
        if "_static" not in p.parts and "_sources" not in p.parts
    )
    for page in pages:
        for href in _parse(page).links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith("mailto:"):
                continue  # external: a link, never fetched by the page
            target = (
                page
                if not parts.path
                else (page.parent / unquote(parts.path)).resolve()
            )
            if not target.exists():
                broken.append(f"{page.relative_to(html)}: {href} (no file)")
            elif (
                parts.fragment
                and target.suffix == ".html"
                and unquote(parts.fragment) not in _parse(target).ids
            ):
                broken.append(f"{page.relative_to(html)}: {href} (no anchor)")
    assert not broken, "\n".join(broken[:50])


# --- the book in a browser ---------------------------------------------------------


def test_the_pdf_is_linked_exactly_when_the_build_has_it(html):
    has_pdf = (ROOT / "_build" / "pdf" / PDF_LINK).exists()
    linked = f'href="{PDF_LINK}"' in (html / "intro.html").read_text(encoding="utf-8")
    assert linked == has_pdf == (html / PDF_LINK).exists()


def test_the_appendix_is_lettered(html):
    """The appendix's numbered items are A.1, A.2, ..., as the book calls it A."""
    text = (html / "chapters" / "A1_jax_and_pytorch.html").read_text(encoding="utf-8")
    numbers = re.findall(r'caption-number">(\w+) ([^ <]+) <', text)
    assert [kind for kind, _ in numbers] == ["Exercise", "Exercise"], numbers
    assert [number for _, number in numbers] == ["A.1", "A.2"]
    sections = re.findall(
        r'<h([12])><span class="section-number">([^<]+) </span>', text
    )
    assert sections[0] == ("1", "A.")
    assert [n for level, n in sections[1:] if level == "2"][:3] == [
        "A.1.",
        "A.2.",
        "A.3.",
    ]


@pytest.fixture(scope="module")
def server(html):
    handler = functools.partial(_QuietHandler, directory=str(html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        reason = (
            f"BROWSER TESTS SKIPPED: no Chromium at {CHROMIUM}. Install Debian's "
            "chromium "
            "(apt-get install chromium) or set CHROMIUM; CI installs it and never "
            "skips."
        )
        if os.environ.get("CI"):
            pytest.fail(reason.replace("SKIPPED", "CANNOT RUN"))
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


#: Widths at which every page's layout is measured: a phone, the 1280-pixel window
#: the code cells are formatted for, a wide screen.
LAYOUT_WIDTHS = (360, 1280, 1920)
#: Display equations wider than their box (by id), those that are wider and cannot
#: scroll (clipped), equation numbers drawn over their formula, and code boxes that
#: scroll sideways.
LAYOUT_JS = """() => {
  const name = (m) => (m.closest('div.math') || {}).id || m.textContent.slice(0, 40);
  const shown = Array.from(document.querySelectorAll('mjx-container[display="true"]'))
    .filter(m => m.offsetParent !== null);
  const wide = shown.filter(m => m.scrollWidth > m.clientWidth + 1);
  const clipped = wide.filter(
    m => !['auto', 'scroll'].includes(getComputedStyle(m).overflowX));
  const covered = [];
  for (const m of shown) {
    const box = m.closest('div.math');
    const number = box && box.querySelector('.eqno');
    if (!number) continue;
    const n = number.getBoundingClientRect(), c = m.getBoundingClientRect();
    if (n.left < c.right - 1 && n.right > c.left + 1 && n.top < c.bottom
        && n.bottom > c.top) covered.push(name(m));
  }
  const code = Array.from(document.querySelectorAll('div.cell_input pre'))
    .filter(p => p.offsetParent !== null && p.scrollWidth > p.clientWidth + 1)
    .map(p => p.textContent.split('\\n').find(l => l.length > 0).slice(0, 60));
  return {wide: wide.map(name), clipped: clipped.map(name), covered, code};
}"""


def _visit(browser, url: str, screenshot: Path | None = None) -> dict:
    """Open a page, wait for its math and images, and report what went wrong."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems, foreign = [], []
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and m.text not in ALLOWED_CONSOLE_ERRORS
            and problems.append(f"console: {m.text}")
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"javascript: {e}"))
    page.on(
        "requestfailed",
        lambda r: problems.append(f"failed request: {r.url} ({r.failure})"),
    )
    page.on(
        "response",
        lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"),
    )
    page.on(
        "request",
        lambda r: (
            urlsplit(r.url).hostname not in ("127.0.0.1", None)
            and r.url.startswith("http")
            and foreign.append(r.url)
        ),
    )
    page.goto(url, wait_until="load")
    page.evaluate(
        "window.scrollTo(0, document.body.scrollHeight)"
    )  # lazy images load too
    page.wait_for_function(
        "Array.from(document.images).every(i => i.complete)", timeout=30_000
    )
    has_mathjax = page.evaluate(
        "Boolean(window.MathJax && MathJax.startup && MathJax.startup.promise)"
    )
    if has_mathjax:
        page.evaluate("MathJax.startup.promise")
    report = page.evaluate(
        """() => ({
            math: document.querySelectorAll('.math').length,
            typeset: document.querySelectorAll('mjx-container').length,
            errors: document.querySelectorAll('mjx-merror').length,
            images: document.images.length,
            setup_shown: document.body.innerText.includes(
                'Set-up for running this chapter anywhere'),
            broken_images: Array.from(document.images)
                .filter(i => !(i.naturalWidth > 0)).map(i => i.src),
        })"""
    )
    if screenshot is not None:
        page.screenshot(path=str(screenshot), full_page=True)
    report["layout"] = {}
    for width in LAYOUT_WIDTHS:  # the same page, reflowed at each width
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)
        report["layout"][width] = page.evaluate(LAYOUT_JS)
    report.update(problems=problems, foreign=foreign, has_mathjax=has_mathjax)
    page.close()
    return report


#: What _visit found on each page, for the tests that look again at one.
VISITS: dict[str, dict] = {}


@pytest.mark.parametrize("name", BROWSER_PAGES)
def test_page_in_a_browser(browser, server, name):
    screenshot = None
    if TAKE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        screenshot = SCREENSHOTS / f"{name.replace('/', '__')}.png"
    report = VISITS[name] = _visit(browser, urljoin(server, f"{name}.html"), screenshot)
    assert report["problems"] == [], report["problems"]
    assert report["foreign"] == [], f"requests to other hosts: {report['foreign']}"
    assert report["broken_images"] == [], report["broken_images"]
    assert not report["setup_shown"], "the set-up cell is for running, not reading"
    if report["math"]:
        assert report["has_mathjax"], "a page with math has no MathJax"
        assert report["typeset"] >= report["math"], (
            f"{report['typeset']} of {report['math']} formulas typeset"
        )
        assert report["errors"] == 0, f"{report['errors']} MathJax errors"
    layout = report["layout"]
    for width in LAYOUT_WIDTHS:
        # A display equation never loses a part: too wide for a phone, it scrolls
        # inside its box; and its number never covers it.
        assert layout[width]["clipped"] == [], (width, layout[width]["clipped"])
        assert layout[width]["covered"] == [], (width, layout[width]["covered"])
    for width in (1280, 1920):  # on a desktop window every equation fits whole
        assert layout[width]["wide"] == [], (width, layout[width]["wide"])
    # The code cells are formatted to fit their box at 1280 pixels (chapters/ruff.toml).
    assert layout[1280]["code"] == [], layout[1280]["code"]


def test_chapters_show_math_and_figures(browser, server):
    name = "chapters/05_linear_regions"
    report = VISITS.get(name) or _visit(browser, urljoin(server, f"{name}.html"))
    assert report["typeset"] > 20
    assert report["images"] >= 4


def test_search_finds_jacobian(browser, server):
    page = browser.new_page()
    page.goto(urljoin(server, "search.html?q=Jacobian"), wait_until="load")
    page.wait_for_selector("#search-results ul.search li", timeout=30_000)
    hits = page.locator("#search-results ul.search li").count()
    page.close()
    assert hits >= 5, f"search for Jacobian found {hits} pages"


def test_dark_mode_is_legible(browser, server):
    """The theme's dark mode: applied, no errors, and the figures on a light
    background (dark axis labels on a dark page would vanish)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script(
        "localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');"
    )
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(urljoin(server, "chapters/05_linear_regions.html"), wait_until="load")
    theme = page.evaluate("document.documentElement.dataset.theme")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    figure_background = page.evaluate(
        "getComputedStyle(document.querySelector('figure img') || "
        "document.images[0]).backgroundColor"
    )
    if TAKE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(SCREENSHOTS / "dark__chapters__05_linear_regions.png"),
            full_page=False,
        )
    page.close()
    assert theme == "dark" and errors == []
    red, green, blue = (int(v) for v in re.findall(r"\d+", background)[:3])
    assert red + green + blue < 3 * 80, f"dark mode background is {background}"
    # The theme puts images on a light panel in dark mode; the PNGs are opaque white
    # anyway.
    assert sum(int(v) for v in re.findall(r"\d+", figure_background)[:3]) > 3 * 180, (
        figure_background
    )
