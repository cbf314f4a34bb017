"""Check that the chapters' stored outputs survive another machine's last bits.

Another CPU runs other kernels: TensorFlow's results and the BLAS's change in
their last bits, and a stored output that carries those bits fails strict
nbval there. No machine here is another CPU, but three perturbations change
the last bits the same way, and each must leave every stored output as it is:

- ``onednn``: TensorFlow's oneDNN kernels on (``TF_ENABLE_ONEDNN_OPTS=1``), which
  changes TensorFlow's bits;
- ``sandybridge``: NumPy's OpenBLAS on an older kernel
  (``OPENBLAS_CORETYPE=Sandybridge``), which changes NumPy's bits;
- ``two-threads``: two BLAS and TensorFlow threads instead of one, which
  changes the order of some sums.

The chapters switch oneDNN off only when the caller has not chosen
(``os.environ.setdefault``), so that the first perturbation reaches them; a
test in ``tests/test_stored_digits.py`` keeps it so. Each runs strict nbval
on every chapter (``pytest --nbval``, the settings of
``pyproject.toml``), in two processes as ``make test`` does. Usage:
``python scripts/check_portable.py [onednn|sandybridge|two-threads ...]``
(default: all three). Prints the time of each and exits non-zero if any
fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREADS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)

#: Each perturbation: the environment variables it sets.
PERTURBATIONS = {
    "onednn": {"TF_ENABLE_ONEDNN_OPTS": "1"},
    "sandybridge": {"OPENBLAS_CORETYPE": "Sandybridge"},
    "two-threads": dict.fromkeys(THREADS, "2"),
}


def environment(name: str) -> dict[str, str]:
    """The deterministic environment of the Makefile, with one perturbation."""
    env = dict(os.environ)
    env.update(
        {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
        | dict.fromkeys(THREADS, "1")
        | {"PYTHONHASHSEED": "0"}
    )
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    env.update(PERTURBATIONS[name])
    return env


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in PERTURBATIONS]
    if unknown:
        print(f"unknown perturbation {unknown}; choose from {list(PERTURBATIONS)}")
        return 2
    chapters = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("chapters/*.ipynb"))
    failed = []
    for name in names or list(PERTURBATIONS):
        settings = " ".join(f"{k}={v}" for k, v in PERTURBATIONS[name].items())
        print(f"== {name}: strict nbval of {len(chapters)} chapters with {settings}")
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadfile", "-q"]
            + chapters,
            cwd=ROOT,
            env=environment(name),
        )
        seconds = time.perf_counter() - start
        print(
            f"== {name}: {'passed' if result.returncode == 0 else 'FAILED'}, "
            f"{seconds:.0f} s"
        )
        if result.returncode != 0:
            failed.append(name)
    if failed:
        print("stored outputs that depend on the machine, under:", ", ".join(failed))
        return 1
    print("every chapter passed strict nbval under every perturbation")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
