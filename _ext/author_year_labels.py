"""Bibliography labels that read like the citations: "[Huge and Savine, 2020]".

The book cites in author-year form (``bibtex_reference_style: author_year``),
but pybtex's default formatting style labels the bibliography's entries
alphabetically ("[HS20]"), so a reader cannot match one to the other. This
extension registers the pybtex formatting style ``authoryear``: entries sorted
by author (as printed), year and title, each labelled with the text its citations show
(one author: the last name; two: both, joined by "and"; more: the first and
"et al."; then a comma and the year). ``_config.yml`` selects it with
``bibtex_default_style``.
"""

from __future__ import annotations

import codecs

import latexcodec  # noqa: F401  (registers the "ulatex" codec)
from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting import BaseSortingStyle


def _last_names(entry) -> list[str]:
    """Last names as a reader sees them: "Montúfar", "JAX Authors"."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = []
    for person in people:
        last = " ".join(person.prelast_names + person.last_names)
        names.append(codecs.decode(last, "ulatex").replace("{", "").replace("}", ""))
    return names


class AuthorYearTitleOrder(BaseSortingStyle):
    """By the last names as printed (case-insensitive), then year, then title."""

    def sorting_key(self, entry):
        names = " ".join(_last_names(entry)).casefold()
        return (names, entry.fields.get("year", ""), entry.fields.get("title", ""))


class AuthorYearLabels(BaseLabelStyle):
    """Labels as the author-year citations print them."""

    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            names = [n for n in _last_names(entry) if n != "others"]
            if len(names) == 1 and "others" not in _last_names(entry):
                who = names[0]
            elif len(names) == 2 and "others" not in _last_names(entry):
                who = f"{names[0]} and {names[1]}"
            else:
                who = f"{names[0]} et al."
            yield f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearStyle(UnsrtStyle):
    """pybtex's ``unsrt`` entries, sorted by author and labelled author-year."""

    default_label_style = AuthorYearLabels
    default_sorting_style = AuthorYearTitleOrder


def setup(app):
    register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabels)
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
