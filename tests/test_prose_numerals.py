"""Every numeral in the book's prose is a definition, an index or a quotation.

A number that is a result (a count, a shape, a size, a ratio) must come from
the computation through myst-nb's ``glue``; typed by hand, it goes stale
when the code changes (the review found "8 weights", "(6, 12)" and a
"10^10 points" estimate 70 times off). This test lists the numerals left in
the prose once maths, code, roles and directive syntax are removed
(``tests/prose.py``), and fails on any that ``tests/prose_numerals.yml``
does not allow with a reason.
"""

import re

import pytest
import yaml
from book_files import ROOT
from prose import NUMERAL, pages, prose

ALLOWED = yaml.safe_load(
    (ROOT / "tests" / "prose_numerals.yml").read_text(encoding="utf-8")
)
PAGES = pages()


def allowed_spans(page: str, text: str) -> tuple[list[tuple[int, int]], set[int]]:
    """Spans of ``text`` covered by allow-list entries, and the entries that matched."""
    spans, used = [], set()
    for k, entry in enumerate(ALLOWED):
        if entry.get("page", page) != page:
            continue
        for match in re.finditer(entry["pattern"], text, re.M):
            spans.append(match.span())
            used.add(k)
    return spans, used


@pytest.mark.parametrize("page", sorted(PAGES))
def test_no_typed_results_in_prose(page):
    text = prose(PAGES[page])
    spans, _ = allowed_spans(page, text)
    typed = []
    for match in NUMERAL.finditer(text):
        if not any(
            start <= match.start() and match.end() <= end for start, end in spans
        ):
            line = text[: match.start()].count("\n")
            context = text.splitlines()[line].strip()
            typed.append(f"{match.group(0)!r} in: {context[:120]}")
    assert not typed, "numerals that are neither glued nor allowed:\n" + "\n".join(
        typed
    )


def test_every_allow_list_entry_has_a_reason_and_is_used():
    used = set()
    for page, text in PAGES.items():
        used |= allowed_spans(page, prose(text))[1]
    for k, entry in enumerate(ALLOWED):
        assert entry.get("reason"), f"entry {k} gives no reason"
        assert k in used, (
            f"entry {k} ({entry['pattern'][:60]}) matches nothing: remove it"
        )


def test_prose_extraction_removes_maths_code_and_roles():
    sample = (
        "Take $z = 15$ and `x[3]`, {glue:text}`n-units` units,\n$$\nW = 2\n$$ "
        "(eq-1)\nor 7 of them."
    )
    assert NUMERAL.findall(prose(sample)) == ["7"]
