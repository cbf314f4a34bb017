"""The benchmark's own logic (bench/benchmark) and the recorded run it wrote.

Timings are not tested here (they belong to ``make bench``); what is tested
is that the references compute what they claim, that the figures and goal
verdicts follow from the timings, and that the recorded run has every
case, peer and reference the book quotes.
"""

import json
import os

import numpy as np
import pytest
from book_files import load_bench, load_script

import relunet as rn

CORETYPE = os.environ.get("OPENBLAS_CORETYPE")
os.environ["OPENBLAS_CORETYPE"] = "Haswell"  # the package drops and records it
benchmark = load_bench()
if CORETYPE is None:
    os.environ.pop("OPENBLAS_CORETYPE", None)
else:
    os.environ["OPENBLAS_CORETYPE"] = CORETYPE

from benchmark import (  # noqa: E402 (after the environment is set)
    cases,
    evidence,
    goals,
    peers,
    references,
)

RECORDED = rn.recorded_benchmark()


def test_a_forced_blas_kernel_is_dropped_and_recorded():
    assert benchmark.DROPPED.get("OPENBLAS_CORETYPE") == "Haswell"


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
    run = references.unmasked_chain(x, layers, mode)
    run()
    out = run.out
    linear = [rn.Dense(layer.W, layer.b, "linear") for layer in layers]
    np.testing.assert_allclose(out, rn.jacobian(x, linear), rtol=1e-12)


def test_case_work_counts_the_forward_pass_and_the_chain():
    layers = rn.he_normal([3, 5, 4, 2], seed=0)  # linear output: z_L not needed
    work = references.case_work(layers, 10, "reverse", np.float32)
    forward_pass = 5 * 3 + 4 * 5
    assert work["flops"] == 2 * 10 * (
        forward_pass + rn.jacobian_cost(layers, "reverse")
    )
    assert work["output_bytes"] == 10 * 2 * 3 * 4


def synthetic_case(relunet_s, peer_s, reference_s):
    timings = {name: {"min_s": s} for name, s in zip(peers.PEERS, peer_s)}
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
    figures = goals.figures(case)
    assert figures["best_peer"] == "tf_xla"
    assert figures["speed_up_over_best_peer"] == pytest.approx(1.5)
    assert figures["time_over_write_reference"] == pytest.approx(2.0)
    assert figures["time_over_rate_model"] == pytest.approx(4.0)


@pytest.mark.parametrize("relunet_s, met", [(2.0, True), (4.0, False)])
def test_goal_verdicts_follow_the_figures(relunet_s, met):
    case = synthetic_case(relunet_s, [8.0, 3.0, 5.0, 4.0], 1.0)
    case["figures"] = goals.figures(case)
    rows = [
        r
        for r in goals.goal_rows({"cases": [case]})
        if r["figure"] == "speed_up_over_best_peer"
    ]
    assert [r["met"] for r in rows] == [met]


def test_the_recorded_run_has_every_case_peer_and_reference():
    recorded = RECORDED["cases"]
    names = {c["name"].split(" (")[0] for c in recorded}
    assert names == {f"one layer, {s}" for s in cases.SINGLE_SIZES} | set(
        cases.DEEP_CASES
    )
    assert len(recorded) == 2 * len(cases.SINGLE_SIZES) + len(cases.DEEP_CASES)
    for case in recorded:
        reference = "write_reference" if len(case["widths"]) == 2 else "unmasked_chain"
        assert set(peers.PEERS) | {reference} <= set(case["timings"])
        assert case["rate_model_s"] > 0


def test_the_recorded_figures_and_verdicts_follow_from_its_timings():
    for case in RECORDED["cases"]:
        recomputed = goals.figures(case)
        for key, value in case["figures"].items():
            assert (
                recomputed[key] == pytest.approx(value)
                if isinstance(value, float)
                else recomputed[key] == value
            ), (case["name"], key)
    assert RECORDED["goals"] == goals.goal_rows(RECORDED)
    assert len(RECORDED["goals"]) == sum(
        1 + (g[0].startswith("one layer")) for g in goals.GOALS
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
    summary = evidence.hlo_summary(HLO, full_pass_elements=32)
    assert summary["passes"] == 3  # two products and one mask; the bitcast is free
    assert summary["fusions"] == 2
    assert summary["matrix_product_passes"] == 2
    assert summary["matrix_product_flops"] == 2 * (8 * 4 * 3 + 8 * 6 * 4)
    assert summary["elementwise_passes"] == summary["mask_passes"] == 1
    assert summary["mask_passes_writing_full_arrays"] == 1
    assert summary["products_fused_with_a_mask"] == 0
    assert summary["mask_threads"] == [2]
    assert evidence.hlo_summary(HLO, 33)["mask_passes_writing_full_arrays"] == 0


def test_full_pass_elements_is_one_partial_product_of_the_better_order():
    assert evidence.full_pass_elements([64, 256, 256, 64], 256) == 256 * 64 * 256
    assert evidence.full_pass_elements([256, 256], 1024) == 1024 * 256 * 256


def test_the_hlo_of_a_compiled_peer_matches_xla_cost_analysis():
    # a small case compiled here: the products counted in the optimized HLO
    # are XLA's own flop count up to its elementwise operations
    layers = rn.he_normal([6, 16, 16, 3], seed=0, bias_std=0.1, dtype=np.float32)
    x = np.random.default_rng(0).normal(size=(8, 6)).astype(np.float32)
    found = evidence.peer_evidence(layers, x)
    assert set(found) == set(peers.PEERS)
    for name in ("jax_jacrev", "jax_jacfwd"):
        e = found[name]
        assert 0 < e["matrix_product_flops"] <= e["xla_flops"]
        assert e["xla_flops"] < 1.5 * e["matrix_product_flops"]
    assert found["tf_xla"]["matrix_product_passes"] >= 3
    assert found["tf_graph"]["graph_operations"]["MatMul"] >= 3


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
        assert set(evidence) == set(peers.PEERS), case["name"]
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
        for name, layers, x, mode in cases.case_inputs()
    }
    for case in RECORDED["cases"]:
        layers, x, mode = inputs[case["name"], case["dtype"]]
        work = references.case_work(layers, x.shape[0], mode, x.dtype)
        assert {k: case["work"][k] for k in work} == work, case["name"]
        assert case["rate_model_s"] == pytest.approx(
            references.rate_model_s(case["work"], RECORDED["rates"], x.dtype)
        )


# --- the differential training step --------------------------------------------


def small_training_case(n_in=3, batch=16, seed=0):
    """A 4 x 20 softplus twin network and a batch, as the cases build them."""
    rng = np.random.default_rng(seed)
    layers = [
        rn.Dense(layer.W, rng.normal(0, 0.1, layer.n_out), layer.activation)
        for layer in rn.training.glorot_uniform(n_in, (20,) * 4, "softplus", seed)
    ]
    data = (
        rng.normal(size=(batch, n_in)),
        rng.normal(size=batch),
        rng.normal(size=(batch, n_in)),
        rng.uniform(0.3, 3.0, size=n_in),
        1.0 / (1.0 + n_in),
    )
    return layers, data


def test_relunets_timed_step_is_the_step_train_twin_takes():
    from benchmark import training_step

    layers, data = small_training_case()
    x, y, dydx, lambda_j, alpha = data
    step = training_step.NumpyStep(layers, data, steps=3)
    for _ in range(3):
        step()
    # _train_numpy on the whole batch each step (rows in another order: the
    # sums over the batch differ in their last bits)
    rates = rn.training.cosine_decay(training_step.LEARNING_RATE, 3)
    trained, _ = rn.training._train_numpy(
        layers, x, y, dydx, lambda_j**2, alpha, 3, x.shape[0], rates, 0, False
    )
    theirs = np.concatenate([p.ravel() for t in trained for p in (t.W, t.b)])
    start = np.concatenate([p.ravel() for t in layers for p in (t.W, t.b)])
    assert np.abs(step.parameters() - start).min() > 0  # every weight moved
    moved, expected = step.parameters() - start, theirs - start
    assert np.max(np.abs(moved - expected)) < 1e-12 * np.max(np.abs(expected))


def test_the_training_peers_agree_and_a_wrong_peer_is_refused():
    from benchmark import training_step

    layers, data = small_training_case()
    x, y, dydx, lambda_j, alpha = data
    steps = {k: cls(layers, data) for k, cls in training_step.STEP_CLASSES.items()}
    right = steps["jax_step"]
    steps["jax_step"] = training_step.JaxStep(
        layers, (x, y, dydx, lambda_j, 0.9 * alpha)
    )
    with pytest.raises(AssertionError, match="jax_step_gradient"):
        training_step.check_agreement(steps)  # refused before any step is taken
    steps["jax_step"] = right
    found = training_step.check_agreement(steps)
    kinds = ("gradient", "steps")
    assert set(found) == {f"{p}_{k}" for p in training_step.PEERS for k in kinds}
    assert max(found.values()) < 1e-12


def synthetic_training_case(relunet_s, tf_s, jax_s):
    timings = {"relunet": relunet_s, "tf_step": tf_s, "jax_step": jax_s}
    timings = {k: {"min_s": s, "cpu_min_s": s} for k, s in timings.items()}
    for part, share in (("gradient", 0.75), ("activations", 0.3), ("products", 0.15)):
        seconds = share * relunet_s
        timings[f"relunet_{part}"] = {"min_s": seconds, "cpu_min_s": seconds}
    return {"name": "4x20", "dtype": "float64", "timings": timings}


@pytest.mark.parametrize(
    "relunet_s, met", [(1.0, [True, True]), (1.5, [False, True]), (2.5, [False, False])]
)
def test_training_figures_and_verdicts(relunet_s, met):
    from benchmark import training_step

    case = synthetic_training_case(relunet_s, 4.0, 2.0)
    case["figures"] = training_step.figures(case)
    assert case["figures"]["speed_up_over_tf_step"] == pytest.approx(4.0 / relunet_s)
    assert case["figures"]["adam_update_share"] == pytest.approx(0.25)
    assert case["figures"]["activations_share_of_gradient"] == pytest.approx(0.4)
    assert case["figures"]["products_share_of_gradient"] == pytest.approx(0.2)
    rows = training_step.goal_rows([case])
    assert [r["met"] for r in rows] == met


def test_the_recorded_training_step_has_every_case_and_its_goals():
    from benchmark import training_step

    group = RECORDED["training_step"]
    names = [name for name, _, _ in training_step.case_inputs()]
    assert [c["name"] for c in group["cases"]] == names
    for case in group["cases"]:
        parts = {"relunet_gradient", "relunet_activations", "relunet_products"}
        assert set(case["timings"]) == {*training_step.STEP_CLASSES, *parts}
        assert max(case["agreement_relative"].values()) < training_step.TOLERANCE
        recomputed = training_step.figures(case)
        assert case["figures"] == pytest.approx(recomputed)
        # one thread each: no call kept more than one core busy
        assert all(t["cores_busy_median"] < 1.3 for t in case["timings"].values())
    assert group["goals"] == training_step.goal_rows(group["cases"])
    assert len(group["goals"]) == len(names) * len(training_step.GOALS)
    threads = group["threads"]
    assert threads["numpy_blas"] == [1]
    assert threads["tensorflow_intra_op"] == threads["tensorflow_inter_op"] == 1


# --- second order ------------------------------------------------------------------


def test_the_second_order_peers_agree_and_a_wrong_peer_is_refused():
    from benchmark import second_order

    he = rn.he_normal([5, 7, 6, 1], seed=0, bias_std=0.1)
    layers = [
        rn.Dense(layer.W, layer.b, "linear" if k == 2 else "softplus")
        for k, layer in enumerate(he)
    ]
    rng = np.random.default_rng(0)
    x, v = rng.normal(size=(9, 5)), rng.normal(size=(9, 5))
    calls = second_order.candidate_calls(layers, x, v)
    found = second_order.check_agreement(calls)
    assert set(found) == set(second_order.HESSIAN_PEERS + second_order.HVP_PEERS)
    assert calls["products_hessian"]() is None  # a replay: runs, returns nothing
    assert max(found.values()) < 1e-12
    work = second_order.work(layers, x, v)
    mode = work["relunet_hessian_mode"]
    assert work["relunet_hessian"] == rn.hessian_cost(layers, mode).multiply_adds
    assert min(work[p] for p in ("jax_hessian", "jax_jacfwd_jacrev", "jax_hvp")) > 0
    hessian = calls["relunet_hessian"]()
    assert hessian.shape == (9, 5, 5)
    calls["jax_hvp"] = lambda: hessian[:, 0]  # one row of the Hessian, not H v
    with pytest.raises(AssertionError, match="jax_hvp"):
        second_order.check_agreement(calls)


def test_second_order_figures_take_the_best_peer_of_each_quantity():
    from benchmark import second_order

    seconds = {"relunet_hessian": 1.0, "relunet_hvp": 0.5, "jax_hessian": 3.0}
    seconds |= {"jax_jacfwd_jacrev": 2.5, "tf_hessian_graph": 4.0}
    seconds |= {"tf_hessian_xla": 5.0, "jax_hvp": 0.75, "tf_hvp_graph": 1.0}
    seconds |= {"tf_hvp_xla": 2.0, "products_hessian": 0.4, "products_hvp": 0.1}
    case = {
        "name": "8-64-64-1",
        "dtype": "float64",
        "timings": {k: {"min_s": s} for k, s in seconds.items()},
    }
    case["figures"] = second_order.figures(case)
    assert case["figures"]["hessian_best_peer"] == "jax_jacfwd_jacrev"
    assert case["figures"]["hessian_speed_up_over_best_peer"] == pytest.approx(2.5)
    assert case["figures"]["hvp_best_peer"] == "jax_hvp"
    assert case["figures"]["hvp_speed_up_over_best_peer"] == pytest.approx(1.5)
    assert case["figures"]["hessian_time_over_products"] == pytest.approx(2.5)
    assert case["figures"]["hvp_time_over_products"] == pytest.approx(5.0)
    verdicts = [r["met"] for r in second_order.goal_rows([case])]
    assert verdicts == [True, False, False, False]


@pytest.mark.parametrize("widths", [[5, 7, 6, 1], [40, 7, 1], [3, 8, 8, 2]])
def test_the_arithmetic_references_replay_relunets_own_products(widths):
    """The replay runs the products relunet runs, no more: their multiply-adds
    are those of relunet's cost model, and none of relunet's other work."""
    from benchmark import second_order

    he = rn.he_normal(widths, seed=1, bias_std=0.1)
    layers = [
        rn.Dense(layer.W, layer.b, "linear" if k == len(he) - 1 else "softplus")
        for k, layer in enumerate(he)
    ]
    rng = np.random.default_rng(1)
    x, v = rng.normal(size=(6, widths[0])), rng.normal(size=(6, widths[0]))
    mode = rn.choose_hessian_mode(layers)
    original = second_order.relunet_second_order._product
    forward_pass = sum(layer.W.size for layer in layers)  # not in hessian_cost
    hessian = rn.hessian_cost(layers, mode).multiply_adds + forward_pass
    hvp = rn.hvp_cost(layers, "forward-over-reverse").multiply_adds
    for call, cost in (
        (lambda: rn.hessian(x, layers), hessian),
        (lambda: rn.hvp(x, layers, v), hvp),
    ):
        products = second_order.products_of(call)
        done = sum(np.matmul(a, b).size * a.shape[-1] for a, b in products)
        assert done == 6 * cost
        assert second_order.relunet_second_order._product is original  # restored


def test_a_group_run_alone_replaces_only_its_own_part_of_the_record(
    tmp_path, monkeypatch
):
    from benchmark import training_step

    run = load_script("run", folder="bench")
    recorded = tmp_path / "benchmark.json"
    recorded.write_text(json.dumps(RECORDED))
    monkeypatch.setattr(run, "RECORDED", recorded)
    monkeypatch.setattr(training_step, "timed", lambda rounds: {"rounds": rounds})
    merged = run.merged("training_step", 7)
    assert merged["training_step"] == {"rounds": 7}
    assert {k: v for k, v in merged.items() if k != "training_step"} == {
        k: v for k, v in RECORDED.items() if k != "training_step"
    }


def test_the_recorded_second_order_cases_have_every_peer_and_goal():
    from benchmark import second_order

    group = RECORDED["second_order"]
    assert [c["name"] for c in group["cases"]] == list(second_order.CASES)
    peers = set(second_order.HESSIAN_PEERS + second_order.HVP_PEERS)
    for case in group["cases"]:
        ours = {"relunet_hessian", "relunet_hvp", "products_hessian", "products_hvp"}
        assert set(case["timings"]) == peers | ours
        assert set(case["agreement_relative"]) == peers
        assert max(case["agreement_relative"].values()) < second_order.TOLERANCE
        assert case["figures"] == pytest.approx(second_order.figures(case))
    assert group["goals"] == second_order.goal_rows(group["cases"])
