"""jvp, vjp, activation_pattern and the accumulation modes of jacobian."""

import numpy as np
import pytest
from hypothesis import given
from networks import integer_case, network_shapes

import relunet as rn


@given(network_shapes(max_layers=5, max_width=7, max_batch=5))
def test_modes_agree(shape):
    widths, _, batch, seed = shape
    rng, layers, x = integer_case(shape, integer=seed % 2 == 0)
    for at_zero in (0.0, 0.5, 1.0):
        forward = rn.jacobian(x, layers, at_zero=at_zero, mode="forward")
        reverse = rn.jacobian(x, layers, at_zero=at_zero, mode="reverse")
        auto = rn.jacobian(x, layers, at_zero=at_zero, mode="auto")
        assert forward.shape == reverse.shape == (batch, widths[-1], widths[0])
        np.testing.assert_allclose(forward, reverse, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(
            auto, rn.jacobian(x, layers, at_zero=at_zero, mode=rn.choose_mode(layers))
        )


@given(network_shapes(max_layers=5, max_width=7, max_batch=5))
def test_jvp_and_vjp_are_products_with_the_jacobian(shape):
    widths, _, batch, seed = shape
    rng, layers, x = integer_case(shape, integer=seed % 2 == 0)
    v = rng.normal(size=x.shape)
    u = rng.normal(size=(batch, widths[-1]))
    for at_zero in (0.0, 0.25, 1.0):
        J = rn.jacobian(x, layers, at_zero=at_zero)
        np.testing.assert_allclose(
            rn.jvp(x, layers, v, at_zero=at_zero),
            np.einsum("bji,bi->bj", J, v),
            atol=1e-12,
        )
        np.testing.assert_allclose(
            rn.vjp(x, layers, u, at_zero=at_zero),
            np.einsum("bj,bji->bi", u, J),
            atol=1e-12,
        )
    # One sample: 1-D in, 1-D out.
    np.testing.assert_allclose(
        rn.jvp(x[0], layers, v[0]), rn.jacobian(x[0], layers) @ v[0], atol=1e-12
    )
    np.testing.assert_allclose(
        rn.vjp(x[0], layers, u[0]), u[0] @ rn.jacobian(x[0], layers), atol=1e-12
    )


def test_vjp_with_ones_is_the_column_sum():
    layers = rn.he_normal([4, 5, 3], seed=1, bias_std=0.5)
    x = np.random.default_rng(1).normal(size=(6, 4))
    np.testing.assert_allclose(
        rn.vjp(x, layers, np.ones((6, 3))),
        rn.jacobian(x, layers).sum(axis=1),
        atol=1e-12,
    )


def test_jacobian_cost_by_hand():
    layers = rn.he_normal([64, 256, 256, 1], seed=0)
    # forward: 256*64 + 256*256*64 + 1*256*64; reverse: 1*256 + 1*256*64 + 1*256*256
    assert rn.jacobian_cost(layers, "forward") == 256 * 64 + 256 * 256 * 64 + 256 * 64
    assert rn.jacobian_cost(layers, "reverse") == 256 + 256 * 64 + 256 * 256
    assert rn.choose_mode(layers) == "reverse"
    tall = rn.he_normal([1, 256, 256, 64], seed=0)
    assert rn.choose_mode(tall) == "forward"


def test_activation_pattern_concatenates_relu_layers_only():
    first = rn.Dense([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [0.0, 0.0, -5.0])
    second = rn.Dense(np.ones((2, 3)), [0.0, -100.0])
    last = rn.Dense(np.ones((1, 2)), [0.0], activation="linear")
    pattern = rn.activation_pattern(
        [[1.0, -1.0], [3.0, 3.0], [0.0, 0.0]], [first, second, last]
    )
    assert pattern.dtype == bool and pattern.shape == (3, 5)
    np.testing.assert_array_equal(
        pattern,
        [
            [True, False, False, True, False],
            [True, True, True, True, False],
            [False, False, False, False, False],
        ],
    )
    assert rn.activation_pattern([1.0, -1.0], [first, second, last]).shape == (5,)


def test_affine_within_a_pattern():
    layers = rn.he_normal([3, 8, 8, 2], seed=3, bias_std=0.3)
    x = np.array([0.3, -0.2, 0.5])
    d = np.array([1.0, 2.0, -1.0])
    breaks = rn.breakpoints_on_segment(layers, x, x + d)
    h = 0.5 * breaks[0]  # inside the first piece
    np.testing.assert_array_equal(
        rn.activation_pattern(x, layers), rn.activation_pattern(x + h * d, layers)
    )
    np.testing.assert_allclose(
        rn.forward(x + h * d, layers),
        rn.forward(x, layers) + rn.jacobian(x, layers) @ (h * d),
        atol=1e-12,
    )


# --- errors ----------------------------------------------------------------

LAYERS = rn.he_normal([3, 4, 2], seed=0)


def test_unknown_mode():
    with pytest.raises(
        ValueError,
        match=r"mode must be one of \('auto', 'forward', 'reverse', 'optimal'\), "
        r"got 'backward'",
    ):
        rn.jacobian(np.ones(3), LAYERS, mode="backward")
    with pytest.raises(TypeError, match="mode must be one of .* got int 1"):
        rn.jacobian(np.ones(3), LAYERS, mode=1)
    with pytest.raises(
        ValueError,
        match=r"mode must be one of \('forward', 'reverse', 'optimal'\), got 'auto'",
    ):
        rn.jacobian_cost(LAYERS, "auto")


def test_tangent_shape_must_match_x():
    with pytest.raises(ValueError, match=r"v must have shape \(3,\), got shape \(4,\)"):
        rn.jvp(np.ones(3), LAYERS, np.ones(4))
    with pytest.raises(
        ValueError, match=r"v must have shape \(5, 3\), got shape \(3,\)"
    ):
        rn.jvp(np.ones((5, 3)), LAYERS, np.ones(3))


def test_cotangent_shape_must_match_output():
    with pytest.raises(ValueError, match=r"u must have shape \(2,\), got shape \(3,\)"):
        rn.vjp(np.ones(3), LAYERS, np.ones(3))
    with pytest.raises(
        ValueError, match=r"u must have shape \(5, 2\), got shape \(2, 5\)"
    ):
        rn.vjp(np.ones((5, 3)), LAYERS, np.ones((2, 5)))


def test_non_finite_direction():
    with pytest.raises(ValueError, match="u must be finite"):
        rn.vjp(np.ones(3), LAYERS, [np.nan, 1.0])


def test_he_normal_scale_and_errors():
    layers = rn.he_normal([400, 300, 1], seed=0, weight_gain=2.0)
    assert layers[0].W.std() == pytest.approx(2.0 * np.sqrt(2 / 400), rel=0.02)
    assert [l.activation for l in layers] == ["relu", "linear"]
    assert np.all(layers[0].b == 0)
    with pytest.raises(ValueError, match="widths must be"):
        rn.he_normal([3], seed=0)
    with pytest.raises(ValueError, match="weight_gain must be > 0"):
        rn.he_normal([3, 2], seed=0, weight_gain=0.0)
