"""Run the experiments chapter 10 quotes and record them with the package.

``make experiments`` runs this file: Huge and Savine's experiments at their
settings (Black-Scholes, the basket in dimensions 1, 7, 20 and 30), the
candidate defaults of ``train_twin``, and delta hedging with learned deltas,
each case repeated five times (``differential/settings.py``). The cases run
in two worker processes of one thread each; every case is deterministic
(its seeds are fixed), so a second run on the same machine writes the same
errors. Writes ``src/relunet/_data/experiments.json``, which chapter 10
reads through ``relunet.recorded_experiments()``; ``tests/test_experiments.py``
recomputes one case of each kind and compares.

Chapter 11 reads the group ``axes`` (twin networks on its spread basket).

Usage: python experiments/run.py [--quick] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
RECORDED = HERE.parent / "src" / "relunet" / "_data" / "experiments.json"
GROUPS = ("black_scholes", "basket", "candidates", "hedging", "axes", "gamma")


def tasks(groups, quick: bool) -> list[tuple]:
    """(group, function name, arguments) for every case, the longest first."""
    from differential import settings as s

    repetitions = 1 if quick else s.REPETITIONS
    todo = []
    for r in range(repetitions):
        if "basket" in groups:
            for d in s.BASKET["sizes"]:
                sizes = s.BASKET["sizes"][d][:1] if quick else None
                todo.append(("basket", "basket_case", (d, r, sizes, True)))
        if "black_scholes" in groups:
            todo.append(("black_scholes", "black_scholes_case", (r, None, True)))
        if "candidates" in groups:
            sizes = s.CANDIDATE_SIZES[:1] if quick else s.CANDIDATE_SIZES
            for name in s.CANDIDATES:
                for d in s.CANDIDATE_DIMENSIONS:
                    for size in sizes:
                        task = (name, d, r, size)
                        todo.append(("candidates", "candidate_case", task))
        if "axes" in groups:
            for size in s.AXES_SIZES[:1] if quick else s.AXES_SIZES:
                todo.append(("axes", "axes_case", (size, r)))
        if "gamma" in groups:
            for size in s.GAMMA_SIZES[:1] if quick else s.GAMMA_SIZES:
                todo.append(("gamma", "gamma_case", (size, r)))
        if "hedging" in groups:
            for d in s.HEDGING["dimensions"]:
                args = (d, r, 1024, (4, 52)) if quick else (d, r)
                todo.append(("hedging", "hedging_case", args))
    weight = {
        "basket": 0,
        "hedging": 1,
        "candidates": 2,
        "axes": 3,
        "gamma": 4,
        "black_scholes": 5,
    }
    size = lambda task: task[2][0] if isinstance(task[2][0], int) else task[2][3]
    return sorted(todo, key=lambda task: (weight[task[0]], -size(task)))


def run_case(task):
    group, name, args = task
    from differential import cases

    start = time.perf_counter()
    rows = getattr(cases, name)(*args)
    return group, rows, time.perf_counter() - start


def environment() -> dict:
    import numpy as np
    from differential import cpu_model

    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpu": cpu_model(),
        "workers": 2,
        "threads_per_worker": 1,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small repetition")
    parser.add_argument("--only", nargs="+", choices=GROUPS, help="these groups")
    parser.add_argument("--output", type=Path, default=RECORDED)
    options = parser.parse_args(argv)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"
    sys.path.insert(0, str(HERE))
    os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE), *sys.path[1:2]])
    groups = options.only or GROUPS
    todo = tasks(groups, options.quick)
    results = {group: [] for group in groups}
    seconds = {group: 0.0 for group in groups}
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        for k, (group, rows, spent) in enumerate(pool.map(run_case, todo), 1):
            results[group].extend(rows)
            seconds[group] += spent
            print(f"{k}/{len(todo)} {group} {spent:.1f} s", flush=True)
    recorded = {}
    if options.output.exists() and options.only:
        recorded = json.loads(options.output.read_text())
    recorded.setdefault("runs", {})
    for group in groups:
        recorded[group] = results[group]
        recorded["runs"][group] = {
            **environment(),
            "cpu_seconds": round(seconds[group], 1),
            "quick": options.quick,
        }
    from differential import settings

    recorded["settings"] = json.loads(json.dumps(settings.record()))
    options.output.write_text(json.dumps(recorded, indent=1) + "\n")
    print(f"wrote {options.output} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
