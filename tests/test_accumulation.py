"""The accumulation behind relunet.jacobian: blocks, orders, signed zeros."""

import threading

import numpy as np
import pytest

import relunet as rn
from relunet import accumulation


def test_results_do_not_share_memory_between_calls():
    net = rn.he_normal([8, 32, 32, 4], seed=0, bias_std=0.2)
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=(50, 8)), rng.normal(size=(50, 8))
    J1 = rn.jacobian(x1, net)
    kept = J1.copy()
    J2 = rn.jacobian(x2, net)
    np.testing.assert_array_equal(
        J1, kept
    )  # a later call did not overwrite the first result
    assert not np.shares_memory(J1, J2)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_many_blocks_equal_one_block(monkeypatch, mode):
    net = rn.he_normal([6, 40, 40, 40, 5], seed=1, bias_std=0.2)
    x = np.random.default_rng(1).normal(size=(97, 6))
    whole = rn.jacobian(x, net, mode=mode)
    monkeypatch.setattr(
        accumulation, "BLOCK_BYTES", 40_000
    )  # forces blocks of a few samples
    assert accumulation.block_size(net, mode, 97) < 10
    np.testing.assert_allclose(
        rn.jacobian(x, net, mode=mode), whole, rtol=1e-13, atol=1e-13
    )


def test_block_size_splits_the_batch_evenly():
    net = rn.he_normal([64, 256, 256, 64], seed=0)
    for batch in (1, 7, 100, 1000):
        step = accumulation.block_size(net, "reverse", batch, np.float32)
        blocks = -(-batch // step)
        assert (
            1 <= step <= batch and blocks * step - batch < blocks
        )  # no tiny remainder block


def test_threads_share_nothing():
    net = rn.he_normal([8, 64, 64, 3], seed=2, bias_std=0.2)
    inputs = [np.random.default_rng(k).normal(size=(200, 8)) for k in range(4)]
    expected = [rn.jacobian(x, net) for x in inputs]
    results = [None] * 4

    def work(k):
        for _ in range(20):
            results[k] = rn.jacobian(inputs[k], net)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)


def test_single_layer_inactive_entries_are_positive_zero():
    layer = rn.Dense(
        [[-1.0, -2.0], [3.0, -4.0]], [-100.0, 0.0]
    )  # unit 1 always off, W negative
    J = rn.jacobian(np.array([[1.0, -1.0], [2.0, 0.5]]), layer)
    assert np.all(J[:, 0, :] == 0) and not np.any(np.signbit(J[:, 0, :]))


@pytest.mark.parametrize("mode", ["forward", "reverse", "optimal"])
def test_deep_relu_output_inactive_rows_are_positive_zero(mode):
    net = rn.he_normal([3, 16, 16, 4], seed=3, bias_std=0.3, output_activation="relu")
    x = np.random.default_rng(3).normal(size=(64, 3))
    J = rn.jacobian(x, net, mode=mode)
    off = rn.preactivations(x, net)[-1] <= 0
    assert off.any()
    assert np.all(J[off] == 0) and not np.any(np.signbit(J[off]))


@pytest.mark.parametrize("at_zero", [0.0, 0.5, 1.0])
def test_overflow_inside_the_network_is_treated_alike_for_every_at_zero(at_zero):
    # Finite input, weights near the float64 limit: z overflows to inf in
    # layer 1 and inf - inf = NaN in layer 2. No argument the caller passed is
    # at fault, so no call raises, whatever the slope chosen at 0.
    big = 1e308
    layers = [rn.Dense([[big], [-big]], [0.0, 0.0]), rn.Dense([[1.0, 1.0]], [0.0])]
    x = np.array([[10.0]])
    with np.errstate(over="ignore", invalid="ignore"):
        results = [
            rn.jacobian(x, layers, at_zero=at_zero, mode=mode)
            for mode in ("forward", "reverse")
        ] + [
            rn.jvp(x, layers, np.ones((1, 1)), at_zero=at_zero),
            rn.vjp(x, layers, np.ones((1, 1)), at_zero=at_zero),
        ]
        reference = [
            rn.jacobian(x, layers, at_zero=0.0, mode=mode)
            for mode in ("forward", "reverse")
        ] + [rn.jvp(x, layers, np.ones((1, 1))), rn.vjp(x, layers, np.ones((1, 1)))]
    for ours, default in zip(results, reference):
        np.testing.assert_array_equal(ours, default)


def _cheapest(widths, i, j):
    """The cheapest way to form F_j ... F_i by brute force over every tree of
    pure orders, steps and splits, each priced by the rule best_bracketing
    states (a k b per product, a b per masked copy)."""
    n = widths
    forward = n[i] * n[i - 1] + sum(
        n[m] * n[m - 1] * n[i - 1] for m in range(i + 1, j + 1)
    )
    reverse = n[j] * n[j - 1] + sum(n[j] * n[m] * n[m - 1] for m in range(i, j))
    costs = [forward, reverse]
    if j > i:
        costs.append(_cheapest(n, i + 1, j) + n[j] * n[i] * n[i - 1])
        costs.append(_cheapest(n, i, j - 1) + n[j] * n[j - 1] * n[i - 1])
        costs += [
            _cheapest(n, k + 1, j) + _cheapest(n, i, k) + n[j] * n[k] * n[i - 1]
            for k in range(i, j)
        ]
    return min(costs)


def random_widths(seed):
    rng = np.random.default_rng(seed)
    return [int(n) for n in rng.integers(1, 40, size=rng.integers(2, 7))]


@pytest.mark.parametrize("seed", range(20))
def test_best_bracketing_is_the_minimum_over_every_bracketing(seed):
    widths = random_widths(seed)
    net = rn.he_normal(widths, seed=seed)
    cost, order = rn.best_bracketing(net)
    assert cost == _cheapest(widths, 1, len(widths) - 1)
    assert cost == rn.jacobian_cost(net, "optimal")
    assert cost <= min(
        rn.jacobian_cost(net, "forward"), rn.jacobian_cost(net, "reverse")
    )
    assert order.count("F") == len(widths) - 1


def count_multiply_adds(monkeypatch):
    """Wrap every product and masked copy jacobian runs; return the tally (per
    call, summed over samples)."""
    tally = [0]
    times_matrix, matrix_times = accumulation._times_matrix, accumulation._matrix_times
    times_product, copy = accumulation._times_product, accumulation.masked_copy
    transposed = accumulation.Factor.transposed_masked_copy

    def counted_times_matrix(P, W, out=None):
        tally[0] += P.shape[0] * P.shape[1] * P.shape[2] * W.shape[1]
        return times_matrix(P, W, out=out)

    def counted_matrix_times(W, P, out):
        tally[0] += P.shape[0] * W.shape[0] * W.shape[1] * P.shape[2]
        return matrix_times(W, P, out=out)

    def counted_times_product(top, bottom, out):
        tally[0] += top.shape[0] * top.shape[1] * top.shape[2] * bottom.shape[2]
        return times_product(top, bottom, out)

    def counted_copy(W, z, activation, at_zero, out=None):
        tally[0] += len(z) * W.size
        return copy(W, z, activation, at_zero, out)

    def counted_transposed(factor):
        tally[0] += len(factor.z) * factor.W.size
        return transposed(factor)

    monkeypatch.setattr(accumulation, "_times_matrix", counted_times_matrix)
    monkeypatch.setattr(accumulation, "_matrix_times", counted_matrix_times)
    monkeypatch.setattr(accumulation, "_times_product", counted_times_product)
    monkeypatch.setattr(accumulation, "masked_copy", counted_copy)
    monkeypatch.setattr(
        accumulation.Factor, "transposed_masked_copy", counted_transposed
    )
    return tally


@pytest.mark.parametrize("seed", range(40))
def test_every_mode_costs_what_jacobian_cost_reports(seed, monkeypatch):
    # counted in the products jacobian actually runs, on random width lists
    widths = random_widths(seed) + [int(seed % 5) + 1]  # at least two layers
    net = rn.he_normal(widths, seed=seed, bias_std=0.1)
    x = np.random.default_rng(seed).normal(size=(3, widths[0]))
    expected = rn.jacobian(x, net, mode="forward")
    tally = count_multiply_adds(monkeypatch)
    for mode in ("forward", "reverse", "optimal"):
        tally[0] = 0
        J = rn.jacobian(x, net, mode=mode)
        assert tally[0] == 3 * rn.jacobian_cost(net, mode), (widths, mode)
        np.testing.assert_allclose(J, expected, rtol=1e-12, atol=1e-12)
        assert not np.any(np.signbit(J[J == 0]))


@pytest.mark.parametrize(
    "widths, cost, order",
    [([32, 1, 100, 4], 628, "(F3 F2) F1"), ([10, 7, 1, 9], 167, "F3 (F2 F1)")],
)
def test_mixed_orders_cost_what_they_report(widths, cost, order, monkeypatch):
    # a sub-chain in one pure order, then a step in the other: cheaper than
    # both pure orders, and run as priced
    net = rn.he_normal(widths, seed=0, bias_std=0.1)
    assert rn.best_bracketing(net) == (cost, order)
    assert cost < min(rn.jacobian_cost(net, m) for m in ("forward", "reverse"))
    tally = count_multiply_adds(monkeypatch)
    rn.jacobian(np.ones((2, widths[0])), net, mode="optimal")
    assert tally[0] == 2 * cost


def test_best_bracketing_of_an_hourglass_meets_in_the_middle():
    net = rn.he_normal([256, 256, 4, 256, 256], seed=0)
    cost, order = rn.best_bracketing(net)
    assert order == "(F4 F3) (F2 F1)"
    # three products of 256 x 4 x 256, and masked copies of F2 and F3 (4 x 256 each)
    assert cost == 3 * 256 * 4 * 256 + 2 * 4 * 256
    assert (
        rn.jacobian_cost(net, "forward") == rn.jacobian_cost(net, "reverse") > 20 * cost
    )
    assert rn.choose_mode(net) in ("forward", "reverse")


def test_pure_orders_are_optimal_for_wide_and_tall_networks():
    wide = rn.he_normal([512, 256, 256, 1], seed=0)
    tall = rn.he_normal([2, 256, 256, 512], seed=0)
    assert rn.jacobian_cost(wide, "optimal") == rn.jacobian_cost(wide, "reverse")
    assert rn.jacobian_cost(tall, "optimal") == rn.jacobian_cost(tall, "forward")


def test_optimal_mode_evaluates_the_best_bracketing_of_an_hourglass():
    # wide, narrow, wide: the best order multiplies the two halves, neither
    # pure order does
    net = rn.he_normal([24, 24, 2, 24, 24], seed=4, bias_std=0.2)
    assert rn.best_bracketing(net)[1] == "(F4 F3) (F2 F1)"
    x = np.random.default_rng(4).normal(size=(33, 24))
    J = rn.jacobian(x, net, mode="optimal")
    np.testing.assert_allclose(J, rn.jacobian(x, net, mode="forward"), rtol=1e-12)
    np.testing.assert_allclose(J, rn.jacobian(x, net, mode="reverse"), rtol=1e-12)
    # the halves are the Jacobians of the two sub-networks: J = J_top J_bottom
    a2 = rn.forward(x, net[:2])
    np.testing.assert_allclose(
        J, rn.jacobian(a2, net[2:]) @ rn.jacobian(x, net[:2]), rtol=1e-12
    )


@pytest.mark.parametrize("at_zero", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("activation", ["relu", "softplus", "linear"])
def test_every_order_gives_the_same_jacobian(at_zero, activation):
    # integer weights and inputs: many units exactly at their kink
    rng = np.random.default_rng(5)
    widths = [6, 9, 2, 9, 3, 7]
    net = [
        rn.Dense(
            rng.integers(-2, 3, size=(m, n)), rng.integers(-1, 2, size=m), activation
        )
        for n, m in zip(widths, widths[1:])
    ]
    x = rng.integers(-2, 3, size=(40, 6)).astype(float)
    results = [
        rn.jacobian(x, net, at_zero=at_zero, mode=mode)
        for mode in ("forward", "reverse", "optimal")
    ]
    for J in results[1:]:
        np.testing.assert_allclose(J, results[0], rtol=1e-13, atol=1e-13)
    if activation == "relu":
        assert np.any(np.concatenate(rn.preactivations(x, net), axis=1) == 0)


def test_single_layer_rows_are_copies_of_w():
    layer = rn.Dense([[1.5, -2.0], [3.0, 0.25], [-1.0, 1.0]], [0.0, -1.0, 0.0])
    x = np.array([[1.0, 0.0], [0.0, 0.0], [-1.0, 2.0]])
    z = rn.preactivations(x, layer)[0]
    for at_zero in (0.0, 0.25, 1.0):
        J = rn.jacobian(x, layer, at_zero=at_zero)
        slope = np.where(z > 0, 1.0, np.where(z == 0, at_zero, 0.0))
        np.testing.assert_array_equal(J, slope[:, :, None] * layer.W + 0.0)
        assert not np.any(np.signbit(J[J == 0]))
