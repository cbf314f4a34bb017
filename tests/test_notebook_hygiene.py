"""Notebook hygiene: what nbval and a reader would trip over.

The chapters are produced by ``make notebooks`` only (a fresh kernel, top to
bottom, canonical JSON). These checks fail when a notebook was saved from a
hand-run session, stores an error or stderr, or leaks a machine detail.
"""

import json
import re

import nbformat
import pytest
import yaml
from book_files import ROOT, load_script, toc_files

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
MACHINE_PATH = re.compile(
    r"(/root/|/home/\w|/Users/\w|/tmp/|/work/|site-packages|[A-Z]:\\\\)"
)
OBJECT_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")
ALLOWED_NOTEBOOK_METADATA = {"kernelspec", "language_info"}
ALLOWED_CELL_METADATA = {"tags", "mystnb"}


def test_there_are_chapters():
    assert len(CHAPTERS) >= 2


def test_toc_lists_exactly_the_chapters():
    listed = {f for f in toc_files() if f.startswith("chapters/")}
    on_disk = {f"chapters/{p.stem}" for p in CHAPTERS}
    assert listed == on_disk


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
class TestChapter:
    def test_file_name_shows_reading_order(self, path):
        assert re.fullmatch(r"(\d{2}|A\d)_[a-z0-9_]+\.ipynb", path.name), (
            path.name
        )  # 01_..., A1_...

    def test_is_valid_and_canonical(self, path):
        text = path.read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
        canonical = nbformat.writes(nb)
        assert text.rstrip("\n") == canonical.rstrip("\n"), (
            "not in nbformat's canonical form"
        )

    def test_first_cell_is_a_title(self, path):
        nb = nbformat.read(path, as_version=4)
        first = nb.cells[0]
        assert first.cell_type == "markdown"
        assert re.match(r"# \S", first.source), first.source[:60]

    def test_execution_counts_are_one_to_n(self, path):
        nb = nbformat.read(path, as_version=4)
        counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
        assert counts == list(range(1, len(counts) + 1))

    def test_no_errors_or_stderr(self, path):
        nb = nbformat.read(path, as_version=4)
        for k, cell in enumerate(nb.cells):
            for output in cell.get("outputs", []):
                assert output.output_type != "error", f"cell {k} stores an error"
                assert not (
                    output.output_type == "stream" and output.name == "stderr"
                ), f"cell {k} stores stderr: {output.text[:200]!r}"

    def test_no_machine_details_in_outputs(self, path):
        nb = nbformat.read(path, as_version=4)
        for k, cell in enumerate(nb.cells):
            for output in cell.get("outputs", []):
                text = json.dumps(
                    {key: value for key, value in output.items() if key != "data"}
                ) + json.dumps(
                    {
                        m: v
                        for m, v in output.get("data", {}).items()
                        if not m.startswith("image/")
                    }
                )
                assert not MACHINE_PATH.search(text), (
                    f"cell {k}: {MACHINE_PATH.search(text).group(0)}"
                )
                assert not OBJECT_ADDRESS.search(text), (
                    f"cell {k} shows an object address"
                )

    def test_no_volatile_metadata(self, path):
        nb = nbformat.read(path, as_version=4)
        assert set(nb.metadata) <= ALLOWED_NOTEBOOK_METADATA
        assert set(nb.metadata.get("language_info", {})) <= {"name"}
        for k, cell in enumerate(nb.cells):
            assert set(cell.metadata) <= ALLOWED_CELL_METADATA, (
                f"cell {k}: {set(cell.metadata)}"
            )

    def test_ends_with_exercises(self, path):
        nb = nbformat.read(path, as_version=4)
        markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert "## Exercises" in markdown
        assert markdown.count(":::{exercise}") >= 2

    def test_has_a_verify_in_code_exercise(self, path):
        exercises = [text for _, text in exercise_texts(path)]
        assert any(re.search(r"verify (it )?in code", text, re.I) for text in exercises)

    def test_every_solution_is_executed_code_that_asserts(self, path):
        nb = nbformat.read(path, as_version=4)
        markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert not re.search(r":{3,}\{solution\}", markdown), (
            "a {solution} with no executed code"
        )
        labels = [label for label, _ in exercise_texts(path)]
        solutions = solution_cells(nb)
        assert sorted(solutions) == sorted(labels), (
            "every exercise needs exactly one gated solution"
        )
        for label, cells in solutions.items():
            code = [c for c in cells if c.cell_type == "code"]
            assert code, f"the solution of {label} has no code cell"
            assert any(c.execution_count is not None for c in code), (
                f"{label}: its code is not executed"
            )
            assert any(
                re.search(r"\bassert\b|np\.testing\.assert_", c.source) for c in code
            ), f"the solution of {label} asserts nothing"

    def test_has_an_asserting_verification_cell(self, path):
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "np.testing.assert_" in code


def exercise_texts(path) -> list[tuple[str, str]]:
    """(label, text) of every ``{exercise}`` directive of a chapter."""
    nb = nbformat.read(path, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    found = re.findall(
        r":{3,}\{exercise\}\s*\n:label: ([\w-]+)\n(.*?)\n:{3,}\s*$",
        markdown,
        re.S | re.M,
    )
    assert len(found) == markdown.count(":::{exercise}"), "an exercise without a label"
    return found


def solution_cells(nb) -> dict[str, list]:
    """The cells between each ``solution-start`` and its ``solution-end``, by exercise
    label.
    """
    solutions, current = {}, None
    marker = re.compile(r":{3,}\{solution-(start|end)\}[ \t]*([\w-]*)")
    for cell in nb.cells:
        events = marker.findall(cell.source) if cell.cell_type == "markdown" else []
        if current is not None and not events:
            solutions[current].append(cell)
        for kind, label in events:  # in the order they appear in the cell
            if kind == "start":
                assert current is None, f"solution of {label} starts inside another"
                assert label not in solutions, f"two solutions of {label}"
                current, solutions[label] = label, []
            else:
                assert current is not None, "solution-end without a solution-start"
                current = None
    assert current is None, f"the solution of {current} never ends"
    return solutions


def test_github_workflow_runs_the_ci_entry_point():
    workflow = yaml.safe_load(
        (ROOT / ".github" / "workflows" / "book.yml").read_text(encoding="utf-8")
    )
    triggers = workflow[True]  # YAML reads the key `on` as True
    assert {"push", "pull_request", "schedule"} <= set(triggers)
    steps = [step.get("run", "") for step in workflow["jobs"]["test"]["steps"]]
    assert "bash .ci/run" in steps
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    publish = workflow["jobs"]["publish"]
    assert publish["needs"] == "test" and "refs/heads/main" in publish["if"]
    assert any(
        step.get("with", {}).get("path") == "_build/html" for step in publish["steps"]
    )
    # The PDF is made before the book, so that the book copies it in
    # (_ext/book_fixes.py).
    script = "\n".join(step.get("run", "") for step in publish["steps"])
    assert script.index("make pdf") < script.index("make book")
    # Every make target the workflow and .ci/run call exists in the Makefile.
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for target in re.findall(r"make (\w+)", script + "\n" + ci):
        assert re.search(rf"^{target}:", makefile, re.M), (
            f"make {target}: no such target"
        )
    # No snap-shim Chromium on GitHub's runners: the workflow names the runner's Chrome.
    assert workflow["env"]["CHROMIUM"] == "/usr/bin/google-chrome"
    assert "CHROMIUM:-" in ci


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_runs_on_its_own(path):
    """The set-up cell comes first, and nothing reads a file outside the chapter."""
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    setup = load_script("setup_cell")
    assert code[0] == setup.render(), (
        "the first code cell must be scripts/setup_cell.py's (run it)"
    )
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert first.metadata.get("tags") == setup.TAGS, (
        "the set-up cell is left out of the pages (run scripts/setup_cell.py)"
    )
    assert setup.package_source() in code[0]
    assert all("from myst_nb" not in source for source in code[1:]), (
        "glue comes from the set-up cell"
    )
    for source in code:
        assert not re.search(r"""["']\.\./""", source), (
            "a chapter must not read files outside itself"
        )
