"""softplus, hessian and hvp: values by hand, properties, finite differences, errors."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from networks import network_shapes, random_case

import relunet as rn
from relunet import second_order

MODES = ("adjoint", "recursion")


def smooth_shapes(max_layers: int = 4):
    """Softplus or ReLU hidden layers, a linear or softplus output layer."""
    return network_shapes(
        max_layers=max_layers,
        max_width=5,
        max_batch=4,
        hidden=("softplus", "relu"),
        last=("linear", "softplus"),
    )


case = random_case


# --- softplus ------------------------------------------------------------------


def test_softplus_values_by_hand():
    np.testing.assert_allclose(
        rn.softplus([0.0, 1.0, -1.0]), np.log1p(np.exp([0.0, 1.0, -1.0])), rtol=1e-15
    )
    np.testing.assert_allclose(
        rn.softplus_derivative([0.0, 2.0]), [0.5, 1 / (1 + np.exp(-2.0))], rtol=1e-15
    )
    np.testing.assert_allclose(rn.softplus_second_derivative([0.0]), [0.25], rtol=1e-15)


def test_softplus_is_stable_at_large_magnitudes():
    with np.errstate(all="raise"):  # no overflow, no invalid value
        assert rn.softplus(800.0) == 800.0
        assert rn.softplus(-800.0) == 0.0
        assert rn.softplus(-30.0) == pytest.approx(np.exp(-30.0), rel=1e-14)
        np.testing.assert_array_equal(
            rn.softplus_derivative([-800.0, 800.0]), [0.0, 1.0]
        )
        np.testing.assert_array_equal(
            rn.softplus_second_derivative([-800.0, 800.0]), [0.0, 0.0]
        )
        assert rn.softplus_second_derivative(-30.0) == pytest.approx(
            np.exp(-30.0), rel=1e-12
        )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_keeps_the_dtype(dtype):
    z = np.linspace(-5, 5, 11).astype(dtype)
    for function in (
        rn.softplus,
        rn.softplus_derivative,
        rn.softplus_second_derivative,
    ):
        assert function(z).dtype == dtype


def test_softplus_derivatives_by_finite_differences():
    z = np.linspace(-6, 6, 49)
    h = 1e-6
    np.testing.assert_allclose(
        (rn.softplus(z + h) - rn.softplus(z - h)) / (2 * h),
        rn.softplus_derivative(z),
        atol=1e-9,
    )
    np.testing.assert_allclose(
        (rn.softplus_derivative(z + h) - rn.softplus_derivative(z - h)) / (2 * h),
        rn.softplus_second_derivative(z),
        atol=1e-9,
    )


def test_softplus_layer_in_forward_and_jacobian():
    layer = rn.Dense([[1.0, -2.0]], [0.5], activation="softplus")
    x = np.array([0.3, 0.1])
    z = 0.3 - 0.2 + 0.5
    assert rn.forward(x, layer)[0] == pytest.approx(np.log1p(np.exp(z)), rel=1e-15)
    s = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(rn.jacobian(x, layer), [[s, -2 * s]], rtol=1e-15)


# --- hessian and hvp ---------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_one_unit_hessian_by_hand(mode):
    # NN(x) = softplus(w . x + b): H = s(1 - s) w w^T.
    w, b = np.array([1.0, -2.0, 0.5]), 0.3
    x = np.array([0.2, 0.1, -0.4])
    z = w @ x + b
    s = 1 / (1 + np.exp(-z))
    H = rn.hessian(x, rn.Dense(w[None, :], [b], activation="softplus"), mode=mode)
    assert H.shape == (1, 3, 3)
    np.testing.assert_allclose(H[0], s * (1 - s) * np.outer(w, w), rtol=1e-14)


@given(smooth_shapes())
def test_hessian_shape_and_batch_equals_singles(shape):
    # (Its symmetry is tested on the recursion's own result, before the
    # symmetrising step, in test_the_recursion_itself_is_symmetric.)
    _, layers, x = case(shape)
    H = rn.hessian(x, layers)
    assert H.shape == (x.shape[0], layers[-1].n_out, x.shape[1], x.shape[1])
    for s in range(x.shape[0]):
        np.testing.assert_allclose(
            rn.hessian(x[s], layers), H[s], rtol=1e-13, atol=1e-15
        )


@given(smooth_shapes())
def test_hvp_equals_hessian_times_v(shape):
    rng, layers, x = case(shape)
    v = rng.normal(size=x.shape)
    expected = np.einsum("sjik,sk->sji", rn.hessian(x, layers), v)
    np.testing.assert_allclose(rn.hvp(x, layers, v), expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        rn.hvp(x[0], layers, v[0]), expected[0], rtol=1e-12, atol=1e-14
    )


@given(smooth_shapes(max_layers=3))
def test_hessian_is_the_derivative_of_the_jacobian(shape):
    _, layers, x = case(shape)
    if any(layer.activation == "relu" for layer in layers):
        # away from kinks: no ReLU pre-activation within 1e-3 of 0
        if (
            min(
                np.min(np.abs(z))
                for z, l in zip(rn.preactivations(x, layers), layers)
                if l.activation == "relu"
            )
            < 1e-3
        ):
            return
    h = 1e-5
    H = rn.hessian(x, layers)
    for k in range(x.shape[1]):
        step = np.zeros(x.shape[1])
        step[k] = h
        central = (rn.jacobian(x + step, layers) - rn.jacobian(x - step, layers)) / (
            2 * h
        )
        np.testing.assert_allclose(central, H[..., k], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", range(5))
def test_relu_networks_have_exactly_zero_hessian(seed, mode):
    layers = rn.he_normal([4, 8, 8, 3], seed=seed, bias_std=0.3)
    x = np.random.default_rng(seed).normal(size=(6, 4))
    H = rn.hessian(x, layers, mode=mode)
    assert H.shape == (6, 3, 4, 4) and np.all(H == 0)
    assert np.all(rn.hvp(x, layers, np.ones_like(x)) == 0)


@pytest.mark.parametrize(
    "function",
    [
        lambda x, layers: rn.hessian(x, layers, mode="adjoint"),
        lambda x, layers: rn.hessian(x, layers, mode="recursion"),
        lambda x, layers: rn.hvp(x, layers, np.ones_like(x)),
    ],
)
def test_float32_is_preserved(function):
    layers = [
        rn.Dense(np.ones((3, 2), np.float32), np.zeros(3, np.float32), "softplus")
    ]
    assert function(np.ones((2, 2), np.float32), layers).dtype == np.float32


def test_hvp_refuses_a_direction_of_another_shape():
    layers = [rn.Dense(np.ones((3, 2)), np.zeros(3), "softplus")]
    with pytest.raises(
        ValueError, match=r"v must have shape \(4, 2\), got shape \(4, 3\)"
    ):
        rn.hvp(np.ones((4, 2)), layers, np.ones((4, 3)))
    with pytest.raises(
        ValueError, match=r"v must have shape \(2,\), got shape \(1, 2\)"
    ):
        rn.hvp(np.ones(2), layers, np.ones((1, 2)))


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match="activation must be one of"):
        rn.Dense(np.ones((1, 1)), np.zeros(1), activation="tanh")


def test_regions_refuse_softplus_networks():
    layers = [
        rn.Dense(np.ones((2, 2)), np.zeros(2), "softplus"),
        rn.Dense(np.ones((1, 2)), np.zeros(1), "linear"),
    ]
    with pytest.raises(ValueError, match="layers\\[0\\] has activation 'softplus'"):
        rn.breakpoints_on_segment(layers, [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="linear regions exist only"):
        rn.grid_regions(layers, (-1, 1), (-1, 1), 10)


@pytest.mark.parametrize("mode", MODES)
def test_hessian_is_zero_where_curvature_vanishes_under_huge_weights(mode):
    # softplus(1e160 x) at x = 1: f'' underflows to exactly 0, and G = 1e160, so
    # G^T G alone overflows; the true Hessian is 0, as hvp gives (not 0 * inf).
    layers = [
        rn.Dense([[1e160]], [0.0], "softplus"),
        rn.Dense([[1.0]], [0.0], "linear"),
    ]
    with np.errstate(all="raise"):
        H = rn.hessian(np.array([1.0]), layers, mode=mode)
        Hv = rn.hvp(np.array([1.0]), layers, [1.0])
    assert np.all(H == 0) and np.all(Hv == 0)
    # A tiny non-zero curvature times a huge gradient stays finite and right.
    # f''(-700) = e^-700 times G^2 = 1e320: about e^36.8, though 1e320 overflows.
    layers = [rn.Dense([[1e160]], [-700.0], "softplus")]
    expected = np.exp(-700.0 + 320 * np.log(10.0))
    H = rn.hessian(np.array([0.0]), layers, mode=mode)
    np.testing.assert_allclose(H[0, 0, 0], expected, rtol=1e-10)
    Hv = rn.hvp(np.array([0.0]), layers, [1.0])
    np.testing.assert_allclose(Hv[0, 0], expected, rtol=1e-10)


@pytest.mark.parametrize("mode", MODES)
@given(shape=smooth_shapes())
def test_each_algorithm_itself_is_symmetric(mode, shape):
    """Symmetry of what each algorithm computes, before the symmetrising step,
    and Schwarz's theorem through hvp (whose two indices play different roles)."""
    rng, layers, x = case(shape)
    raw = rn.hessian(x, layers, symmetrize=False, mode=mode)
    scale = max(float(np.max(np.abs(raw))), 1e-300)
    assert np.max(np.abs(raw - raw.swapaxes(-1, -2))) <= 1e-13 * scale
    np.testing.assert_array_equal(
        rn.hessian(x, layers, mode=mode), 0.5 * (raw + raw.swapaxes(-1, -2))
    )
    n_in = x.shape[1]
    columns = np.stack(
        [rn.hvp(x, layers, np.tile(e, (len(x), 1))) for e in np.eye(n_in)], axis=-1
    )  # columns[s, j, i, k] = (H e_k)_{ji}: i from the gradient, k from v
    assert np.max(np.abs(columns - columns.swapaxes(-1, -2))) <= 1e-12 * scale


def test_hessian_without_symmetrising_would_catch_an_asymmetric_recursion():
    # The check above can fail: a non-symmetric matrix is caught by it.
    H = np.array([[[1.0, 2.0], [2.0 + 1e-9, 3.0]]])
    assert np.max(np.abs(H - H.swapaxes(-1, -2))) > 1e-13 * np.max(np.abs(H))


def test_hvp_dtype_follows_x_layers_and_v_as_jvp_does():
    layers = rn.he_normal([2, 3, 1], seed=0, dtype=np.float32)
    layers = [rn.Dense(layers[0].W, layers[0].b, "softplus"), layers[1]]
    x32 = np.ones(2, np.float32)
    for v in (np.ones(2), np.ones(2, np.float32)):
        expected = rn.jvp(x32, layers, v).dtype
        assert rn.hvp(x32, layers, v).dtype == expected
        assert rn.vjp(x32, layers, np.ones(1, v.dtype)).dtype == expected
    assert rn.hvp(x32, layers, np.ones(2)).dtype == np.float64


# --- the adjoint form, the recursion and their costs --------------------------------


@given(smooth_shapes())
def test_adjoint_form_equals_recursion(shape):
    _, layers, x = case(shape)
    adjoint = rn.hessian(x, layers, mode="adjoint")
    recursion = rn.hessian(x, layers, mode="recursion")
    scale = max(float(np.max(np.abs(recursion))), 1e-300)
    np.testing.assert_allclose(adjoint, recursion, rtol=1e-12, atol=1e-13 * scale)
    auto = rn.hessian(x, layers)
    chosen = second_order.choose_hessian_mode(layers)
    np.testing.assert_array_equal(auto, rn.hessian(x, layers, mode=chosen))


def test_adjoint_sandwich_is_symmetric_term_by_term():
    # B^T (S B): entry (i, k) and (k, i) add the same products, so on a BLAS
    # that sums both in one order the raw result is symmetric to the last bit.
    layers = rn.he_normal([6, 16, 16, 1], seed=4, bias_std=0.3)
    layers = [rn.Dense(l.W, l.b, "softplus") for l in layers[:-1]] + layers[-1:]
    x = np.random.default_rng(4).normal(size=(8, 6))
    raw = rn.hessian(x, layers, symmetrize=False, mode="adjoint")
    assert np.max(np.abs(raw - raw.swapaxes(-1, -2))) <= 1e-15 * np.max(np.abs(raw))


def count_multiply_adds(monkeypatch):
    """Wrap every matrix and outer product of second_order; return the tally."""
    tally = [0]
    product, outer = second_order._product, second_order._outer

    def counted_product(a, b):
        result = product(a, b)
        tally[0] += result.size * a.shape[-1]
        return result

    def counted_outer(rows):
        result = outer(rows)
        tally[0] += result.size
        return result

    monkeypatch.setattr(second_order, "_product", counted_product)
    monkeypatch.setattr(second_order, "_outer", counted_outer)
    return tally


ACTIVATION_MIXES = [
    ["softplus", "softplus", "linear"],
    ["relu", "softplus", "linear"],
    ["softplus", "relu", "softplus"],
    ["linear", "softplus", "relu"],
    ["relu", "relu", "linear"],
]


@pytest.mark.parametrize("seed", range(12))
def test_every_algorithm_costs_what_its_cost_function_reports(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    widths = [int(w) for w in rng.integers(1, 7, size=4)]
    activations = ACTIVATION_MIXES[seed % len(ACTIVATION_MIXES)]
    layers = [
        rn.Dense(rng.normal(size=(n_out, n_in)), rng.normal(size=n_out), activation)
        for n_in, n_out, activation in zip(widths[:-1], widths[1:], activations)
    ]
    x, v = rng.normal(size=(3, widths[0])), rng.normal(size=(3, widths[0]))
    tally = count_multiply_adds(monkeypatch)
    forward_pass = sum(layer.W.size for layer in layers)  # run before either mode
    for mode in MODES:
        tally[0] = 0
        rn.hessian(x, layers, mode=mode)
        cost = second_order.hessian_cost(layers, mode).multiply_adds
        assert tally[0] == 3 * (cost + forward_pass)
    tally[0] = 0
    rn.hvp(x, layers, v)
    expected = second_order.hvp_cost(layers, "forward-over-reverse").multiply_adds
    assert tally[0] == 3 * expected


def test_the_cost_model_chooses_by_the_widths():
    scalar = [
        rn.Dense(np.ones((64, 32)), np.zeros(64), "softplus"),
        rn.Dense(np.ones((64, 64)), np.zeros(64), "softplus"),
        rn.Dense(np.ones((1, 64)), np.zeros(1), "linear"),
    ]
    adjoint = second_order.hessian_cost(scalar, "adjoint")
    recursion = second_order.hessian_cost(scalar, "recursion")
    # by hand: K_2 = W_2 D_1 W_1, gbar_1 = W_2^T D_2 gbar_2, 128 units' sandwiches
    assert adjoint.multiply_adds == 64 * 64 * 32 + 64 * 64 + 128 * 32**2
    assert (
        recursion.multiply_adds
        == (64 * 64 * 32 + 64 * 32) + (64 * 64 * 32**2 + 64 * 32**2) + 128 * 32**2
    )
    assert second_order.choose_hessian_mode(scalar) == "adjoint"
    # one softplus layer with many outputs: one outer product per unit wins
    wide = [rn.Dense(np.ones((50, 2)), np.zeros(50), "softplus")]
    assert second_order.hessian_cost(wide, "recursion").multiply_adds == 50 * 2**2
    assert second_order.hessian_cost(wide, "adjoint").multiply_adds == 50 * 50 * 2**2
    assert second_order.choose_hessian_mode(wide) == "recursion"
    relu = rn.he_normal([3, 4, 2], seed=0)
    assert second_order.hessian_cost(relu, "adjoint") == (0, 0)


def test_hessian_and_cost_refuse_unknown_modes():
    layers = [rn.Dense(np.ones((3, 2)), np.zeros(3), "softplus")]
    with pytest.raises(ValueError, match=r"mode must be one of .*got 'reverse'"):
        rn.hessian(np.ones(2), layers, mode="reverse")
    with pytest.raises(TypeError, match=r"mode must be one of .*got int 1"):
        rn.hessian(np.ones(2), layers, mode=1)
    with pytest.raises(ValueError, match=r"mode must be one of .*got 'auto'"):
        second_order.hessian_cost(layers, "auto")
    with pytest.raises(ValueError, match=r"mode must be one of .*got 'adjoint'"):
        second_order.hvp_cost(layers, "adjoint")


# --- hvp: forward over reverse against its references ---------------------------------


@given(smooth_shapes())
def test_hvp_equals_forward_over_forward(shape):
    rng, layers, x = case(shape)
    v = rng.normal(size=x.shape)
    reference = second_order._hvp_forward_over_forward(x, layers, v)
    scale = max(float(np.max(np.abs(reference))), 1e-300)
    np.testing.assert_allclose(
        rn.hvp(x, layers, v), reference, rtol=1e-12, atol=1e-13 * scale
    )


@given(smooth_shapes(max_layers=3))
def test_hvp_is_the_derivative_of_the_gradient_along_v(shape):
    rng, layers, x = case(shape)
    if any(layer.activation == "relu" for layer in layers):
        return  # central differences need smoothness; ReLU's Hv is 0 anyway
    v = rng.normal(size=x.shape)
    h = 1e-5
    n_out = layers[-1].n_out
    central = np.stack(
        [
            (
                rn.vjp(x + h * v, layers, np.tile(e, (len(x), 1)))
                - rn.vjp(x - h * v, layers, np.tile(e, (len(x), 1)))
            )
            / (2 * h)
            for e in np.eye(n_out)
        ],
        axis=1,
    )
    np.testing.assert_allclose(rn.hvp(x, layers, v), central, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode", MODES)
def test_many_blocks_equal_one_block(mode, monkeypatch):
    layers = rn.he_normal([3, 5, 4, 2], seed=2, bias_std=0.3)
    layers = [rn.Dense(l.W, l.b, "softplus") for l in layers[:-1]] + layers[-1:]
    x = np.random.default_rng(2).normal(size=(7, 3))
    whole = rn.hessian(x, layers, mode=mode)
    raw = rn.hessian(x, layers, mode=mode, symmetrize=False)
    per_sample = second_order.hessian_cost(layers, mode).memory * 8
    monkeypatch.setattr(second_order, "BLOCK_BYTES", 3 * per_sample)  # 3, 3, 1
    np.testing.assert_array_equal(rn.hessian(x, layers, mode=mode), whole)
    np.testing.assert_array_equal(
        rn.hessian(x, layers, mode=mode, symmetrize=False), raw
    )


@pytest.mark.parametrize(
    "widths, last",
    [([32, 64, 64, 1], "linear"), ([2, 16, 64], "softplus"), ([8, 20, 3], "softplus")],
)
def test_memory_is_what_the_cost_model_says_within_a_factor_3(widths, last):
    # measured by tracemalloc (NumPy reports its allocations to it), per sample
    layers = rn.he_normal(widths, seed=0, bias_std=0.3)
    layers = [rn.Dense(l.W, l.b, "softplus") for l in layers[:-1]] + [
        rn.Dense(layers[-1].W, layers[-1].b, last)
    ]
    x = np.random.default_rng(0).normal(size=(16, widths[0]))
    runs = {
        mode: (
            lambda mode=mode: rn.hessian(x, layers, mode=mode, symmetrize=False),
            second_order.hessian_cost(layers, mode).memory,
        )
        for mode in MODES
    }
    runs["hvp"] = (
        lambda: rn.hvp(x, layers, x),
        second_order.hvp_cost(layers, "forward-over-reverse").memory,
    )
    for name, (run, model) in runs.items():
        tracemalloc.start()
        try:
            run()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        measured = peak / len(x) / x.itemsize
        assert model / 3 <= measured <= 3 * model, (name, measured, model)


@pytest.mark.parametrize("at_zero", [0.0, 0.5, 1.0])
def test_at_zero_reaches_both_algorithms_and_hvp_alike(at_zero):
    # ReLU units exactly at their kink (integer weights and inputs), between
    # softplus layers: ReLU'(0) = at_zero scales what passes through them.
    rng = np.random.default_rng(3)
    layers = [
        rn.Dense(
            rng.integers(-2, 3, size=(5, 3)).astype(float), np.zeros(5), "softplus"
        ),
        rn.Dense(
            np.array([[1.0, -1.0, 0, 0, 0], [0, 0, 1.0, 0, 0]]), [0.0, 0.0], "relu"
        ),
        rn.Dense([[1.0, 2.0]], [0.0], "softplus"),
    ]
    x = np.zeros((2, 3))  # equal softplus outputs: the first ReLU unit sits at 0
    assert np.any(rn.preactivations(x, layers)[1] == 0)
    v = rng.normal(size=x.shape)
    H = {m: rn.hessian(x, layers, at_zero=at_zero, mode=m) for m in MODES}
    np.testing.assert_allclose(H["adjoint"], H["recursion"], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(
        rn.hvp(x, layers, v, at_zero=at_zero),
        np.einsum("sjik,sk->sji", H["adjoint"], v),
        rtol=1e-13,
        atol=1e-15,
    )
    if at_zero == 0.0:
        other = rn.hessian(x, layers, at_zero=1.0)
        assert not np.allclose(H["adjoint"], other)  # the convention matters here


def test_first_layer_as_one_product_equals_the_per_sample_sandwiches():
    layers = rn.he_normal([6, 9, 7, 1], seed=5, bias_std=0.3)
    layers = [rn.Dense(l.W, l.b, "softplus") for l in layers[:-1]] + layers[-1:]
    x = np.random.default_rng(5).normal(size=(8, 6))
    terms = second_order._layer_terms(x, layers, np.float64, 0.0)
    shared, per_sample = (
        second_order._adjoint_hessian(terms, 8, 6, 1, np.float64, shared=flag)
        for flag in (True, False)
    )
    np.testing.assert_allclose(shared, per_sample, rtol=1e-13, atol=1e-15)
    for H in (shared, per_sample):  # each symmetric term by term
        assert np.max(np.abs(H - H.swapaxes(-1, -2))) <= 1e-15 * np.max(np.abs(H))
