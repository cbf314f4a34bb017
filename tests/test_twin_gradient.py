"""The twin network's training gradient by hand (relunet.twin), against TensorFlow.

The oracle is the loss ``train_twin(backend="tensorflow")`` minimises
(``relunet.training.tensorflow_loss``: a tape for ``dNN/dx`` inside the tape
that differentiates the weights), on a Keras model holding the same weights,
at the same batch. Central differences of the loss are the second oracle.
"""

import re

import numpy as np
import pytest
import tensorflow as tf
from networks import random_network

import relunet as rn
from relunet import montecarlo as mc
from relunet.training import (
    differential_loss,
    keras_twin,
    tensorflow_loss,
    train_twin,
)
from relunet.twin import glorot_uniform, softplus_parts


def relative(ours, theirs) -> float:
    """max |ours - theirs| / max |theirs| (0 when both are exactly 0)."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    scale = np.max(np.abs(theirs))
    difference = np.max(np.abs(ours - theirs))
    return float(difference / scale) if scale > 0 else float(difference)


def twin_case(seed, depth, activation, n_in, batch=32):
    """A random twin network (hidden widths 1-20, linear output) and a batch."""
    rng = np.random.default_rng(seed)
    hidden = [int(h) for h in rng.integers(1, 21, size=depth)]
    layers = random_network(rng, [n_in, *hidden, 1], [activation] * depth + ["linear"])
    x = rng.normal(size=(batch, n_in))
    y = rng.normal(size=batch)
    dydx = rng.normal(size=(batch, n_in))
    lambda_j = rng.uniform(0.3, 3.0, size=n_in)
    alpha = 1.0 / (1.0 + n_in)  # train_twin's value with lam = 1
    return layers, hidden, (x, y, dydx, lambda_j, alpha)


def tensorflow_gradient(layers, hidden, activation, x, y, dydx, lambda_j, alpha):
    """Loss and [(dW, db), ...] from nested tapes, in relunet's layout."""
    model = keras_twin(x.shape[1], hidden, activation, layers)
    with tf.GradientTape() as tape:
        loss = tensorflow_loss(
            model,
            tf.constant(x),
            tf.constant(y),
            tf.constant(dydx),
            tf.constant(lambda_j**2),
            alpha,
        )
    grads = tape.gradient(loss, model.trainable_variables)
    return float(loss), [(k.numpy().T, b.numpy()) for k, b in zip(*[iter(grads)] * 2)]


CASES = [
    (depth, activation, n_in)
    for depth in (1, 2, 3, 4, 5)
    for activation in ("softplus", "relu")
    for n_in in (1, 7, 20)
]


@pytest.mark.oracle
@pytest.mark.parametrize("depth, activation, n_in", CASES)
def test_differential_loss_matches_nested_tapes(depth, activation, n_in):
    seed = 100 * depth + 10 * n_in + (activation == "relu")
    layers, hidden, batch = twin_case(seed, depth, activation, n_in)
    loss, grads = differential_loss(layers, *batch)
    tf_loss, tf_grads = tensorflow_gradient(layers, hidden, activation, *batch)
    assert relative(loss, tf_loss) < 1e-12
    for (dW, db), (tf_dW, tf_db) in zip(grads, tf_grads, strict=True):
        assert relative(dW, tf_dW) < 1e-12
        assert relative(db, tf_db) < 1e-12


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_differential_loss_matches_central_differences(depth):
    """Softplus is smooth: the directional derivative of the loss along random
    weight directions, and along single weights and biases."""
    n_in = 3
    layers, _, batch = twin_case(7 + depth, depth, "softplus", n_in, batch=16)
    _, grads = differential_loss(layers, *batch)
    rng = np.random.default_rng(depth)
    h = 1e-5

    def loss_at(step, directions):
        moved = [
            rn.Dense(layer.W + step * vW, layer.b + step * vb, layer.activation)
            for layer, (vW, vb) in zip(layers, directions)
        ]
        return differential_loss(moved, *batch)[0]

    directions = [
        [
            (rng.normal(size=layer.W.shape), rng.normal(size=layer.b.shape))
            for layer in layers
        ]
        for _ in range(4)
    ]
    for k in range(len(layers)):  # one weight and one bias of every layer
        for which in (0, 1):
            unit = [
                (np.zeros_like(layer.W), np.zeros_like(layer.b)) for layer in layers
            ]
            unit[k][which].flat[-1] = 1.0
            directions.append(unit)
    for direction in directions:
        central = (loss_at(h, direction) - loss_at(-h, direction)) / (2 * h)
        exact = sum(
            np.sum(dW * vW) + np.sum(db * vb)
            for (dW, db), (vW, vb) in zip(grads, direction)
        )
        assert abs(central - exact) < 1e-7 * max(abs(exact), 1e-3)


@pytest.mark.parametrize("depth", [1, 3])
def test_relu_biases_get_no_gradient_from_the_derivative_term(depth):
    layers, _, (x, y, dydx, lambda_j, _) = twin_case(depth, depth, "relu", 4)
    _, grads = differential_loss(layers, x, y, dydx, lambda_j, 0.0)
    assert all(np.all(db == 0.0) for _, db in grads)
    assert all(np.any(dW != 0.0) for dW, _ in grads)
    # softplus: f'' > 0, the same term moves every hidden bias
    smooth = [rn.Dense(layer.W, layer.b, "softplus") for layer in layers[:-1]]
    _, grads = differential_loss(smooth + layers[-1:], x, y, dydx, lambda_j, 0.0)
    assert all(np.all(db != 0.0) for _, db in grads[:-1])


def test_value_term_alone_is_the_mean_squared_error_gradient():
    layers, _, (x, y, dydx, lambda_j, _) = twin_case(3, 2, "softplus", 5)
    loss, grads = differential_loss(layers, x, y, dydx, lambda_j, 1.0)
    error = rn.forward(x, layers)[:, 0] - y
    assert loss == pytest.approx(np.mean(error**2), rel=1e-14)
    output_bar = 2 * error / len(y)  # d loss / d NN(x_i)
    assert grads[-1][1][0] == pytest.approx(output_bar.sum(), rel=1e-13)


def test_shapes_and_types():
    layers, _, batch = twin_case(4, 3, "softplus", 6)
    loss, grads = differential_loss(layers, *batch)
    assert isinstance(loss, float) and len(grads) == len(layers)
    for layer, (dW, db) in zip(layers, grads):
        assert dW.shape == layer.W.shape and db.shape == layer.b.shape
        assert dW.dtype == db.dtype == np.float64
    # without hidden layers NN(x) = W x + b and dNN/dx = W, here equal to dydx
    loss, [(dW, db)] = differential_loss(
        [rn.Dense([[2.0, -1.0]], [0.5], "linear")],
        [[1.0, 1.0]],
        [0.0],
        [[2.0, -1.0]],
        [1.0, 1.0],
        0.5,
    )
    assert loss == 0.5 * 1.5**2
    np.testing.assert_array_equal(dW, [[1.5, 1.5]])  # 2 alpha (NN - y) x
    np.testing.assert_array_equal(db, [1.5])


LAYERS = [
    rn.Dense(np.ones((3, 2)), np.zeros(3), "softplus"),
    rn.Dense(np.ones((1, 3)), [0.0], "linear"),
]
GOOD = (np.ones((4, 2)), np.ones(4), np.ones((4, 2)), np.ones(2), 0.5)


@pytest.mark.parametrize(
    "change, kind, message",
    [
        ({"layers": LAYERS[:1]}, ValueError, "last layer must be linear with one unit"),
        (
            {"layers": [LAYERS[0], rn.Dense(np.ones((2, 3)), [0, 0], "linear")]},
            ValueError,
            "W of shape (2, 3)",
        ),
        ({"x": np.ones((4, 3))}, ValueError, "x must have shape (batch, 2)"),
        (
            {"x": np.ones((0, 2)), "y": np.ones(0), "dydx": np.ones((0, 2))},
            ValueError,
            "batch >= 1",
        ),
        ({"y": np.ones((4, 1))}, ValueError, "y must have shape (4,)"),
        ({"dydx": np.ones((4, 1))}, ValueError, "dydx must have shape (4, 2)"),
        ({"lambda_j": np.ones(3)}, ValueError, "lambda_j must have shape (2,)"),
        ({"alpha": 1.5}, ValueError, "alpha must lie in [0, 1], got 1.5"),
        ({"alpha": "a"}, TypeError, "alpha must be a real number in [0, 1], got str"),
        ({"layers": "net"}, TypeError, "layers must be a Dense layer"),
    ],
)
def test_bad_input_is_refused(change, kind, message):
    arguments = dict(
        zip(["layers", "x", "y", "dydx", "lambda_j", "alpha"], [LAYERS, *GOOD])
    )
    arguments |= change
    with pytest.raises(kind, match=re.escape(message)):
        differential_loss(**arguments)


@pytest.fixture(scope="module")
def basket():
    rng = np.random.default_rng(0)
    spots = rng.uniform(60, 140, size=(512, 2))
    payoff, gradient = mc.simulate_bachelier_basket(
        spots, np.array([0.6, 0.4]), 100.0, 25.0 * np.eye(2), 1.0, seed=1
    )
    return spots, payoff, gradient


@pytest.mark.oracle
@pytest.mark.parametrize(
    "activation, schedule",
    [("softplus", "cosine"), ("relu", "cosine"), ("softplus", "one_cycle")],
)
def test_numpy_and_tensorflow_trainings_agree_after_100_steps(
    basket, activation, schedule
):
    start = glorot_uniform(2, (8, 8), activation, seed=3)
    budget = {"steps": 100} if schedule == "cosine" else {"epochs": 25}
    runs = [
        train_twin(
            *basket,
            hidden=(8, 8),
            activation=activation,
            batch_size=128,
            seed=3,
            backend=backend,
            initial_layers=start,
            schedule=schedule,
            learning_rate=0.01 if schedule == "cosine" else 0.1,
            **budget,
        )
        for backend in ("numpy", "tensorflow")
    ]
    ours, theirs = runs
    assert ours.model is None and theirs.model is not None
    assert ours.losses.shape == (100,)  # 25 epochs of 512 // 128 batches
    # The same float32 learning rates, the same batches: only the order of the
    # arithmetic differs (measured: 6e-16 at most).
    assert relative(ours.losses, theirs.losses) < 1e-12
    assert ours.losses[-10:].mean() < 0.5 * ours.losses[:10].mean()
    for a, b in zip(ours.layers, theirs.layers, strict=True):
        assert relative(a.W, b.W) < 1e-12
        assert relative(a.b, b.b) < 1e-12


def test_softplus_parts_are_softplus_and_its_derivatives():
    z = np.linspace(-40.0, 40.0, 2001)
    ours = softplus_parts(z)
    ulp = np.finfo(np.float64).eps
    # relunet.activations' forms, whose exp(-logaddexp(...)) carries the rounding
    # of logaddexp's result: up to about |z| ulp
    theirs = (
        rn.softplus(z),
        rn.softplus_derivative(z),
        rn.softplus_second_derivative(z),
    )
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=64 * ulp, atol=0)
    if np.finfo(np.longdouble).eps < ulp:  # extended precision: the exact values
        e = np.exp(z.astype(np.longdouble))
        exact = (np.log1p(e), e / (1 + e), e / (1 + e) ** 2)
        for mine, truth in zip(ours, exact, strict=True):
            assert np.max(np.abs(mine - truth) / truth) < 4 * ulp
    extremes = np.array([-800.0, -745.5, -1e-300, 0.0, 699.9, 700.0, 700.5, 800.0])
    f, slope, curvature = softplus_parts(extremes)
    np.testing.assert_allclose(f, rn.softplus(extremes), rtol=4 * ulp, atol=0)
    np.testing.assert_allclose(slope, rn.softplus_derivative(extremes), rtol=4 * ulp)
    assert np.all(np.isfinite(curvature)) and np.all(curvature[-2:] < 1e-303)
    assert f[-1] == 800.0 and slope[-1] == 1.0 and f[0] == slope[0] == 0.0
