"""Differential training: fit values and input derivatives together (chapter 8).

A Keras MLP is trained on samples ``(x, y)`` and, optionally, on the
derivative labels ``dy/dx`` with the loss of Huge and Savine (2020),

    alpha * MSE(NN(x), y) + beta * mean_j lambda_j^2 MSE(dNN/dx_j, dy/dx_j),

where the input gradient ``dNN/dx`` is taken with a ``GradientTape`` inside
the training step (the "twin network": the backward pass of the network is
part of the model being trained). TensorFlow and Keras are imported lazily:
importing :mod:`relunet` never imports them.

Normalisation (the choice made here, after Huge and Savine's companion
code): inputs and labels are standardised, ``x_n = (x - mean_x) / std_x`` and
``y_n = (y - mean_y) / std_y``, so derivative labels become
``dy/dx * std_x / std_y``. Each derivative component is weighted by
``lambda_j = 1 / RMS(dy_n/dx_n_j)``, so that components of different sizes
count alike, and values and derivatives are balanced by
``alpha = 1 / (1 + lam * n_in)`` and ``beta = 1 - alpha``: with ``lam = 1``
every one of the ``n_in`` derivative labels of a sample weighs as much as
its value label. Without derivative labels the loss is ``MSE(NN(x), y)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_float_array, check_ndim
from relunet.accumulation import jacobian
from relunet.layers import Dense
from relunet.network import forward


@dataclass(frozen=True, eq=False)
class TwinNetwork:
    """A trained network, in normalised units (Keras) and in original units (relunet).

    Attributes
    ----------
    model : keras.Model
        The trained Keras model; it maps normalised inputs to normalised values.
    layers : list of Dense
        The same network with the normalisation folded into its first and
        last layers, so that ``relunet.forward(x, layers)`` is the prediction
        in original units and ``relunet.jacobian(x, layers)`` its derivative.
    x_mean, x_std : ndarray, shape (n_in,)
    y_mean, y_std : float
        The normalisation.
    losses : ndarray, shape (steps,)
        The training loss at every step.
    """

    model: object
    layers: list
    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: float
    y_std: float
    losses: np.ndarray

    def predict(self, x: ArrayLike) -> np.ndarray:
        """Predicted values in original units, shape (n,)."""
        return forward(np.atleast_2d(as_float_array(x, "x")), self.layers)[:, 0]

    def gradient(self, x: ArrayLike) -> np.ndarray:
        """Predicted ``dy/dx`` in original units, shape (n, n_in): the network's input
        Jacobian.
        """
        return jacobian(np.atleast_2d(as_float_array(x, "x")), self.layers)[:, 0, :]

    def normalise(self, x: ArrayLike) -> np.ndarray:
        """Inputs in the model's normalised units."""
        return (np.atleast_2d(as_float_array(x, "x")) - self.x_mean) / self.x_std


def input_gradient(model, x):
    """``dNN/dx`` of a one-output Keras model at a batch ``x``, by a tape.

    Returns the prediction, shape (batch, 1), and the gradient, (batch, n_in).

    This is the function the training step differentiates through; the
    gradient of the sum over the batch is the per-sample gradient, since
    samples do not interact (chapter 3).
    """
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(x)
        prediction = model(x)
    return prediction, tape.gradient(prediction, x)


def train_twin(
    x: ArrayLike,
    y: ArrayLike,
    dydx: ArrayLike | None = None,
    *,
    hidden: tuple[int, ...] = (20, 20),
    activation: str = "softplus",
    lam: float = 1.0,
    steps: int = 2000,
    batch_size: int = 256,
    learning_rate: float = 0.01,
    seed: int = 0,
) -> TwinNetwork:
    """Train a Keras MLP on values, and on input derivatives when given.

    Parameters
    ----------
    x : array_like, shape (n, n_in)
        Training inputs, one sample per row.
    y : array_like, shape (n,)
        Value labels (for example simulated payoffs).
    dydx : array_like, shape (n, n_in), optional
        Derivative labels (for example pathwise derivatives). Without them
        the training is standard regression on values.
    hidden : tuple of int, default (20, 20)
        Widths of the hidden layers.
    activation : {"softplus", "relu"}, default "softplus"
        Activation of the hidden layers; the output layer is linear.
    lam : float, default 1.0
        Weight of the derivative labels (see the module docstring).
    steps : int, default 2000
        Adam steps, on mini-batches drawn by reshuffling the data every pass.
    batch_size : int, default 256
        Mini-batch size (the whole set if it is smaller).
    learning_rate : float, default 0.01
        Initial learning rate of Adam, decayed to 1% of it by a cosine schedule.
    seed : int, default 0
        Seeds Keras' initialisation and the shuffling: the same seed, the
        same network, bit for bit (with TensorFlow's op determinism, which
        this function enables).

    Returns
    -------
    TwinNetwork
    """
    import keras
    import tensorflow as tf

    x, y, dydx = _check_arguments(
        x, y, dydx, hidden, activation, lam, steps, batch_size, learning_rate, seed
    )
    n, n_in = x.shape
    x_mean, x_std = x.mean(axis=0), x.std(axis=0)
    y_mean, y_std = float(y.mean()), float(y.std())
    if np.any(x_std == 0) or y_std == 0:
        raise ValueError(
            "every input column and the labels must vary: a standard deviation is 0"
        )
    x_n = (x - x_mean) / x_std
    y_n = (y - y_mean) / y_std
    differential = dydx is not None and lam > 0
    if differential:
        dydx_n = dydx * x_std / y_std
        lambda_j = 1.0 / np.sqrt(np.mean(dydx_n**2, axis=0))
        alpha = 1.0 / (1.0 + lam * n_in)
    else:
        dydx_n, lambda_j, alpha = np.zeros_like(x_n), np.ones(n_in), 1.0
    beta = 1.0 - alpha

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    model = keras.Sequential(
        [keras.Input((n_in,), dtype="float64")]
        + [
            keras.layers.Dense(
                h, activation=activation, dtype="float64", name=f"hidden_{k + 1}"
            )
            for k, h in enumerate(hidden)
        ]
        + [keras.layers.Dense(1, dtype="float64", name="output")],
        name="twin",
    )
    schedule = keras.optimizers.schedules.CosineDecay(
        learning_rate, decay_steps=steps, alpha=0.01
    )
    optimizer = keras.optimizers.Adam(learning_rate=schedule)
    weights_j = tf.constant(lambda_j**2, tf.float64)

    @tf.function(reduce_retracing=True)
    def train_step(xb, yb, dyb):
        with tf.GradientTape() as tape:
            prediction, gradient = input_gradient(model, xb)
            loss = alpha * tf.reduce_mean((prediction[:, 0] - yb) ** 2)
            if differential:
                loss += beta * tf.reduce_mean(weights_j * (gradient - dyb) ** 2)
        optimizer.apply_gradients(
            zip(
                tape.gradient(loss, model.trainable_variables),
                model.trainable_variables,
            )
        )
        return loss

    rng = np.random.default_rng(seed)
    batch = min(batch_size, n)
    per_pass = n // batch
    X, Y, DY = (tf.constant(a) for a in (x_n, y_n, dydx_n))
    losses = np.empty(steps)
    order = rng.permutation(n)
    for step in range(steps):
        k = step % per_pass
        if k == 0 and step > 0:
            order = rng.permutation(n)
        rows = tf.constant(order[k * batch : (k + 1) * batch])
        losses[step] = float(
            train_step(tf.gather(X, rows), tf.gather(Y, rows), tf.gather(DY, rows))
        )

    from relunet.keras import layers_from_keras

    normalised = layers_from_keras(model, dtype=np.float64)
    return TwinNetwork(
        model=model,
        layers=fold_normalisation(normalised, x_mean, x_std, y_mean, y_std),
        x_mean=x_mean,
        x_std=x_std,
        y_mean=y_mean,
        y_std=y_std,
        losses=losses,
    )


def _check_arguments(
    x, y, dydx, hidden, activation, lam, steps, batch_size, learning_rate, seed
):
    """Validate :func:`train_twin`'s arguments; return x, y, dydx as float64 arrays."""
    x = as_float_array(x, "x").astype(np.float64)
    check_ndim(x, "x", (2,), "(n, n_in)")
    n = x.shape[0]
    y = as_float_array(y, "y").astype(np.float64)
    if y.shape != (n,):
        raise ValueError(
            f"y must have shape ({n},) to match x of shape {x.shape}, got shape "
            f"{y.shape}"
        )
    if dydx is not None:
        dydx = as_float_array(dydx, "dydx").astype(np.float64)
        if dydx.shape != x.shape:
            raise ValueError(
                f"dydx must have shape {x.shape} like x, got shape {dydx.shape}"
            )
    if activation not in ("softplus", "relu"):
        raise ValueError(f"activation must be 'softplus' or 'relu', got {activation!r}")
    if (
        not all(isinstance(h, (int, np.integer)) and h >= 1 for h in hidden)
        or not hidden
    ):
        raise ValueError(
            f"hidden must be a non-empty tuple of positive integers, got {hidden!r}"
        )
    for name, value in (("steps", steps), ("batch_size", batch_size), ("seed", seed)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, np.integer))
            or value < (0 if name == "seed" else 1)
        ):
            raise ValueError(
                f"{name} must be a {'non-negative' if name == 'seed' else 'positive'} "
                f"integer, got {value!r}"
            )
    if not (
        np.isfinite(lam)
        and lam >= 0
        and np.isfinite(learning_rate)
        and learning_rate > 0
    ):
        raise ValueError(
            f"lam must be >= 0 and learning_rate > 0, got {lam!r} and {learning_rate!r}"
        )

    return x, y, dydx


def fold_normalisation(
    layers, x_mean, x_std, y_mean: float, y_std: float
) -> list[Dense]:
    """The network in original units: ``y = y_mean + y_std NN((x - x_mean) / x_std)``.

    The input scaling is folded into the first layer, ``W_1 / x_std`` and
    ``b_1 - W_1 (x_mean / x_std)``; the output scaling into the last, which
    must be linear: ``y_std W_L`` and ``y_std b_L + y_mean``.
    """
    first, last = layers[0], layers[-1]
    if last.activation != "linear":
        raise ValueError(
            "the last layer must be linear to fold the output scaling, got "
            f"{last.activation!r}"
        )
    W1 = first.W / x_std
    b1 = first.b - first.W @ (x_mean / x_std)
    folded = [Dense(W1, b1, first.activation)] + list(layers[1:])
    last = folded[-1]
    folded[-1] = Dense(y_std * last.W, y_std * last.b + y_mean, last.activation)
    return folded
