"""Stored outputs hold the digits their claim needs, and no more.

Strict nbval compares every stored output character by character with a
fresh run. On another CPU, TensorFlow's kernels and the BLAS give other last
bits: a float glued or printed with 16 digits (``1.5278224404171652``) fails
there, and so does a raw difference that is ``0`` on one machine and
``3e-08`` on another. The chapters therefore store rounded values, bounds
("< 1e-6") and verdicts. This test finds every decimal number in the outputs
strict nbval compares (streams, ``text/plain`` results, glued values,
Markdown and HTML) and fails on any with more than ``MAX_SIGNIFICANT``
significant digits, unless ``tests/stored_digits.yml`` allows it with a reason
(an exact-by-construction value such as 2^-10, say). Cells tagged
``nbval-ignore-output`` are not compared, so they are not checked either.
"""

from __future__ import annotations

import re

import nbformat
import pytest
import yaml
from book_files import ROOT

#: Six significant digits: more than any claim in the book needs (they print
#: four or five), fewer than the last bits that differ between CPUs in float64.
#: A float32 result can differ in its seventh digit, so a float32 value must
#: be rounded further than this.
MAX_SIGNIFICANT = 6

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
ALLOWED = yaml.safe_load(
    (ROOT / "tests" / "stored_digits.yml").read_text(encoding="utf-8")
)
#: A decimal number: digits with a point, or in scientific notation.
DECIMAL = re.compile(
    r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+(?=[eE]))(?:[eE][-+]?\d+)?(?![\w.])"
)
#: Output fields strict nbval compares (images are skipped by nbval).
COMPARED = ("text/plain", "text/markdown", "text/html", "text/latex")
GLUED = "application/papermill.record/"


def significant_digits(number: str) -> int:
    """Significant digits of a decimal numeral: ``0.0500`` has 3, ``1e-06`` has 1."""
    mantissa = re.split(r"[eE]", number.lstrip("+-"))[0]
    return max(len(mantissa.replace(".", "").lstrip("0")), 1)


def stored_texts(path) -> list[tuple[int, str]]:
    """(code cell index, text) of every output strict nbval compares."""
    nb = nbformat.read(path, as_version=4)
    texts = []
    code_index = -1
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        code_index += 1
        if "nbval-ignore-output" in cell.metadata.get("tags", []):
            continue
        for output in cell.outputs:
            if output.output_type == "stream":
                texts.append((code_index, output.text))
            for key, value in output.get("data", {}).items():
                if key in COMPARED or key.startswith(GLUED):
                    text = "".join(value) if isinstance(value, list) else str(value)
                    texts.append((code_index, text))
    return texts


def allowed(page: str, text: str) -> list[tuple[int, int]]:
    spans = []
    for entry in ALLOWED:
        if entry.get("page", page) != page:
            continue
        for match in re.finditer(entry["pattern"], text):
            spans.append(match.span())
    return spans


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_stored_outputs_carry_no_machine_digits(path):
    page = f"chapters/{path.name}"
    too_long = []
    for cell, text in stored_texts(path):
        spans = allowed(page, text)
        for match in DECIMAL.finditer(text):
            if significant_digits(match.group(0)) <= MAX_SIGNIFICANT:
                continue
            if any(s <= match.start() and match.end() <= e for s, e in spans):
                continue
            start = max(match.start() - 50, 0)
            context = text[start : match.end() + 20].replace("\n", " ")
            too_long.append(f"code cell {cell}: {match.group(0)} in ...{context}...")
    assert not too_long, (
        f"stored floats with more than {MAX_SIGNIFICANT} significant digits "
        "(round them, print a bound, or allow them in tests/stored_digits.yml "
        "with a reason):\n" + "\n".join(too_long)
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_check_portable_can_switch_onednn_on(path):
    """A chapter sets oneDNN off only by default, so that ``make check-portable``'s
    ``TF_ENABLE_ONEDNN_OPTS=1`` reaches its TensorFlow (a forced "0" would make
    that perturbation a no-op)."""
    sources = [c.source for c in nbformat.read(path, as_version=4).cells]
    assert not any(
        re.search(r"os\.environ\[.TF_ENABLE_ONEDNN_OPTS.\]\s*=", s) for s in sources
    )
    if any("import tensorflow" in s for s in sources):
        assert any('setdefault("TF_ENABLE_ONEDNN_OPTS", "0")' in s for s in sources)


def test_every_allow_list_entry_has_a_reason_and_is_used():
    used = set()
    for path in CHAPTERS:
        page = f"chapters/{path.name}"
        for _, text in stored_texts(path):
            for k, entry in enumerate(ALLOWED):
                if entry.get("page", page) == page and re.search(
                    entry["pattern"], text
                ):
                    used.add(k)
    for k, entry in enumerate(ALLOWED):
        assert entry.get("reason"), f"entry {k} gives no reason"
        assert k in used, f"entry {k} ({entry['pattern'][:60]}) matches nothing"


@pytest.mark.parametrize(
    ("number", "digits"),
    [
        ("1.5278224404171652", 17),
        ("0.049970176417609175", 17),
        ("14.292", 5),
        ("0.0500", 3),
        ("1e-06", 1),
        ("3.0e-08", 2),
        ("-0.0009765625", 7),
        ("100.", 3),
    ],
)
def test_significant_digits(number, digits):
    assert significant_digits(number) == digits


def test_the_scan_finds_long_floats_and_ignores_integers_and_short_ones():
    text = "gap 1.5278224404171652, count 1,320, shape (4, 3), 0.0500 and 3e-08"
    found = [m.group(0) for m in DECIMAL.finditer(text)]
    assert found == ["1.5278224404171652", "0.0500", "3e-08"]
