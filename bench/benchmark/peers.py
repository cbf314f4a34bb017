"""The Jacobian peers: generic automatic differentiation, compiled.

TensorFlow's ``batch_jacobian`` in a ``tf.function`` (graph, ``tf_graph``)
and with XLA (``tf_xla``, ``jit_compile=True``); JAX's ``jit(vmap(jacrev))``
and ``jit(vmap(jacfwd))``. Each is timed as a call without arguments on its
own copy of the inputs (:func:`peer_calls`), a JAX call waiting for its
result; every one is checked against relunet before timing.
"""

from __future__ import annotations

import jax
import numpy as np
import tensorflow as tf

jax.config.update("jax_enable_x64", True)  # float64 cases stay float64
tf.get_logger().setLevel("ERROR")

PEERS = ("tf_graph", "tf_xla", "jax_jacrev", "jax_jacfwd")


def tf_peers(layers) -> dict:
    """``batch_jacobian`` of the network as TensorFlow ops: graph and XLA."""
    Ws = [tf.constant(layer.W) for layer in layers]
    bs = [tf.constant(layer.b) for layer in layers]
    relu = [layer.activation == "relu" for layer in layers]

    def batch_jacobian(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            a = x
            for W, b, is_relu in zip(Ws, bs, relu):
                a = tf.matmul(a, W, transpose_b=True) + b
                if is_relu:
                    a = tf.nn.relu(a)
        return tape.batch_jacobian(a, x)

    return {
        "tf_graph": tf.function(batch_jacobian),
        "tf_xla": tf.function(batch_jacobian, jit_compile=True),
    }


def jax_functions(layers) -> dict:
    """The network as a JAX function of one sample; its Jacobian, vmapped, jitted."""
    Ws = [jax.numpy.asarray(layer.W) for layer in layers]
    bs = [jax.numpy.asarray(layer.b) for layer in layers]
    relu = [layer.activation == "relu" for layer in layers]

    def network(x):
        a = x
        for W, b, is_relu in zip(Ws, bs, relu):
            a = W @ a + b
            if is_relu:
                a = jax.nn.relu(a)
        return a

    return {
        "jax_jacrev": jax.jit(jax.vmap(jax.jacrev(network))),
        "jax_jacfwd": jax.jit(jax.vmap(jax.jacfwd(network))),
    }


def jax_peers(layers) -> dict:
    """The JAX peers as calls that wait for their result."""
    return {
        name: lambda x, f=f: f(x).block_until_ready()
        for name, f in jax_functions(layers).items()
    }


def peer_calls(layers, x) -> dict:
    """Each peer as a call without arguments, on its own copy of ``x``."""
    x_tf, x_jax = tf.constant(x), jax.numpy.asarray(x)
    calls = {}
    for name, f in tf_peers(layers).items():
        calls[name] = lambda f=f: f(x_tf)
    for name, f in jax_peers(layers).items():
        calls[name] = lambda f=f: f(x_jax)
    return calls


def check_agreement(calls: dict, expected: np.ndarray) -> None:
    """Every candidate returns relunet's Jacobian (to the dtype's rounding)."""
    tol = (
        dict(rtol=1e-4, atol=1e-4)
        if expected.dtype == np.float32
        else dict(rtol=1e-10, atol=1e-10)
    )
    for name, call in calls.items():
        got = np.asarray(call())
        if got.shape != expected.shape:
            raise AssertionError(f"{name}: shape {got.shape}, want {expected.shape}")
        np.testing.assert_allclose(got, expected, err_msg=name, **tol)
