"""The benchmark's own logic (bench/run.py) and the recorded run it wrote.

Timings are not tested here (they belong to ``make bench``); what is tested
is that the references compute what they claim, that the figures and goal
verdicts follow from the timings, and that the recorded run has every
case, peer and reference the book quotes.
"""

import os

import numpy as np
import pytest
from book_files import load_script

import relunet as rn

CORETYPE = os.environ.get("OPENBLAS_CORETYPE")
os.environ["OPENBLAS_CORETYPE"] = "Haswell"  # the script drops and records it
bench = load_script("run", folder="bench")
if CORETYPE is None:
    os.environ.pop("OPENBLAS_CORETYPE", None)
else:
    os.environ["OPENBLAS_CORETYPE"] = CORETYPE

RECORDED = rn.recorded_benchmark()


def test_a_forced_blas_kernel_is_dropped_and_recorded():
    assert bench.DROPPED.get("OPENBLAS_CORETYPE") == "Haswell"


@pytest.mark.parametrize(
    "widths",
    [
        [6, 7, 2, 5, 4],
        [3, 5, 6, 4, 2],
        [2, 3, 9],
        [4, 4, 5, 1],
        [5, 3],
        [9, 9, 1, 9, 9],
    ],
)
@pytest.mark.parametrize("mode", ["forward", "reverse", "optimal", "auto"])
def test_unmasked_chain_is_the_jacobian_without_masks(widths, mode):
    layers = rn.he_normal(widths, seed=0, bias_std=0.1)
    x = np.random.default_rng(0).normal(size=(5, widths[0]))
    run = bench.unmasked_chain(x, layers, mode)
    run()
    out = run.out
    linear = [rn.Dense(layer.W, layer.b, "linear") for layer in layers]
    np.testing.assert_allclose(out, rn.jacobian(x, linear), rtol=1e-12)


def test_case_work_counts_the_forward_pass_and_the_chain():
    layers = rn.he_normal([3, 5, 4, 2], seed=0)
    work = bench.case_work(layers, 10, "reverse", np.float32)
    forward_pass = 5 * 3 + 4 * 5 + 2 * 4
    assert work["flops"] == 2 * 10 * (
        forward_pass + rn.jacobian_cost(layers, "reverse")
    )
    assert work["output_bytes"] == 10 * 2 * 3 * 4


def synthetic_case(relunet_s, peer_s, reference_s):
    timings = {name: {"min_s": s} for name, s in zip(bench.PEERS, peer_s)}
    timings["relunet"] = {"min_s": relunet_s}
    timings["write_floor"] = {"min_s": reference_s}
    return {
        "name": "one layer, mid",
        "dtype": "float32",
        "mode": "auto",
        "timings": timings,
        "roofline_s": reference_s / 2,
    }


def test_figures_take_the_fastest_peer():
    case = synthetic_case(2.0, [8.0, 3.0, 5.0, 4.0], 1.0)
    figures = bench.figures(case)
    assert figures["best_peer"] == "tf_xla"
    assert figures["speed_up_over_best_peer"] == pytest.approx(1.5)
    assert figures["time_over_write_floor"] == pytest.approx(2.0)
    assert figures["time_over_roofline"] == pytest.approx(4.0)


@pytest.mark.parametrize("relunet_s, met", [(2.0, True), (4.0, False)])
def test_goal_verdicts_follow_the_figures(relunet_s, met):
    case = synthetic_case(relunet_s, [8.0, 3.0, 5.0, 4.0], 1.0)
    case["figures"] = bench.figures(case)
    rows = [
        r
        for r in bench.goal_rows({"cases": [case]})
        if r["figure"] == "speed_up_over_best_peer"
    ]
    assert [r["met"] for r in rows] == [met]


def test_the_recorded_run_has_every_case_peer_and_reference():
    cases = RECORDED["cases"]
    names = {c["name"].split(" (")[0] for c in cases}
    assert names == {f"one layer, {s}" for s in bench.SINGLE_SIZES} | set(
        bench.DEEP_CASES
    )
    assert len(cases) == 2 * len(bench.SINGLE_SIZES) + len(bench.DEEP_CASES)
    for case in cases:
        reference = "write_floor" if len(case["widths"]) == 2 else "unmasked_chain"
        assert set(bench.PEERS) | {reference} <= set(case["timings"])
        assert case["roofline_s"] > 0


def test_the_recorded_figures_and_verdicts_follow_from_its_timings():
    for case in RECORDED["cases"]:
        recomputed = bench.figures(case)
        for key, value in case["figures"].items():
            assert (
                recomputed[key] == pytest.approx(value)
                if isinstance(value, float)
                else recomputed[key] == value
            ), (case["name"], key)
    assert RECORDED["goals"] == bench.goal_rows(RECORDED)
    assert len(RECORDED["goals"]) == sum(
        1 + (g[0].startswith("one layer")) for g in bench.GOALS
    )


def test_the_recorded_environment_names_the_blas_kernel():
    env = RECORDED["environment"]
    assert env["numpy_blas"] and all(b["architecture"] for b in env["numpy_blas"])
    for key in (
        "cpu",
        "jax",
        "tensorflow",
        "tensorflow_onednn",
        "blas_environment_dropped",
    ):
        assert key in env
