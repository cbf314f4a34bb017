"""Read a Keras model's Dense layers into relunet layers (chapter 3).

TensorFlow and Keras are imported lazily, inside :func:`layers_from_keras`:
importing :mod:`relunet` never imports them, and the rest of the package
works without them.
"""

from __future__ import annotations

import numpy as np

from relunet.layers import ACTIVATIONS, Dense


def layers_from_keras(model, dtype=None) -> list[Dense]:
    """The Dense layers of a Keras model, in order, as :class:`relunet.Dense`.

    Parameters
    ----------
    model : keras.Model
        A ``keras.Sequential`` or functional model with one input of shape
        (batch, n_in), one output, and only ``Dense`` layers (plus its
        ``InputLayer``) applied one after the other, each with activation
        ``"relu"``, ``"softplus"`` or ``"linear"`` (:data:`relunet.ACTIVATIONS`).
        A layer built with ``use_bias=False``
        gets a zero bias.
    dtype : numpy dtype, optional
        Cast the weights to this dtype (for example ``np.float64`` to compare
        in double precision). Default: the model's own weight dtype.

    Returns
    -------
    list of Dense
        ``W = kernel.T`` of shape (n_out, n_in) and ``b = bias`` of shape
        (n_out,) for each layer, first layer first, so that
        ``relunet.forward(x, layers)`` equals ``model(x)``.

    Raises
    ------
    TypeError
        If ``model`` is not a Keras model.
    ValueError
        Naming the offending layer: a layer that is not ``Dense``, an
        activation other than relu, softplus or linear, a model that is not
        built, or layers that do not form a single chain.

    Notes
    -----
    Keras computes ``x @ kernel + bias`` with ``kernel`` of shape
    (n_in, n_out); the book writes ``W x + b`` with ``W`` of shape
    (n_out, n_in). Hence ``W = kernel.T``.
    """
    import keras  # lazily: only this function needs Keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    if not model.built:
        raise ValueError(
            f"model {model.name!r} is not built: give it an Input or call it once, "
            "so that its layers have weights"
        )
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            f"model {model.name!r} must have one input and one output, got "
            f"{len(model.inputs)} input(s) and {len(model.outputs)} output(s)"
        )
    layers = []
    previous = None
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if not isinstance(layer, keras.layers.Dense):
            raise ValueError(
                f"layer {layer.name!r} is a {type(layer).__name__}; only Dense layers "
                f"(with activation one of {ACTIVATIONS}) can be read"
            )
        activation = keras.activations.serialize(layer.activation)
        if isinstance(activation, dict):  # Keras 3 may wrap the name
            activation = activation.get("config", activation.get("class_name"))
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"layer {layer.name!r} has activation {activation!r}; expected one of "
                f"{ACTIVATIONS}"
            )
        _check_chained(layer, previous, model)
        kernel = np.asarray(layer.kernel.numpy())
        if kernel.ndim != 2:
            raise ValueError(
                f"layer {layer.name!r} has a kernel of shape {kernel.shape}, expected "
                "2-D"
            )
        bias = (
            np.asarray(layer.bias.numpy())
            if layer.use_bias
            else np.zeros(kernel.shape[1], kernel.dtype)
        )
        if dtype is not None:
            kernel, bias = kernel.astype(dtype), bias.astype(dtype)
        layers.append(Dense(kernel.T, bias, activation))
        previous = layer
    if not layers:
        raise ValueError(f"model {model.name!r} has no Dense layer")
    if model.outputs[0] is not previous.output:
        raise ValueError(
            f"model {model.name!r}: its output is not the output of its last Dense "
            f"layer {previous.name!r}"
        )
    return layers


def _check_chained(layer, previous, model) -> None:
    """Raise unless ``layer`` takes ``previous``'s output (or the model input)."""
    calls = len(getattr(layer, "_inbound_nodes", ()))
    if calls != 1:
        raise ValueError(
            f"layer {layer.name!r} is applied {calls} times; expected exactly once"
        )
    source = layer.input
    expected = model.inputs[0] if previous is None else previous.output
    if source is not expected:
        after = "the model input" if previous is None else f"layer {previous.name!r}"
        raise ValueError(f"layer {layer.name!r} does not directly follow {after}")
    if len(source.shape) != 2:
        raise ValueError(
            f"layer {layer.name!r} takes input of shape {tuple(source.shape)}; "
            "expected (batch, n_in)"
        )
