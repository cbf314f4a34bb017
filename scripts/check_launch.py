"""Check that every chapter runs the way readers launch it, offline.

``binder``: what the Binder button does. A fresh virtual environment gets
only what ``binder/requirements.txt`` lists (plus the Jupyter kernel and
nbclient that repo2docker's image already has), ``binder/postBuild`` runs in
a copy of the repository, and every chapter is executed in that copy.

``standalone``: what Colab or a downloaded notebook does. A fresh virtual
environment gets only numpy, matplotlib, tensorflow-cpu, ipykernel and
nbclient; each chapter is copied alone into an empty folder and executed
there, its set-up cell installing relunet from ``RELUNET_BOOK_SOURCE``, here
the checkout.

Either way, every chapter must run top to bottom without an error; the
script also reports how many cells' outputs differ from the stored ones.
Usage: python scripts/check_launch.py binder|standalone   (make check-binder,
make check-standalone). Takes a few minutes: it installs TensorFlow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from execute_notebooks import ENVIRONMENT  # noqa: E402  the chapters' deterministic environment

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints.txt"

# Executed by the fresh environment's Python: run one notebook, report outputs.
RUNNER = r"""
import json, sys
import nbformat
from nbclient import NotebookClient
path, workdir = sys.argv[1], sys.argv[2]
nb = nbformat.read(path, as_version=4)
stored = [[o.get("text", "") for o in c.outputs if o.output_type == "stream"] for c in nb.cells if c.cell_type == "code"]
for cell in nb.cells:
    if cell.cell_type == "code":
        cell.outputs = []
NotebookClient(nb, kernel_name="python3", timeout=900, resources={"metadata": {"path": workdir}}).execute()
fresh = [["".join(o.get("text", "") for o in c.outputs if o.output_type == "stream")] for c in nb.cells if c.cell_type == "code"]
stored = [["".join(s)] for s in stored]
print(json.dumps({"cells": len(fresh), "differ": sum(a != b for a, b in zip(stored, fresh))}))
"""


def run(command, **kwargs):
    return subprocess.run(command, check=True, **kwargs)


def make_venv(where: Path, requirements: list[str]) -> Path:
    run([sys.executable, "-m", "venv", str(where)])
    python = where / "bin" / "python"
    run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-c",
            str(CONSTRAINTS),
            *requirements,
        ]
    )
    return python


def execute(python: Path, notebook: Path, workdir: Path, extra_env: dict) -> dict:
    env = {**os.environ, **ENVIRONMENT, **extra_env}
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [str(python), "-c", RUNNER, str(notebook), str(workdir)],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"{notebook.name} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def copy_repository(target: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    for name in files:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)


def check_binder(work: Path) -> list[tuple[str, dict]]:
    repo = work / "repo"
    copy_repository(repo)
    requirements = [
        line
        for line in (repo / "binder" / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    python = make_venv(work / "venv", requirements + ["ipykernel", "nbclient"])
    env = {**os.environ, "PATH": f"{python.parent}:{os.environ['PATH']}"}
    run(["bash", "binder/postBuild"], cwd=repo, env=env)
    return [
        (nb.name, execute(python, nb, nb.parent, {}))
        for nb in sorted((repo / "chapters").glob("*.ipynb"))
    ]


def check_standalone(work: Path) -> list[tuple[str, dict]]:
    python = make_venv(
        work / "venv",
        ["numpy", "matplotlib", "tensorflow-cpu", "ipykernel", "nbclient"],
    )
    reports = []
    for chapter in sorted((ROOT / "chapters").glob("*.ipynb")):
        alone = work / chapter.stem
        alone.mkdir()
        shutil.copy2(chapter, alone / chapter.name)
        reports.append(
            (
                chapter.name,
                execute(
                    python,
                    alone / chapter.name,
                    alone,
                    {"RELUNET_BOOK_SOURCE": str(ROOT)},
                ),
            )
        )
        # each chapter starts without relunet, as in a fresh Colab runtime
        run([str(python), "-m", "pip", "uninstall", "--quiet", "--yes", "relunet"])
    return reports


def main(argv: list[str]) -> int:
    if argv not in (["binder"], ["standalone"]):
        print(__doc__)
        return 2
    start = time.time()
    with tempfile.TemporaryDirectory(prefix=f"relunet-{argv[0]}-") as tmp:
        reports = (check_binder if argv[0] == "binder" else check_standalone)(Path(tmp))
    for name, report in reports:
        print(
            f"{name}: ran without error; {report['differ']} of {report['cells']} cells "
            "print differently from the stored outputs"
        )
    print(f"{argv[0]}: every chapter ran, in {time.time() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
