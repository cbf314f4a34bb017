"""Build the whole book strictly (-W -n --keep-going) into a temporary folder."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    result = subprocess.run(
        [str(JUPYTER_BOOK), "build", str(ROOT), "--path-output", str(out), "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    return result, out / "_build" / "html"


def test_build_succeeds_without_warnings(built):
    result, _ = built
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert not re.search(r"WARNING|ERROR", log), log[-4000:]


def _toc_files(node):
    if isinstance(node, dict):
        if "file" in node:
            yield node["file"]
        for value in node.values():
            yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


def test_every_page_of_the_toc_is_built(built):
    _, html = built
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"], *_toc_files(toc)]
    for page in pages:
        assert (html / f"{page}.html").is_file(), page
    assert (html / "index.html").is_file()


def test_nothing_outside_the_toc_is_built(built):
    _, html = built
    assert not (html / ".venv").exists()
    assert not (html / "README.html").exists()
    assert not list(html.rglob("site-packages"))


def test_math_is_served_with_the_book(built):
    _, html = built
    page = (html / "chapters" / "02_layer_jacobian.html").read_text(encoding="utf-8")
    assert "_static/mathjax/tex-chtml.js" in page
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert "cdn.jsdelivr.net" not in page


def test_stored_outputs_are_published(built):
    _, html = built
    page = (html / "chapters" / "01_relu_layer.html").read_text(encoding="utf-8")
    assert "z     = [15. 32.]" in page  # a stored output, not re-executed
    assert "all checks passed" in page
    assert list((html / "_images").glob("*.png")), "the chapter figures are missing"
