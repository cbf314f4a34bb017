"""relunet.training: the twin network's derivative is relunet's Jacobian; determinism;
folding.
"""

import numpy as np
import pytest
import tensorflow as tf

import relunet as rn
from relunet import montecarlo as mc
from relunet.keras import layers_from_keras
from relunet.training import fold_normalisation, input_gradient, train_twin

pytestmark = pytest.mark.oracle


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    spots = rng.uniform(60, 140, size=(512, 2))
    payoff, gradient = mc.simulate_bachelier_basket(
        spots, np.array([0.6, 0.4]), 100.0, 25.0 * np.eye(2), 1.0, seed=1
    )
    return spots, payoff, gradient


@pytest.fixture(scope="module")
def twin(data):
    spots, payoff, gradient = data
    return train_twin(
        spots, payoff, gradient, hidden=(8, 8), steps=150, batch_size=128, seed=3
    )


def test_relunet_jacobian_is_exactly_the_derivative_the_training_step_uses(twin, data):
    x_n = twin.normalise(data[0][:64])
    _, tape_gradient = input_gradient(twin.model, tf.constant(x_n))
    ours = rn.jacobian(x_n, layers_from_keras(twin.model, dtype=np.float64))[:, 0, :]
    np.testing.assert_allclose(ours, tape_gradient.numpy(), rtol=1e-12, atol=1e-15)


def test_folded_layers_predict_in_original_units(twin, data):
    x = data[0][:64]
    y_model = (
        twin.model(tf.constant(twin.normalise(x))).numpy()[:, 0] * twin.y_std
        + twin.y_mean
    )
    np.testing.assert_allclose(twin.predict(x), y_model, rtol=1e-12, atol=1e-12)
    _, g_n = input_gradient(twin.model, tf.constant(twin.normalise(x)))
    np.testing.assert_allclose(
        twin.gradient(x), g_n.numpy() * twin.y_std / twin.x_std, rtol=1e-11, atol=1e-14
    )


def test_same_seed_same_network(data):
    spots, payoff, gradient = data
    a = train_twin(spots, payoff, gradient, hidden=(4,), steps=20, seed=5)
    b = train_twin(spots, payoff, gradient, hidden=(4,), steps=20, seed=5)
    for la, lb in zip(a.layers, b.layers):
        np.testing.assert_array_equal(la.W, lb.W)
        np.testing.assert_array_equal(la.b, lb.b)
    np.testing.assert_array_equal(a.losses, b.losses)


def test_training_lowers_the_loss(twin):
    assert twin.losses[-10:].mean() < 0.5 * twin.losses[:10].mean()


def test_fold_normalisation_by_hand():
    layers = [
        rn.Dense([[2.0, -1.0]], [0.5], "softplus"),
        rn.Dense([[3.0]], [1.0], "linear"),
    ]
    x_mean, x_std, y_mean, y_std = np.array([1.0, 2.0]), np.array([2.0, 4.0]), 10.0, 5.0
    folded = fold_normalisation(layers, x_mean, x_std, y_mean, y_std)
    x = np.array([[3.0, -1.0], [0.0, 0.5]])
    expected = y_mean + y_std * rn.forward((x - x_mean) / x_std, layers)
    np.testing.assert_allclose(rn.forward(x, folded), expected, rtol=1e-14)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"y": np.ones(3)}, r"y must have shape \(4,\)"),
        ({"dydx": np.ones((4, 3))}, r"dydx must have shape \(4, 2\)"),
        ({"activation": "tanh"}, "activation must be 'softplus' or 'relu'"),
        ({"steps": 0}, "steps must be a positive integer"),
        ({"hidden": ()}, "hidden must be a non-empty tuple"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    arguments = {
        "x": np.arange(8.0).reshape(4, 2),
        "y": np.arange(4.0),
        "dydx": None,
    } | kwargs
    with pytest.raises(ValueError, match=message):
        train_twin(
            arguments.pop("x"), arguments.pop("y"), arguments.pop("dydx"), **arguments
        )
