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
    layers = rn.he_normal([3, 5, 4, 2], seed=0)  # linear output: z_L not needed
    work = bench.case_work(layers, 10, "reverse", np.float32)
    forward_pass = 5 * 3 + 4 * 5
    assert work["flops"] == 2 * 10 * (
        forward_pass + rn.jacobian_cost(layers, "reverse")
    )
    assert work["output_bytes"] == 10 * 2 * 3 * 4


def synthetic_case(relunet_s, peer_s, reference_s):
    timings = {name: {"min_s": s} for name, s in zip(bench.PEERS, peer_s)}
    timings["relunet"] = {"min_s": relunet_s}
    timings["write_reference"] = {"min_s": reference_s}
    return {
        "name": "one layer, mid",
        "dtype": "float32",
        "mode": "auto",
        "timings": timings,
        "rate_model_s": reference_s / 2,
    }


def test_figures_take_the_fastest_peer():
    case = synthetic_case(2.0, [8.0, 3.0, 5.0, 4.0], 1.0)
    figures = bench.figures(case)
    assert figures["best_peer"] == "tf_xla"
    assert figures["speed_up_over_best_peer"] == pytest.approx(1.5)
    assert figures["time_over_write_reference"] == pytest.approx(2.0)
    assert figures["time_over_rate_model"] == pytest.approx(4.0)


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
        reference = "write_reference" if len(case["widths"]) == 2 else "unmasked_chain"
        assert set(bench.PEERS) | {reference} <= set(case["timings"])
        assert case["rate_model_s"] > 0


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


# --- what the compiled peers run ---------------------------------------------------

HLO = """HloModule m, entry_computation_layout={(f32[8,3]{1,0})->f32[8,2,3]{2,1,0}}

%fused_product (p0: f32[8,3], p1: f32[3,4]) -> f32[8,4] {
  %p0 = f32[8,3]{1,0} parameter(0)
  %p1 = f32[3,4]{1,0} parameter(1)
  ROOT %dot.1 = f32[8,4]{1,0} dot(%p0, %p1), lhs_contracting_dims={1}, rhs_contracting_dims={0}
}

%fused_mask (q0: f32[8,4]) -> f32[8,4] {
  %q0 = f32[8,4]{1,0} parameter(0)
  %zero = f32[] constant(0)
  %zeros = f32[8,4]{1,0} broadcast(%zero), dimensions={}
  %gt = pred[8,4]{1,0} compare(%q0, %zeros), direction=GT
  ROOT %select.1 = f32[8,4]{1,0} select(%gt, %q0, %zeros)
}

ENTRY %main (x: f32[8,3]) -> f32[8,2,3] {
  %x = f32[8,3]{1,0} parameter(0)
  %w = f32[3,4]{1,0} constant({...})
  %v = f32[4,6]{1,0} constant({...})
  %product = f32[8,4]{1,0} fusion(%x, %w), kind=kCustom, calls=%fused_product
  %mask = f32[8,4]{1,0} fusion(%product), kind=kLoop, calls=%fused_mask, backend_config={"outer_dimension_partitions":["2"]}
  %dot.2 = f32[8,6]{1,0} dot(%mask, %v), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  ROOT %out = f32[8,2,3]{2,1,0} bitcast(%dot.2)
}
"""  # noqa: E501 (HLO lines as XLA prints them)


def test_hlo_summary_counts_products_passes_and_masks():
    summary = bench.hlo_summary(HLO, full_pass_elements=32)
    assert summary["passes"] == 3  # two products and one mask; the bitcast is free
    assert summary["fusions"] == 2
    assert summary["matrix_product_passes"] == 2
    assert summary["matrix_product_flops"] == 2 * (8 * 4 * 3 + 8 * 6 * 4)
    assert summary["elementwise_passes"] == summary["mask_passes"] == 1
    assert summary["mask_passes_writing_full_arrays"] == 1
    assert summary["products_fused_with_a_mask"] == 0
    assert summary["mask_threads"] == [2]
    assert bench.hlo_summary(HLO, 33)["mask_passes_writing_full_arrays"] == 0


def test_full_pass_elements_is_one_partial_product_of_the_better_order():
    assert bench.full_pass_elements([64, 256, 256, 64], 256) == 256 * 64 * 256
    assert bench.full_pass_elements([256, 256], 1024) == 1024 * 256 * 256


def test_the_hlo_of_a_compiled_peer_matches_xla_cost_analysis():
    # a small case compiled here: the products counted in the optimized HLO
    # are XLA's own flop count up to its elementwise operations
    layers = rn.he_normal([6, 16, 16, 3], seed=0, bias_std=0.1, dtype=np.float32)
    x = np.random.default_rng(0).normal(size=(8, 6)).astype(np.float32)
    evidence = bench.peer_evidence(layers, x)
    assert set(evidence) == set(bench.PEERS)
    for name in ("jax_jacrev", "jax_jacfwd"):
        e = evidence[name]
        assert 0 < e["matrix_product_flops"] <= e["xla_flops"]
        assert e["xla_flops"] < 1.5 * e["matrix_product_flops"]
    assert evidence["tf_xla"]["matrix_product_passes"] >= 3
    assert evidence["tf_graph"]["graph_operations"]["MatMul"] >= 3


PEER_KEYS = {
    "matrix_product_flops",
    "matrix_product_passes",
    "mask_passes",
    "mask_passes_writing_full_arrays",
    "products_fused_with_a_mask",
    "mask_threads",
}


def test_the_recorded_run_has_the_evidence_for_every_peer_and_case():
    for case in RECORDED["cases"]:
        evidence = case["evidence"]
        assert set(evidence) == set(bench.PEERS), case["name"]
        assert not evidence["tf_graph"]["compiled_by_xla"]
        assert evidence["tf_graph"]["graph_operations"]
        for name in ("tf_xla", "jax_jacrev", "jax_jacfwd"):
            assert PEER_KEYS <= set(evidence[name]), (case["name"], name)
            assert evidence[name]["matrix_product_flops"] > 0
        for name in ("jax_jacrev", "jax_jacfwd"):
            assert evidence[name]["xla_flops"] >= evidence[name]["matrix_product_flops"]
            assert evidence[name]["xla_bytes_accessed"] > 0
    assert "evidence_environment" in RECORDED


def test_the_recorded_work_and_rate_model_follow_from_this_code():
    inputs = {
        (name, np.dtype(x.dtype).name): (layers, x, mode)
        for name, layers, x, mode in bench.case_inputs()
    }
    for case in RECORDED["cases"]:
        layers, x, mode = inputs[case["name"], case["dtype"]]
        work = bench.case_work(layers, x.shape[0], mode, x.dtype)
        assert {k: case["work"][k] for k in work} == work, case["name"]
        assert case["rate_model_s"] == pytest.approx(
            bench.rate_model_s(case["work"], RECORDED["rates"], x.dtype)
        )
