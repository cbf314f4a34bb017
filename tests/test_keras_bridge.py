"""relunet.keras.layers_from_keras: round trips and the error cases."""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from networks import network_shapes

import relunet as rn
from relunet.keras import layers_from_keras

pytestmark = pytest.mark.oracle


def keras_model(widths, activations, dtype="float64", use_bias=True, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((widths[0],), dtype=dtype, name="x")
    a = inputs
    for k, (n_out, activation) in enumerate(zip(widths[1:], activations)):
        a = keras.layers.Dense(
            n_out,
            activation=activation,
            use_bias=use_bias,
            bias_initializer="random_normal",
            dtype=dtype,
            name=f"dense_{k}",
        )(a)
    return keras.Model(inputs, a, name="net")


@settings(max_examples=20)
@given(network_shapes(max_layers=4, max_width=8, max_batch=6))
def test_round_trip_float64(shape):
    widths, activations, batch, seed = shape
    model = keras_model(widths, activations, seed=seed % 1000, use_bias=seed % 3 != 0)
    layers = layers_from_keras(model)
    assert [layer.activation for layer in layers] == activations
    assert [layer.W.shape for layer in layers] == list(zip(widths[1:], widths[:-1]))
    x = np.random.default_rng(seed).normal(size=(batch, widths[0]))
    np.testing.assert_allclose(
        rn.forward(x, layers), model(x).numpy(), rtol=1e-12, atol=1e-12
    )


@settings(max_examples=10)
@given(network_shapes(max_layers=3, max_width=8, max_batch=6))
def test_round_trip_float32_sequential(shape):
    widths, activations, batch, seed = shape
    keras.utils.set_random_seed(seed % 1000)
    model = keras.Sequential(
        [keras.Input((widths[0],))]
        + [
            keras.layers.Dense(n, activation=a, bias_initializer="ones")
            for n, a in zip(widths[1:], activations)
        ]
    )
    layers = layers_from_keras(model)
    assert all(layer.dtype == np.float32 for layer in layers)
    x = np.random.default_rng(seed).normal(size=(batch, widths[0])).astype(np.float32)
    np.testing.assert_allclose(
        rn.forward(x, layers), model(x).numpy(), rtol=1e-5, atol=1e-5
    )
    layers64 = layers_from_keras(model, dtype=np.float64)
    assert all(layer.dtype == np.float64 for layer in layers64)


def test_W_is_the_transposed_kernel_and_use_bias_false_gives_zero_bias():
    model = keras_model([4, 3, 2], ["relu", "linear"], use_bias=False)
    layers = layers_from_keras(model)
    np.testing.assert_array_equal(
        layers[0].W, model.get_layer("dense_0").kernel.numpy().T
    )
    np.testing.assert_array_equal(layers[1].b, np.zeros(2))


def test_not_a_model():
    with pytest.raises(TypeError, match="model must be a keras.Model, got Dense"):
        layers_from_keras(keras.layers.Dense(2))


def test_other_layer_type_is_named():
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(3),
            keras.layers.Dropout(0.5, name="drop"),
        ]
    )
    with pytest.raises(
        ValueError, match="layer 'drop' is a Dropout; only Dense layers"
    ):
        layers_from_keras(model)


@pytest.mark.parametrize(
    "activation", ["tanh", "sigmoid", "relu6", "leaky_relu", "elu"]
)
def test_other_activation_is_named(activation):
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3, activation=activation, name="odd")]
    )
    with pytest.raises(
        ValueError, match=f"layer 'odd' has activation '{activation}'; expected one of"
    ):
        layers_from_keras(model)


def test_unbuilt_model():
    model = keras.Sequential([keras.layers.Dense(3)], name="unbuilt")
    with pytest.raises(ValueError, match="model 'unbuilt' is not built"):
        layers_from_keras(model)


def test_shared_layer():
    shared = keras.layers.Dense(4, name="shared")
    inputs = keras.Input((4,))
    model = keras.Model(inputs, shared(shared(inputs)))
    with pytest.raises(ValueError, match="layer 'shared' is applied 2 times"):
        layers_from_keras(model)


def test_two_outputs():
    inputs = keras.Input((4,))
    model = keras.Model(
        inputs,
        [keras.layers.Dense(2)(inputs), keras.layers.Dense(3)(inputs)],
        name="two",
    )
    with pytest.raises(
        ValueError, match="model 'two' must have one input and one output, got 1 input"
    ):
        layers_from_keras(model)


def test_three_dimensional_input():
    model = keras.Sequential([keras.Input((5, 4)), keras.layers.Dense(3, name="seq")])
    with pytest.raises(
        ValueError, match=r"layer 'seq' takes input of shape \(None, 5, 4\)"
    ):
        layers_from_keras(model)


def test_relunet_does_not_import_tensorflow():
    import subprocess
    import sys

    code = (
        "import relunet, relunet.keras, sys; print('tensorflow' in sys.modules, "
        "'keras' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False False"


def test_softplus_layers_are_read_and_the_message_says_so():
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, activation="softplus", name="smooth"),
            keras.layers.Dense(2, name="out"),
        ]
    )
    layers = layers_from_keras(model, dtype=np.float64)
    assert [layer.activation for layer in layers] == ["softplus", "linear"]
    assert "relu or linear" not in layers_from_keras.__doc__
    bad = keras.Sequential([keras.Input((4,)), keras.layers.Dropout(0.5, name="d")])
    with pytest.raises(ValueError, match="activation one of .*'softplus'"):
        layers_from_keras(bad)
