"""Every line a reader sees is linted and formatted by ruff (see pyproject.toml).

The package, the tests, the benchmark, the scripts and the chapters' code
cells: 88 characters at most, the width of the book's code box at a
1280-pixel-wide window.
"""

import subprocess
import sys
from pathlib import Path

from book_files import ROOT

RUFF = Path(sys.executable).parent / "ruff"


def run_ruff(*args):
    return subprocess.run([str(RUFF), *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_finds_nothing_to_lint():
    result = run_ruff("check", ".")
    assert result.returncode == 0, result.stdout[-3000:]


def test_ruff_formatting_is_applied():
    result = run_ruff("format", "--check", ".")
    assert result.returncode == 0, result.stdout[-3000:]
