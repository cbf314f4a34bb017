"""TensorFlow as the oracle: relunet.jacobian against GradientTape.batch_jacobian.

The TensorFlow network is written with plain ops (``a @ W^T + b`` and
``tf.nn.relu``), independently of relunet, and differentiated by automatic
differentiation in float64.

``batch_jacobian`` has two implementations in TensorFlow: by default it
vectorises the backward pass (``pfor``), which in eager mode builds and
compiles a graph on every call (about 0.13 s for a network of a few units);
with ``experimental_use_pfor=False`` it runs one backward pass per output on a
persistent tape, 3 to 10 times faster at these sizes. The property tests,
hundreds of small networks, use the second (the vectorised one for more than
16 outputs, where it is the faster); the examples use the default; both give
the same Jacobian, bit for bit, at exact kinks too (tested).
"""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from networks import integer_case, network_shapes, random_network

import relunet as rn

pytestmark = pytest.mark.oracle


def tf_forward_and_jacobian(x, layers, pfor=False):
    """Output and per-sample Jacobian computed by TensorFlow."""
    x = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape(persistent=not pfor) as tape:
        tape.watch(x)
        a = x
        for layer in layers:
            z = (
                tf.matmul(a, tf.constant(layer.W, tf.float64), transpose_b=True)
                + layer.b
            )
            a = tf.nn.relu(z) if layer.activation == "relu" else z
    return a.numpy(), tape.batch_jacobian(a, x, experimental_use_pfor=pfor).numpy()


@given(network_shapes(max_layers=4, max_width=8, max_batch=6))
def test_jacobian_matches_tensorflow_on_random_networks(shape):
    widths, activations, batch, seed = shape
    rng = np.random.default_rng(seed)
    layers = random_network(rng, widths, activations)
    x = rng.normal(size=(batch, widths[0]))
    y_tf, J_tf = tf_forward_and_jacobian(x, layers)
    np.testing.assert_allclose(rn.forward(x, layers), y_tf, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rn.jacobian(x, layers), J_tf, rtol=1e-12, atol=1e-12)


@given(network_shapes(max_layers=4, max_width=8, max_batch=6))
def test_jacobian_matches_tensorflow_at_exact_kinks(shape):
    # Small integers make every pre-activation exact in both libraries, and
    # many of them exactly 0: tf.nn.relu's gradient there is 0, and so is
    # relunet's default.
    _, layers, x = integer_case(shape)
    _, J_tf = tf_forward_and_jacobian(x, layers)
    np.testing.assert_array_equal(rn.jacobian(x, layers), J_tf)


def test_kinks_are_really_reached():
    """The integer networks above do put pre-activations at exactly 0."""
    rng = np.random.default_rng(0)
    layers = random_network(rng, [4, 6, 6, 3], ["relu", "relu", "relu"], integer=True)
    x = rng.integers(-2, 3, size=(32, 4)).astype(np.float64)
    zeros = sum(int(np.sum(z == 0)) for z in rn.preactivations(x, layers))
    assert zeros >= 32
    _, J_tf = tf_forward_and_jacobian(x, layers, pfor=True)
    np.testing.assert_array_equal(rn.jacobian(x, layers, at_zero=0.0), J_tf)
    assert not np.array_equal(rn.jacobian(x, layers, at_zero=1.0), J_tf)
    # TensorFlow's two batch_jacobians agree bit for bit, at the kinks too
    np.testing.assert_array_equal(tf_forward_and_jacobian(x, layers)[1], J_tf)


def test_seed_example_matches_tensorflow():
    layer = rn.Dense([[1, 2, 3], [3, 4, 6]], [1, 3])
    y_tf, J_tf = tf_forward_and_jacobian(np.array([[1.0, 2.0, 3.0]]), [layer], True)
    np.testing.assert_array_equal(y_tf, [[15.0, 32.0]])
    np.testing.assert_array_equal(J_tf[0], rn.jacobian([1, 2, 3], layer))


def test_single_unit_at_zero_each_convention():
    """tf.nn.relu gives 0 at the kink, tf.maximum(x, 0) gives 1."""
    x = tf.constant([[0.0]], dtype=tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y_relu = tf.nn.relu(x)
        y_max = tf.maximum(x, tf.constant(0.0, tf.float64))
    layer = rn.Dense([[1.0]], [0.0])
    assert (
        float(tape.batch_jacobian(y_relu, x)[0, 0, 0])
        == rn.jacobian([0.0], layer)[0, 0]
        == 0.0
    )
    assert (
        float(tape.batch_jacobian(y_max, x)[0, 0, 0])
        == rn.jacobian([0.0], layer, at_zero=1)[0, 0]
        == 1.0
    )


# --- Deep networks: Jacobian, JVP and VJP against TensorFlow ------------------


@st.composite
def deep_networks(draw):
    depth = draw(st.integers(1, 6))
    widths = draw(st.lists(st.integers(1, 64), min_size=depth + 1, max_size=depth + 1))
    activations = draw(
        st.lists(st.sampled_from(["relu", "linear"]), min_size=depth, max_size=depth)
    )
    batch = draw(st.integers(1, 128))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return widths, activations, batch, dtype, draw(st.integers(0, 2**32 - 1))


def tf_products(x, layers, v, u):
    """TensorFlow's batch Jacobian, JVP (ForwardAccumulator), VJP (output_gradients)."""
    x = tf.constant(x)

    def network(a):
        for layer in layers:
            z = tf.matmul(a, tf.constant(layer.W), transpose_b=True) + layer.b
            a = tf.nn.relu(z) if layer.activation == "relu" else z
        return a

    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = network(x)
    # one backward pass per output, or vectorised when there are many outputs
    J = tape.batch_jacobian(y, x, experimental_use_pfor=y.shape[1] > 16).numpy()
    vjp = tape.gradient(y, x, output_gradients=tf.constant(u)).numpy()
    with tf.autodiff.ForwardAccumulator(
        primals=x, tangents=tf.constant(v)
    ) as accumulator:
        y = network(x)
    jvp = accumulator.jvp(y).numpy()
    return J, jvp, vjp


@settings(max_examples=30)
@given(deep_networks())
def test_deep_jacobian_jvp_vjp_match_tensorflow(network):
    widths, activations, batch, dtype, seed = network
    rng = np.random.default_rng(seed)
    layers = random_network(rng, widths, activations, dtype=dtype)
    x = rng.normal(size=(batch, widths[0])).astype(dtype)
    v = rng.normal(size=x.shape).astype(dtype)
    u = rng.normal(size=(batch, widths[-1])).astype(dtype)
    J_tf, jvp_tf, vjp_tf = tf_products(x, layers, v, u)
    # float64 agrees to rounding. In float32 a pre-activation within rounding
    # of 0 may fall on different sides in the two libraries; such samples are
    # left out (kinks are tested exactly in float64 below), and at least one
    # sample must remain.
    if dtype == np.float64:
        tol, clear = dict(rtol=1e-10, atol=1e-10), np.ones(batch, bool)
    else:
        tol = dict(rtol=2e-4, atol=2e-4)
        layers64 = [
            rn.Dense(l.W.astype(np.float64), l.b.astype(np.float64), l.activation)
            for l in layers
        ]
        zs = rn.preactivations(x.astype(np.float64), layers64)
        clear = np.all(
            [
                np.min(np.abs(z), axis=1) > 1e-4
                for z, l in zip(zs, layers)
                if l.activation == "relu"
            ]
            or [np.ones(batch, bool)],
            axis=0,
        )
        assume(clear.any())
    for mode in ("forward", "reverse", "auto", "optimal"):
        J = rn.jacobian(x, layers, mode=mode)
        assert J.dtype == dtype
        np.testing.assert_allclose(J[clear], J_tf[clear], **tol)
    np.testing.assert_allclose(rn.jvp(x, layers, v)[clear], jvp_tf[clear], **tol)
    np.testing.assert_allclose(rn.vjp(x, layers, u)[clear], vjp_tf[clear], **tol)


@settings(max_examples=20)
@given(network_shapes(max_layers=6, max_width=10, max_batch=16))
def test_deep_products_match_tensorflow_at_exact_kinks(shape):
    widths, _, batch, _ = shape
    rng, layers, x = integer_case(shape)
    v = rng.integers(-2, 3, size=x.shape).astype(np.float64)
    u = rng.integers(-2, 3, size=(batch, widths[-1])).astype(np.float64)
    J_tf, jvp_tf, vjp_tf = tf_products(x, layers, v, u)
    for mode in ("forward", "reverse", "optimal"):
        np.testing.assert_array_equal(rn.jacobian(x, layers, mode=mode), J_tf)
    np.testing.assert_array_equal(rn.jvp(x, layers, v), jvp_tf)
    np.testing.assert_array_equal(rn.vjp(x, layers, u), vjp_tf)
