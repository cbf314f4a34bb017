"""JupyterLab renders the chapters' MyST markup, with nothing to download at launch.

The chapters are MyST notebooks: admonitions, roles ({cite}, {doc}, {eq}) and
labelled equations read as raw text in a stock JupyterLab. The set-up
(`make`, `make book`, `make test`) installs the ``lab`` extra with
``jupyterlab-myst``, so ``make lab`` starts an environment that renders them
and downloads nothing.
"""

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import tomllib
from book_files import ROOT

PREFIX = Path(sys.prefix)


def test_lab_extra_has_the_myst_renderer_and_setup_installs_it():
    metadata = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lab = metadata["project"]["optional-dependencies"]["lab"]
    assert any(requirement.startswith("jupyterlab-myst") for requirement in lab)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert '-e ".[book,test,lab]"' in makefile  # the set-up, not the lab target
    lab_target = makefile.split("\nlab: setup\n", 1)[1].split("\n\n", 1)[0]
    assert "pip" not in lab_target.lower()  # nothing installed at launch


def test_the_myst_extension_is_installed_where_jupyterlab_finds_it():
    pinned = {
        line.split("==")[0]: line.split("==")[1]
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    assert version("jupyterlab-myst") == pinned["jupyterlab-myst"]
    extension = PREFIX / "share" / "jupyter" / "labextensions" / "jupyterlab-myst"
    assert (extension / "package.json").exists()


def test_jupyterlab_accepts_the_myst_extension():
    """JupyterLab checks an extension's shared packages against its own: a
    JupyterLab too new for the pinned jupyterlab-myst lists it as incompatible
    and does not load it (JupyterLab 4.6 with jupyterlab-myst 2.7 did)."""
    listing = subprocess.run(
        [str(PREFIX / "bin" / "jupyter"), "labextension", "list"],
        capture_output=True,
        text=True,
        check=True,
    )
    text = listing.stdout + listing.stderr
    line = next(line for line in text.splitlines() if "jupyterlab-myst v" in line)
    assert "enabled" in line and "OK" in line, line
    assert "not compatible" not in text
