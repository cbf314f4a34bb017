"""The licences and the citation file: present, consistent and readable by tools."""

import tomllib
import yaml
from book_files import ROOT


def test_code_is_mit_and_says_who_holds_it():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 The relunet-book authors" in text
    metadata = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert metadata["project"]["license"] == "MIT"


def test_text_and_figures_are_cc_by_4():
    text = (ROOT / "LICENSE-CONTENT").read_text(encoding="utf-8")
    assert "Creative Commons Attribution 4.0 International" in text
    assert "Section 1 – Definitions." in text  # the full legal code, not a link
    assert "see LICENSE" in text


def test_citation_file_names_both_licences_and_the_repository():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0"
    assert citation["license"] == ["MIT", "CC-BY-4.0"]
    assert citation["repository-code"] == config["repository"]["url"]
    assert {"title", "authors", "message"} <= set(citation)


def test_footer_of_every_page_names_the_licences():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    footer = config["html"]["extra_footer"]
    assert "CC BY 4.0" in footer and "MIT" in footer
