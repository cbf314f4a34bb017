"""TensorFlow as the oracle for softplus networks and second derivatives.

The TensorFlow network is written with plain ops (``a @ W^T + b``,
``tf.nn.softplus``, ``tf.nn.relu``), independently of relunet. Hessians come
from nested tapes (``batch_jacobian`` of a ``batch_jacobian``), for both of
relunet's algorithms (the adjoint form and the recursion); Hessian-vector
products from a ``ForwardAccumulator`` over a tape (forward over reverse), for
relunet's forward over reverse and its forward-over-forward reference.

Every Jacobian here is one backward pass per output on persistent tapes
(``batch_jacobian(..., experimental_use_pfor=False)``, or ``tape.gradient``
of each output's batch sum under the accumulator): the default vectorised
``batch_jacobian`` builds and compiles a graph on every eager call, 5 to 10
times slower for these small networks (tests/test_tensorflow_oracle.py checks
that the two forms agree).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from networks import network_shapes, random_case

import relunet as rn
from relunet.keras import layers_from_keras
from relunet.second_order import _hvp_forward_over_forward

pytestmark = pytest.mark.oracle

TF_ACTIVATION = {"relu": tf.nn.relu, "softplus": tf.nn.softplus, "linear": lambda z: z}


def tf_network(a, layers):
    for layer in layers:
        z = tf.matmul(a, tf.constant(layer.W, tf.float64), transpose_b=True) + layer.b
        a = TF_ACTIVATION[layer.activation](z)
    return a


def tf_hessian(x, layers):
    """(batch, n_out, n_in, n_in) by nested tapes."""
    x = tf.constant(x, tf.float64)
    with tf.GradientTape(persistent=True) as outer:
        outer.watch(x)
        with tf.GradientTape(persistent=True) as inner:
            inner.watch(x)
            y = tf_network(x, layers)
        # (batch, n_out, n_in), recorded by the outer tape
        J = inner.batch_jacobian(y, x, experimental_use_pfor=False)
    # Anything done to J after the outer block would not be recorded: its
    # batch_jacobian would then be zeros, silently.
    return outer.batch_jacobian(J, x, experimental_use_pfor=False).numpy()


def tf_hvp(x, layers, v):
    """(batch, n_out, n_in): forward-mode derivative along v of the tape's Jacobian.

    The Jacobian is taken one output at a time with ``tape.gradient``, TensorFlow's
    recipe for forward over reverse: the accumulator does not see through
    ``batch_jacobian``'s loop without ``pfor``.
    """
    x = tf.constant(x, tf.float64)
    with tf.autodiff.ForwardAccumulator(
        primals=x, tangents=tf.constant(v, tf.float64)
    ) as accumulator:
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = tf_network(x, layers)
            # row k of every sample's Jacobian is the gradient of the batch sum
            # of output k, as the samples do not interact
            sums = [tf.reduce_sum(y[:, k]) for k in range(y.shape[1])]
        J = tf.stack([tape.gradient(s, x) for s in sums], axis=1)
    # a linear network's Jacobian does not depend on x: its derivative is 0
    return accumulator.jvp(J, unconnected_gradients="zero").numpy()


def softplus_shapes():
    """Softplus networks of 1 to 5 layers, with a linear or softplus output layer."""
    return network_shapes(
        max_layers=5, max_batch=4, hidden=("softplus",), last=("linear", "softplus")
    )


case = random_case


@settings(max_examples=15)
@given(softplus_shapes())
def test_forward_jacobian_jvp_vjp_of_softplus_networks_match_tensorflow(shape):
    rng, layers, x = case(shape)
    x_tf = tf.constant(x)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x_tf)
        y = tf_network(x_tf, layers)
    np.testing.assert_allclose(rn.forward(x, layers), y.numpy(), rtol=1e-12, atol=1e-14)
    J_tf = tape.batch_jacobian(y, x_tf, experimental_use_pfor=False).numpy()
    np.testing.assert_allclose(rn.jacobian(x, layers), J_tf, rtol=1e-12, atol=1e-14)
    for mode in ("forward", "reverse"):
        np.testing.assert_allclose(
            rn.jacobian(x, layers, mode=mode),
            J_tf,
            rtol=1e-12,
            atol=1e-14,
        )
    u = rng.normal(size=y.shape)
    np.testing.assert_allclose(
        rn.vjp(x, layers, u),
        tape.gradient(y, x_tf, output_gradients=tf.constant(u)).numpy(),
        rtol=1e-12,
        atol=1e-14,
    )
    v = rng.normal(size=x.shape)
    with tf.autodiff.ForwardAccumulator(
        primals=x_tf, tangents=tf.constant(v)
    ) as accumulator:
        y_fwd = tf_network(x_tf, layers)
    np.testing.assert_allclose(
        rn.jvp(x, layers, v), accumulator.jvp(y_fwd).numpy(), rtol=1e-12, atol=1e-14
    )


@settings(max_examples=15)
@given(softplus_shapes())
def test_hessian_matches_nested_tapes(shape):
    _, layers, x = case(shape)
    H_tf = tf_hessian(x, layers)
    scale = max(np.max(np.abs(H_tf)), 1e-300)
    for mode in ("auto", "adjoint", "recursion"):
        np.testing.assert_allclose(
            rn.hessian(x, layers, mode=mode), H_tf, rtol=1e-9, atol=1e-12 * scale
        )


@settings(max_examples=15)
@given(softplus_shapes())
def test_hvp_matches_forward_over_reverse(shape):
    rng, layers, x = case(shape)
    v = rng.normal(size=x.shape)
    expected = tf_hvp(x, layers, v)
    scale = max(np.max(np.abs(expected)), 1e-300)
    np.testing.assert_allclose(
        rn.hvp(x, layers, v), expected, rtol=1e-9, atol=1e-12 * scale
    )
    np.testing.assert_allclose(  # the forward-over-forward reference agrees too
        _hvp_forward_over_forward(x, layers, v), expected, rtol=1e-9, atol=1e-12 * scale
    )


def test_relu_network_hessian_is_zero_in_tensorflow_too():
    layers = rn.he_normal([3, 6, 6, 2], seed=3, bias_std=0.2)
    x = np.random.default_rng(3).normal(size=(5, 3))
    H_tf = tf_hessian(x, layers)
    assert np.all(H_tf == 0)
    for mode in ("adjoint", "recursion"):
        assert np.all(rn.hessian(x, layers, mode=mode) == 0)


def test_keras_softplus_layers_are_read_and_differentiated_alike():
    keras.utils.set_random_seed(7)
    model = keras.Sequential(
        [
            keras.Input((3,), dtype="float64"),
            keras.layers.Dense(
                5, activation="softplus", name="smooth", dtype="float64"
            ),
            keras.layers.Dense(2, name="out", dtype="float64"),
        ],
        name="softplus_model",
    )
    layers = layers_from_keras(model)
    assert [layer.activation for layer in layers] == ["softplus", "linear"]
    x = tf.constant(np.random.default_rng(7).normal(size=(4, 3)))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model(x)
    np.testing.assert_allclose(rn.forward(x.numpy(), layers), y.numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        rn.jacobian(x.numpy(), layers), tape.batch_jacobian(y, x).numpy(), rtol=1e-12
    )
