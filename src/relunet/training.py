"""Differential training: fit values and input derivatives together (chapter 8).

A one-output MLP is trained on samples ``(x, y)`` and, optionally, on the
derivative labels ``dy/dx`` with the loss of Huge and Savine (2020),

    alpha * MSE(NN(x), y) + beta * mean_j lambda_j^2 MSE(dNN/dx_j, dy/dx_j),

where the input gradient ``dNN/dx`` is part of the model being trained (the
"twin network": the backward pass of the network follows its forward pass).
Two backends minimise the same loss with the same Adam, schedule and batches:
``"numpy"`` (the default) with the gradient written out by hand in
:mod:`relunet.twin`, and ``"tensorflow"``, a Keras model whose input gradient
is taken with a ``GradientTape`` inside the training step's tape, kept as the
oracle. TensorFlow and Keras are imported lazily, by the second backend only:
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

import numbers
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_float_array, check_ndim
from relunet.accumulation import jacobian
from relunet.layers import Dense, as_layers
from relunet.network import forward
from relunet.twin import differential_loss, glorot_uniform, twin_loss_and_gradients

__all__ = [
    "BACKENDS",
    "DEFAULT_EPOCHS",
    "SCHEDULES",
    "TwinNetwork",
    "default_batch_size",
    "differential_loss",
    "fold_normalisation",
    "input_gradient",
    "keras_twin",
    "learning_rates",
    "one_cycle",
    "tensorflow_loss",
    "train_twin",
]

#: The values of ``train_twin``'s ``backend``.
BACKENDS = ("numpy", "tensorflow")

#: The values of ``train_twin``'s ``schedule``.
SCHEDULES = ("cosine", "one_cycle")

#: The one-cycle schedule of Huge and Savine's companion notebooks, as (fraction
#: of the training, learning rate / peak) points, linearly interpolated: a warm-up
#: over the first fifth to the peak, a decay to a tenth of it at 60%, then to
#: nearly nothing. Their peak is 0.1.
ONE_CYCLE_POINTS = ((0.0, 1e-7), (0.2, 1.0), (0.6, 0.1), (0.9, 1e-5), (1.0, 1e-7))


@dataclass(frozen=True, eq=False)
class TwinNetwork:
    """A trained network, with its normalisation, in original units (relunet).

    Attributes
    ----------
    model : keras.Model or None
        With ``backend="tensorflow"``, the trained Keras model; it maps
        normalised inputs to normalised values. None with ``backend="numpy"``,
        which never builds one.
    layers : list of Dense
        The same network with the normalisation folded into its first and
        last layers, so that ``relunet.forward(x, layers)`` is the prediction
        in original units and ``relunet.jacobian(x, layers)`` its derivative.
    x_mean, x_std : ndarray, shape (n_in,)
    y_mean, y_std : float
        The normalisation.
    losses : ndarray, shape (steps,)
        The training loss at every step (on that step's batch, before its
        update).
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


def tensorflow_loss(model, x, y, dydx, weights_j, alpha: float, differential=True):
    """The loss ``train_twin(backend="tensorflow")`` minimises, on one batch.

    ``alpha * mean((NN(x) - y)^2) + (1 - alpha) * mean(weights_j (dNN/dx -
    dydx)^2)``, with ``dNN/dx`` from :func:`input_gradient`: called inside a
    ``GradientTape``, its gradient with respect to the weights is the nested
    tapes' answer that :func:`relunet.training.differential_loss` reproduces.
    ``weights_j`` is ``lambda_j**2``; without ``differential`` the loss is the
    values' term alone.
    """
    import tensorflow as tf

    prediction, gradient = input_gradient(model, x)
    loss = alpha * tf.reduce_mean((prediction[:, 0] - y) ** 2)
    if differential:
        loss += (1.0 - alpha) * tf.reduce_mean(weights_j * (gradient - dydx) ** 2)
    return loss


def keras_twin(n_in: int, hidden: Sequence[int], activation: str, layers=None):
    """The Keras model ``train_twin(backend="tensorflow")`` trains, in float64.

    ``hidden`` Dense layers with ``activation`` and a linear output of one
    unit, named ``hidden_1, ...`` and ``output``. Keras initialises it
    (Glorot-uniform weights, zero biases) unless ``layers``, a list of
    :class:`Dense` of the same shapes, gives the weights (``kernel = W.T``).
    """
    import keras

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
    if layers is not None:
        dense = [
            layer for layer in model.layers if isinstance(layer, keras.layers.Dense)
        ]
        for keras_layer, layer in zip(dense, layers, strict=True):
            keras_layer.kernel.assign(np.asarray(layer.W, np.float64).T)
            keras_layer.bias.assign(np.asarray(layer.b, np.float64))
    return model


def train_twin(
    x: ArrayLike,
    y: ArrayLike,
    dydx: ArrayLike | None = None,
    *,
    hidden: tuple[int, ...] = (20, 20),
    activation: str = "softplus",
    lam: float = 1.0,
    steps: int | None = None,
    batch_size: int | None = None,
    learning_rate: float = 0.01,
    seed: int = 0,
    backend: str = "numpy",
    initial_layers: Sequence[Dense] | None = None,
    epochs: int | None = None,
    schedule: str = "cosine",
    progress: bool = False,
) -> TwinNetwork:
    """Train a one-output MLP on values, and on input derivatives when given.

    Parameters
    ----------
    x : array_like, shape (n, n_in)
        Training inputs, one sample per row (at least one).
    y : array_like, shape (n,)
        Value labels (for example simulated payoffs).
    dydx : array_like, shape (n, n_in), optional
        Derivative labels (for example pathwise derivatives). Without them
        the training is standard regression on values. No column may be all
        zero when ``lam > 0``: ``lambda_j = 1 / RMS`` of that column would be
        infinite, so such a column cannot be normalised and is refused before
        training (drop that input, or train with ``lam=0``).
    hidden : tuple of int, default (20, 20)
        Widths of the hidden layers: ``(20,)`` for one layer of 20.
    activation : {"softplus", "relu"}, default "softplus"
        Activation of the hidden layers; the output layer is linear.
    lam : float, default 1.0
        Weight of the derivative labels (see the module docstring).
    steps : int, optional
        Adam steps, on mini-batches drawn by reshuffling the data every pass.
        Give ``steps`` or ``epochs``, not both; with neither, 100 epochs.
    batch_size : int, optional
        Mini-batch size (the whole set if it is smaller); by default Huge
        and Savine's rule, ``max(256, n // 16)``: 16 mini-batches per epoch,
        of at least 256 samples.
    learning_rate : float, default 0.01
        Adam's learning rate: the initial one of the cosine schedule, the peak
        of the one-cycle schedule (Huge and Savine's is 0.1).
    seed : int in [0, 2**32 - 1], default 0
        Seeds the initialisation and the shuffling: the same seed, the same
        network, bit for bit (with TensorFlow's op determinism, which the
        TensorFlow backend enables).
    backend : {"numpy", "tensorflow"}, default "numpy"
        ``"numpy"`` computes each step's gradient with
        :func:`relunet.twin.differential_loss`'s formulas and needs no
        TensorFlow; ``"tensorflow"`` trains a Keras model with nested tapes
        (:func:`tensorflow_loss`), the oracle. Both run Keras 3's Adam
        (beta_1 0.9, beta_2 0.999, epsilon 1e-7, Keras' bias correction) with
        the same float32 learning rate at every step (``schedule``), on the
        same mini-batches. The
        initialisation follows the same rule (Glorot-uniform weights, zero
        biases) from different generators: Keras' for ``"tensorflow"``,
        NumPy's for ``"numpy"`` (:func:`relunet.twin.glorot_uniform`), so one
        seed gives two different networks unless ``initial_layers`` is given.
    initial_layers : list of Dense, optional
        Start from these weights instead of a random initialisation: layers
        in normalised units, of widths ``(n_in, *hidden, 1)``, hidden
        activation ``activation`` and a linear output. From the same
        ``initial_layers`` and ``seed`` both backends take the same steps:
        after 100 steps their weights and losses agree to within a few
        units of rounding (6e-16 relative measured, tested to 1e-12): both
        read the learning rates from one float32 table.
    epochs : int, optional
        Train for this many passes over the data instead of a number of
        steps, as Huge and Savine do: ``epochs * (n // batch)`` steps, with
        ``batch = min(batch_size, n)``. The default budget is 100 epochs.
    schedule : {"cosine", "one_cycle"}, default "cosine"
        ``"cosine"``: :func:`cosine_decay`, from ``learning_rate`` down to 1%
        of it. ``"one_cycle"``: :func:`one_cycle`, the warm-up and decay of
        Huge and Savine's notebooks, peaking at ``learning_rate``.
    progress : bool, default False
        Show a progress bar (tqdm) with the loss, for long runs.

    Returns
    -------
    TwinNetwork
        ``model`` is the trained Keras model with ``backend="tensorflow"``
        and None with ``backend="numpy"``.

    Raises
    ------
    TypeError
        An argument of the wrong type (``hidden=20``, ``lam="a"``, a float
        seed), naming the argument.
    ValueError
        Shapes that do not match, an empty ``x``, an input column or labels
        that do not vary, an all-zero derivative column, values out of
        range, an unknown ``activation`` or ``backend``, or
        ``initial_layers`` of other shapes.
    """
    x, y, dydx, hidden, lam, learning_rate = _check_arguments(
        x,
        y,
        dydx,
        hidden,
        activation,
        lam,
        steps,
        batch_size,
        learning_rate,
        seed,
        backend,
    )
    n, n_in = x.shape
    if batch_size is None:
        batch_size = default_batch_size(n)
    steps = _check_budget(steps, epochs, schedule, progress, n, batch_size)
    if initial_layers is not None:
        initial_layers = _check_initial_layers(initial_layers, n_in, hidden, activation)
    x_mean, x_std = x.mean(axis=0), x.std(axis=0)
    y_mean, y_std = float(y.mean()), float(y.std())
    # A column varies when its spread is more than rounding: a standard deviation
    # below 1e-12 of the column's size is a constant stored with rounding errors.
    flat = x_std <= 1e-12 * np.max(np.abs(x), axis=0)
    if np.any(flat) or y_std <= 1e-12 * float(np.max(np.abs(y))):
        what = (
            f"input column(s) {np.flatnonzero(flat).tolist()}" if np.any(flat) else "y"
        )
        raise ValueError(
            f"every input column and the labels must vary: {what} do(es) not "
            "(standard deviation 0, or below 1e-12 of its size)"
        )
    x_n = (x - x_mean) / x_std
    y_n = (y - y_mean) / y_std
    differential = dydx is not None and lam > 0
    if differential:
        dydx_n = dydx * x_std / y_std
        if not np.all(np.isfinite(dydx_n)):
            raise ValueError(
                "dydx * std(x) / std(y) overflows: the derivative labels are too "
                "large for the scale of x and y"
            )
        size = np.max(np.abs(dydx_n), axis=0)
        if np.any(size == 0):
            columns = np.flatnonzero(size == 0).tolist()
            raise ValueError(
                f"dydx column(s) {columns} are all zero (y does not depend on those "
                "inputs): an all-zero derivative column cannot be normalised, since "
                "lambda_j = 1 / RMS(dydx_j) would be infinite; drop those inputs or "
                "train with lam=0"
            )
        with np.errstate(over="ignore", under="ignore", divide="ignore"):
            rms = np.sqrt(np.mean(dydx_n**2, axis=0))
            weight = 1.0 / rms**2  # lambda_j^2, the weight the loss uses
        if not np.all(np.isfinite(weight) & (weight > 0)):
            bad = np.flatnonzero(~(np.isfinite(weight) & (weight > 0))).tolist()
            # The RMS of the column scaled by its largest entry, which neither
            # underflows nor overflows when squared, for the message.
            scaled = size * np.sqrt(np.mean((dydx_n / size) ** 2, axis=0))
            raise ValueError(
                f"dydx column(s) {bad} have an RMS of {scaled[bad].tolist()} in "
                "normalised units (dydx * std(x) / std(y)): their weight "
                "lambda_j^2 = 1 / RMS^2 does not fit in float64; rescale x or y"
            )
        lambda_j = 1.0 / rms
        alpha = 1.0 / (1.0 + lam * n_in)
    else:
        dydx_n, lambda_j, alpha = np.zeros_like(x_n), np.ones(n_in), 1.0

    rates = learning_rates(schedule, learning_rate, steps)
    plan = (steps, batch_size, rates, seed, progress)
    if backend == "numpy":
        model = None
        if initial_layers is None:
            initial_layers = glorot_uniform(n_in, hidden, activation, seed)
        normalised, losses = _train_numpy(
            initial_layers, x_n, y_n, dydx_n, lambda_j**2, alpha, *plan
        )
    else:
        architecture = (n_in, hidden, activation, initial_layers)
        model, normalised, losses = _train_tensorflow(
            *architecture, x_n, y_n, dydx_n, lambda_j, alpha, differential, *plan
        )
    return TwinNetwork(
        model=model,
        layers=fold_normalisation(normalised, x_mean, x_std, y_mean, y_std),
        x_mean=x_mean,
        x_std=x_std,
        y_mean=y_mean,
        y_std=y_std,
        losses=losses,
    )


def minibatches(n: int, batch_size: int, steps: int, seed: int) -> Iterator[np.ndarray]:
    """The rows of each step's mini-batch, for ``steps`` steps.

    Passes over the data in the order of a permutation from
    ``numpy.random.default_rng(seed)``, a fresh one every pass; a pass takes
    ``n // batch`` batches of ``batch = min(batch_size, n)`` rows and skips
    the rest.
    """
    rng = np.random.default_rng(seed)
    batch = min(batch_size, n)
    per_pass = n // batch
    order = rng.permutation(n)
    for step in range(steps):
        k = step % per_pass
        if k == 0 and step > 0:
            order = rng.permutation(n)
        yield order[k * batch : (k + 1) * batch]


def cosine_decay(learning_rate: float, steps: int) -> np.ndarray:
    """Keras' ``CosineDecay(learning_rate, decay_steps=steps, alpha=0.01)``.

    The learning rate of steps ``t = 0, ..., steps - 1``, shape (steps,):
    ``lr (0.01 + 0.99 * 0.5 (1 + cos(pi t / steps)))``, computed in float32
    as TensorFlow computes Keras' schedule inside a compiled training step
    (its graph optimiser folds the constants into ``(pi * (1 / steps)) t``
    and ``0.99 * 0.5``), then converted exactly to float64. The float32
    cosine is the float64 one rounded; TensorFlow's (the C library's
    ``cosf``) differs from it in the last bit at a few steps in a thousand.
    """
    f32 = np.float32
    angle = (f32(np.pi) * (f32(1) / f32(steps))) * np.arange(steps, dtype=f32)
    cosine = np.cos(angle.astype(np.float64)).astype(f32)
    decayed = f32(0.01) + (cosine + f32(1)) * (f32(1 - 0.01) * f32(0.5))
    return (f32(learning_rate) * decayed).astype(np.float64)


def one_cycle(learning_rate: float, steps: int) -> np.ndarray:
    """The one-cycle learning rates of Huge and Savine's notebooks, shape (steps,).

    ``learning_rate`` times the linear interpolation of
    :data:`ONE_CYCLE_POINTS` at ``t / steps`` for ``t = 0, ..., steps - 1``,
    rounded to float32 as the TensorFlow backend holds them. Their notebooks
    hold the rate of an epoch fixed at its start; here it moves every step.
    """
    fractions, relative = zip(*ONE_CYCLE_POINTS)
    rates = learning_rate * np.interp(np.arange(steps) / steps, fractions, relative)
    return rates.astype(np.float32).astype(np.float64)


def learning_rates(schedule: str, learning_rate: float, steps: int) -> np.ndarray:
    """The learning rate of every step, shape (steps,), for ``schedule``."""
    if schedule == "cosine":
        return cosine_decay(learning_rate, steps)
    return one_cycle(learning_rate, steps)


def _progress_bar(steps: int, progress: bool):
    """A tqdm bar over the steps, or None; tqdm is imported only when asked for."""
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError(
            "progress=True needs tqdm: pip install tqdm (the book's environment has it)"
        ) from None
    return tqdm(total=steps, desc="train_twin", unit="step", mininterval=0.5)


def _advance(bar, step: int, losses: np.ndarray) -> None:
    """Move the bar to ``step + 1``, with the mean loss of the last 100 steps."""
    if bar is None:
        return
    bar.update(1)
    if step % 100 == 99 or step + 1 == bar.total:
        bar.set_postfix(loss=f"{losses[max(0, step - 99) : step + 1].mean():.4g}")
    if step + 1 == bar.total:
        bar.close()


# Keras 3's Adam defaults. Its bias correction raises beta_1 and beta_2 to the
# power t after casting them to float32 (then to float64): float32(0.999) is
# 1.3e-8 below 0.999, enough to move the first steps by 6e-6 relative.
BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7
BETA_1_POWER_BASE, BETA_2_POWER_BASE = (float(np.float32(b)) for b in (BETA_1, BETA_2))


def _train_numpy(
    layers, x_n, y_n, dydx_n, lambda2, alpha, steps, batch_size, rates, seed, progress
):
    """Adam as Keras 3 runs it, on the gradient of :mod:`relunet.twin`.

    All weights and biases live in one vector ``theta`` (the layers' arrays
    are views of it), so each Adam step is a few operations on one array.
    """
    # (Arrays above 128 KiB are not faulted in again on every step: importing
    # relunet raised glibc's mmap threshold, see relunet/__init__.py.)
    theta = np.concatenate([p.ravel() for layer in layers for p in (layer.W, layer.b)])
    theta = theta.astype(np.float64)
    shapes = [p.shape for layer in layers for p in (layer.W, layer.b)]
    ends = np.cumsum([np.prod(shape, dtype=int) for shape in shapes])
    params = [
        part.reshape(shape)
        for part, shape in zip(np.split(theta, ends[:-1]), shapes, strict=True)
    ]
    Ws, bs = params[0::2], params[1::2]
    activations = [layer.activation for layer in layers[:-1]]
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    losses = np.empty(steps)
    batches = minibatches(x_n.shape[0], batch_size, steps, seed)
    bar = _progress_bar(steps, progress)
    for step, (rows, lr) in enumerate(zip(batches, rates, strict=True)):
        losses[step], grads = twin_loss_and_gradients(
            Ws, bs, activations, x_n[rows], y_n[rows], dydx_n[rows], lambda2, alpha
        )
        g = np.concatenate([part.ravel() for pair in grads for part in pair])
        t = step + 1
        rate = lr * np.sqrt(1 - BETA_2_POWER_BASE**t) / (1 - BETA_1_POWER_BASE**t)
        m += (g - m) * (1 - BETA_1)
        v += (g * g - v) * (1 - BETA_2)
        theta -= m * rate / (np.sqrt(v) + EPSILON)
        _advance(bar, step, losses)
    trained = [
        Dense(W, b, layer.activation)
        for W, b, layer in zip(Ws, bs, layers, strict=True)
    ]
    return trained, losses


def _rate_table(rates: np.ndarray):
    """A Keras schedule that looks the learning rate of each step up in ``rates``."""
    import keras
    import tensorflow as tf

    class RateTable(keras.optimizers.schedules.LearningRateSchedule):
        def __init__(self, rates):
            self.rates = tf.constant(rates, tf.float32)

        def __call__(self, step):
            last = self.rates.shape[0] - 1
            return tf.gather(self.rates, tf.minimum(tf.cast(step, tf.int32), last))

        def get_config(self):
            return {"rates": self.rates.numpy().tolist()}

    return RateTable(rates)


def _train_tensorflow(
    n_in,
    hidden,
    activation,
    initial_layers,
    x_n,
    y_n,
    dydx_n,
    lambda_j,
    alpha,
    differential,
    steps,
    batch_size,
    rates,
    seed,
    progress,
):
    """Keras' Adam on the nested tapes of :func:`tensorflow_loss` (the oracle).

    The learning rates are a float32 table of ``rates``, looked up by Adam's
    step counter: the same rates as the NumPy backend's, bit for bit.
    """
    import keras
    import tensorflow as tf

    from relunet.keras import layers_from_keras

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    model = keras_twin(n_in, hidden, activation, initial_layers)
    optimizer = keras.optimizers.Adam(learning_rate=_rate_table(rates))
    weights_j = tf.constant(lambda_j**2, tf.float64)

    @tf.function(reduce_retracing=True)
    def train_step(xb, yb, dyb):
        with tf.GradientTape() as tape:
            loss = tensorflow_loss(model, xb, yb, dyb, weights_j, alpha, differential)
        optimizer.apply_gradients(
            zip(
                tape.gradient(loss, model.trainable_variables),
                model.trainable_variables,
            )
        )
        return loss

    X, Y, DY = (tf.constant(a) for a in (x_n, y_n, dydx_n))
    losses = np.empty(steps)
    bar = _progress_bar(steps, progress)
    for step, rows in enumerate(minibatches(x_n.shape[0], batch_size, steps, seed)):
        rows = tf.constant(rows)
        losses[step] = float(
            train_step(tf.gather(X, rows), tf.gather(Y, rows), tf.gather(DY, rows))
        )
        _advance(bar, step, losses)
    return model, layers_from_keras(model, dtype=np.float64), losses


def _is_integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _check_arguments(
    x, y, dydx, hidden, activation, lam, steps, batch_size, learning_rate, seed, backend
):
    """Validate :func:`train_twin`'s arguments.

    Returns x, y, dydx as float64 arrays, hidden as a tuple of int, lam and
    learning_rate as float.
    """
    x = as_float_array(x, "x").astype(np.float64)
    check_ndim(x, "x", (2,), "(n, n_in)")
    n = x.shape[0]
    if n == 0 or x.shape[1] == 0:
        raise ValueError(
            "x must hold at least one sample (row) and one input (column), got "
            f"shape {x.shape}"
        )
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
    if not isinstance(activation, str) or activation not in ("softplus", "relu"):
        raise ValueError(f"activation must be 'softplus' or 'relu', got {activation!r}")
    if not isinstance(hidden, (tuple, list)):
        raise TypeError(
            "hidden must be a tuple of positive integers, one width per hidden "
            f"layer ((20,) for one layer of 20), got {type(hidden).__name__} "
            f"{hidden!r}"
        )
    for h in hidden:
        if not _is_integer(h):
            raise TypeError(
                "hidden must be a tuple of positive integers, got an element "
                f"{h!r} of type {type(h).__name__} in {hidden!r}"
            )
    if not hidden or min(hidden) < 1:
        raise ValueError(
            f"hidden must be a non-empty tuple of positive integers, got {hidden!r}"
        )
    for name, value, low in (
        *([("steps", steps, 1)] if steps is not None else []),
        *([("batch_size", batch_size, 1)] if batch_size is not None else []),
        ("seed", seed, 0),
    ):
        high = 2**32 if name == "seed" else np.inf  # Keras seeds NumPy's legacy RNG
        expected = (
            "a non-negative integer below 2**32" if low == 0 else "a positive integer"
        )
        if not _is_integer(value):
            raise TypeError(
                f"{name} must be {expected}, got {type(value).__name__} {value!r}"
            )
        if not low <= value < high:
            raise ValueError(f"{name} must be {expected}, got {value!r}")
    for name, value, low in (
        ("lam", lam, ">= 0"),
        ("learning_rate", learning_rate, "> 0"),
    ):
        if not _is_real(value):
            raise TypeError(
                f"{name} must be a real number {low}, got {type(value).__name__} "
                f"{value!r}"
            )
        if not (np.isfinite(value) and (value > 0 or (name == "lam" and value == 0))):
            raise ValueError(f"{name} must be a finite number {low}, got {value!r}")
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"backend must be 'numpy' or 'tensorflow', got {backend!r}")
    return x, y, dydx, tuple(int(h) for h in hidden), float(lam), float(learning_rate)


#: The budget when neither ``steps`` nor ``epochs`` is given: chapter 10 ranks
#: candidate defaults (depth, budget, schedule) on test error, and two hidden
#: layers of 20 trained for 100 epochs of the notebooks' mini-batches with the
#: cosine schedule come first.
DEFAULT_EPOCHS = 100


def default_batch_size(n: int) -> int:
    """Huge and Savine's mini-batch size for ``n`` samples: ``max(256, n // 16)``."""
    return max(256, n // 16)


def _check_budget(steps, epochs, schedule, progress, n: int, batch_size: int) -> int:
    """Validate ``epochs``, ``schedule`` and ``progress``; return the steps."""
    if not isinstance(schedule, str) or schedule not in SCHEDULES:
        raise ValueError(f"schedule must be 'cosine' or 'one_cycle', got {schedule!r}")
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(
            f"progress must be True or False, got {type(progress).__name__} "
            f"{progress!r}"
        )
    if epochs is None and steps is not None:
        return int(steps)
    if epochs is None:
        epochs = DEFAULT_EPOCHS
    elif steps is not None:
        raise ValueError(
            f"give steps or epochs, not both: got steps={steps!r} and epochs={epochs!r}"
        )
    if not _is_integer(epochs):
        raise TypeError(
            f"epochs must be a positive integer, got {type(epochs).__name__} {epochs!r}"
        )
    if epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    return int(epochs) * (n // min(batch_size, n))


def _check_initial_layers(initial_layers, n_in, hidden, activation) -> list[Dense]:
    """``initial_layers`` as float64 Dense layers, if they fit the architecture."""
    layers = as_layers(initial_layers)
    widths = [layers[0].n_in] + [layer.n_out for layer in layers]
    activations = [layer.activation for layer in layers]
    expected_widths = [n_in, *hidden, 1]
    expected_activations = [activation] * len(hidden) + ["linear"]
    if widths != expected_widths or activations != expected_activations:
        raise ValueError(
            f"initial_layers must have widths {expected_widths} and activations "
            f"{expected_activations} (from x, hidden and activation), got widths "
            f"{widths} and activations {activations}"
        )
    return [
        Dense(layer.W.astype(np.float64), layer.b.astype(np.float64), layer.activation)
        for layer in layers
    ]


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
