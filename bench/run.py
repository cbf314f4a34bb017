"""Benchmark relunet against compiled generic autodiff and measured references.

``make bench`` runs this file; its parts are the package ``bench/benchmark``
(see its docstring and bench/README.md). Three groups of cases, each checked
for agreement before it is timed:

- Jacobians (``rn.jacobian``) against TensorFlow and JAX, measured
  references and a rate model, every library on both cores; then what every
  compiled peer runs (compiled again and counted, nothing timed);
- the differential training step (``--training``): relunet's NumPy step
  against the ``tf.function`` step of ``train_twin(backend="tensorflow")``
  and a ``jax.jit`` step, every library on one thread (a process of its own);
- second order (``--second-order``): ``rn.hessian`` and ``rn.hvp`` against
  JAX and TensorFlow.

Writes ``src/relunet/_data/benchmark.json`` (shipped with the package: chapter
6 reads it) and ``bench/results.md``. ``--training``, ``--second-order`` and
``--evidence`` each run one step alone and merge it into the recorded file.

Usage: python bench/run.py [--rounds N] [--quick]
                           [--evidence | --training | --second-order]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import benchmark

HERE = Path(__file__).resolve().parent
RECORDED = HERE.parent / "src" / "relunet" / "_data" / "benchmark.json"
GROUPS = (
    "--training",
    "--second-order",
)  # the groups run after the Jacobians, each alone


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds",
        type=int,
        help="interleaved rounds (default: 40 for the training step, whose "
        "samples are short, 15 for the others)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="3 rounds, results not written"
    )
    step = parser.add_mutually_exclusive_group()
    step.add_argument(
        "--evidence",
        action="store_true",
        help="only compile the Jacobian peers and count what they run (no "
        "timing); merge it into the recorded results",
    )
    step.add_argument(
        "--training",
        action="store_true",
        help="only the training-step cases (one thread each); merge them into "
        "the recorded results",
    )
    step.add_argument(
        "--second-order",
        action="store_true",
        help="only the second-order cases; merge them into the recorded results",
    )
    return parser.parse_args(argv)


def jacobians(args, rounds: int) -> dict:
    """The Jacobian cases, timed (or, with --evidence, the recorded ones) and the
    evidence of what their peers run: the whole record but the other groups."""
    import numpy as np
    from benchmark import cases, evidence, goals, references, report

    if args.evidence:  # the recorded timings; counts and figures from this code
        results = json.loads(RECORDED.read_text())
        inputs = {
            (n, np.dtype(x.dtype).name): (layers, x)
            for n, layers, x, _ in cases.case_inputs()
        }
        for case in results["cases"]:
            layers, x = inputs[case["name"], case["dtype"]]
            rate = case["work"]["write_bytes_per_s"]
            case["work"] = references.case_work(
                layers, x.shape[0], case["mode"], x.dtype
            )
            case["work"]["write_bytes_per_s"] = rate
            case["rate_model_s"] = references.rate_model_s(
                case["work"], results["rates"], x.dtype
            )
            case["figures"] = goals.figures(case)
    else:
        rates = references.machine_rates(rounds)
        results = {
            "environment": report.environment(),
            "rounds": rounds,
            "rates": rates,
            "cases": cases.timed_cases(rounds, rates),
        }
        for case in results["cases"]:
            case["figures"] = goals.figures(case)
        previous = json.loads(RECORDED.read_text()) if RECORDED.exists() else {}
        for group in ("training_step", "second_order"):  # rerun below, or kept
            if group in previous:
                results[group] = previous[group]
    results["goals"] = goals.goal_rows(results)
    evidence.collect_evidence(results)
    results["evidence_environment"] = evidence.evidence_environment()
    return results


def merged(group: str, rounds: int) -> dict:
    """The recorded results with ``group`` timed again in this process."""
    results = json.loads(RECORDED.read_text())
    if group == "training_step":
        from benchmark import training_step

        results[group] = training_step.timed(rounds)
    else:
        from benchmark import second_order

        results[group] = second_order.timed(rounds)
    return results


def main(argv: list[str]) -> int:
    args = arguments(argv)
    default = 40 if args.training else 15
    rounds = 3 if args.quick else (args.rounds or default)
    if args.training:
        benchmark.one_thread()  # before NumPy, TensorFlow and JAX load
        results = merged("training_step", rounds)
    elif args.second_order:
        results = merged("second_order", rounds)
    else:
        results = jacobians(args, rounds)
    from benchmark import report

    text = report.markdown(results)
    print(text)
    if not args.quick:
        RECORDED.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
        (HERE / "results.md").write_text(text)
    if not (args.evidence or args.training or args.second_order):
        # every group in a process of its own: threads are set before loading
        for group in GROUPS:
            extra = ["--quick"] if args.quick else []
            extra += ["--rounds", str(args.rounds)] if args.rounds else []
            subprocess.run([sys.executable, __file__, group, *extra], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
