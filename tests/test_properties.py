"""Property tests: what must hold for every network, checked on many."""

import numpy as np
import pytest
from hypothesis import given
from networks import network_shapes, random_network

import relunet as rn

# Central differences are exact for an affine map up to rounding, so they
# match the Jacobian wherever no pre-activation changes sign within the step.
# With weights of scale 1/sqrt(n_in) and widths up to 6, a step of 6e-6 moves
# a pre-activation by far less than KINK_MARGIN.
KINK_MARGIN = 1e-2


def _away_from_kinks(x, layers):
    zs = rn.preactivations(x, layers)
    return all(
        np.min(np.abs(z)) > KINK_MARGIN
        for z, layer in zip(zs, layers)
        if layer.activation == "relu"
    )


@given(network_shapes())
def test_jacobian_equals_central_differences_away_from_kinks(shape):
    widths, activations, batch, seed = shape
    rng = np.random.default_rng(seed)
    layers = random_network(rng, widths, activations)
    x = rng.normal(size=(batch, widths[0]))
    # Draw again until no pre-activation is near a kink (a few tries suffice).
    for _ in range(50):
        if _away_from_kinks(x, layers):
            break
        x = rng.normal(size=(batch, widths[0]))
        layers = random_network(rng, widths, activations)
    else:
        pytest.fail(f"no input away from the kinks found for widths {widths}")
    J_fd = rn.finite_difference_jacobian(lambda v: rn.forward(v, layers), x)
    np.testing.assert_allclose(rn.jacobian(x, layers), J_fd, rtol=1e-7, atol=1e-8)


@given(network_shapes())
def test_batch_jacobian_is_the_stack_of_single_jacobians(shape):
    widths, activations, batch, seed = shape
    rng = np.random.default_rng(seed)
    layers = random_network(rng, widths, activations, integer=seed % 2 == 0)
    x = rng.integers(-2, 3, size=(batch, widths[0])).astype(float)
    J = rn.jacobian(x, layers)
    assert J.shape == (batch, widths[-1], widths[0])
    for s in range(batch):
        single = rn.jacobian(x[s], layers)
        assert single.shape == (widths[-1], widths[0])
        # Batched and single products may round differently (matrix-matrix
        # versus matrix-vector kernels), by a few units in the last place.
        np.testing.assert_allclose(J[s], single, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(
            rn.forward(x, layers)[s], rn.forward(x[s], layers), rtol=1e-13, atol=1e-15
        )


@given(network_shapes())
def test_rows_of_inactive_output_units_are_zero(shape):
    widths, activations, batch, seed = shape
    activations[-1] = "relu"
    rng = np.random.default_rng(seed)
    layers = random_network(rng, widths, activations, integer=True)
    x = rng.integers(-2, 3, size=(batch, widths[0])).astype(float)
    z_out = rn.preactivations(x, layers)[-1]
    for at_zero in (0.0, 1.0):
        J = rn.jacobian(x, layers, at_zero=at_zero)
        off = z_out < 0 if at_zero else z_out <= 0
        assert np.all(J[off] == 0)


@given(network_shapes(max_layers=1))
def test_single_relu_layer_is_diag_mask_times_W(shape):
    widths, _, batch, seed = shape
    rng = np.random.default_rng(seed)
    (layer,) = random_network(rng, widths, ["relu"], integer=True)
    x = rng.integers(-2, 3, size=(batch, widths[0])).astype(float)
    z = rn.preactivations(x, layer)[0]
    for at_zero in (0.0, 0.5, 1.0):
        D = np.where(z > 0, 1.0, np.where(z == 0, at_zero, 0.0))
        expected = np.stack([np.diag(d) @ layer.W for d in D])
        np.testing.assert_array_equal(rn.jacobian(x, layer, at_zero=at_zero), expected)


@given(network_shapes())
def test_float32_networks_stay_float32_and_agree_with_float64(shape):
    widths, activations, batch, seed = shape
    rng = np.random.default_rng(seed)
    layers64 = random_network(rng, widths, activations)
    layers32 = [
        rn.Dense(l.W.astype(np.float32), l.b.astype(np.float32), l.activation)
        for l in layers64
    ]
    x = rng.normal(size=(batch, widths[0]))
    J32 = rn.jacobian(x.astype(np.float32), layers32)
    assert J32.dtype == np.float32
    assert rn.forward(x.astype(np.float32), layers32).dtype == np.float32
    if _away_from_kinks(x, layers64):
        np.testing.assert_allclose(J32, rn.jacobian(x, layers64), rtol=1e-4, atol=1e-5)
