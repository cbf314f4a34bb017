"""The twin network's training gradient, by hand (chapter 9).

The twin network is a network followed by its own backpropagation: a forward
sweep ``z_l = W_l a_{l-1} + b_l``, ``a_l = f(z_l)``, then a backward sweep
``g_{L-1} = W_L``, ``g_{l-1} = W_l^T (f'(z_l) * g_l)`` that ends in the input
gradient ``g_0 = dNN/dx``. Differential training fits both ``NN(x)`` and
``g_0`` to labels; its gradient with respect to every ``W_l`` and ``b_l`` is
reverse mode over both sweeps, written out here in NumPy.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_float_array, check_ndim
from relunet.activations import activate, slope_unchecked
from relunet.layers import Dense, as_layers


def differential_loss(
    layers: Sequence[Dense],
    x: ArrayLike,
    y: ArrayLike,
    dydx: ArrayLike,
    lambda_j: ArrayLike,
    alpha: float,
) -> tuple[float, list[tuple[np.ndarray, np.ndarray]]]:
    """The differential loss of a one-output network and its gradient.

    Parameters
    ----------
    layers : sequence of Dense
        The network, first layer first: hidden layers with activation
        "relu", "softplus" or "linear", and a linear output layer of one unit.
    x : array_like, shape (batch, n_in)
        Inputs, one sample per row.
    y : array_like, shape (batch,)
        Value labels.
    dydx : array_like, shape (batch, n_in)
        Derivative labels.
    lambda_j : array_like, shape (n_in,)
        Weight of each derivative component (squared in the loss).
    alpha : float in [0, 1]
        Weight of the values; the derivatives get ``1 - alpha``.

    Returns
    -------
    loss : float
    grads : list of (dW, db)
        One pair per layer, ``dW`` of shape (n_out, n_in) like the layer's
        ``W`` and ``db`` of shape (n_out,) like its ``b``.

    Notes
    -----
    .. math::

       \\mathcal{L} = \\frac{\\alpha}{B} \\sum_i (NN(x_i) - y_i)^2
       + \\frac{1 - \\alpha}{B\\, n_{in}} \\sum_i \\sum_j \\lambda_j^2
       \\Big(\\frac{\\partial NN}{\\partial x_j}(x_i) - \\frac{dy}{dx}_{ij}\\Big)^2

    This is the loss ``train_twin`` minimises on normalised data. The
    derivative term reaches ``z_l`` through ``f'(z_l)``, hence carries
    ``f''(z_l)`` (chapter 7); for ReLU ``f'' = 0`` and the biases get no
    gradient from it at all, exactly. ReLU'(0) = 0.
    """
    chain = as_layers(list(layers) if isinstance(layers, tuple) else layers)
    output = chain[-1]
    if output.activation != "linear" or output.n_out != 1:
        raise ValueError(
            "the last layer must be linear with one unit, got activation "
            f"{output.activation!r} and W of shape {output.W.shape}"
        )
    n_in = chain[0].n_in
    x = as_float_array(x, "x")
    check_ndim(x, "x", (2,), f"(batch, {n_in})")
    if x.shape[1] != n_in or x.shape[0] == 0:
        raise ValueError(
            f"x must have shape (batch, {n_in}) with batch >= 1 to match the first "
            f"layer's W of shape {chain[0].W.shape}, got shape {x.shape}"
        )
    batch = x.shape[0]
    y = as_float_array(y, "y")
    if y.shape != (batch,):
        raise ValueError(f"y must have shape ({batch},) like x's rows, got {y.shape}")
    dydx = as_float_array(dydx, "dydx")
    if dydx.shape != x.shape:
        raise ValueError(f"dydx must have shape {x.shape} like x, got {dydx.shape}")
    lambda_j = as_float_array(lambda_j, "lambda_j")
    if lambda_j.shape != (n_in,):
        raise ValueError(
            f"lambda_j must have shape ({n_in},), one weight per input, got "
            f"{lambda_j.shape}"
        )
    if isinstance(alpha, np.ndarray) and alpha.ndim == 0 and alpha.dtype.kind in "iuf":
        alpha = alpha.item()
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real):
        raise TypeError(
            f"alpha must be a real number in [0, 1], got {type(alpha).__name__} "
            f"{alpha!r}"
        )
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha!r}")
    dtype = np.result_type(x, y, dydx, lambda_j, *(layer.W for layer in chain))
    Ws = [layer.W.astype(dtype, copy=False) for layer in chain]
    bs = [layer.b.astype(dtype, copy=False) for layer in chain]
    activations = [layer.activation for layer in chain[:-1]]
    return twin_loss_and_gradients(
        Ws,
        bs,
        activations,
        *(a.astype(dtype, copy=False) for a in (x, y, dydx, lambda_j**2)),
        float(alpha),
    )


def twin_loss_and_gradients(Ws, bs, activations, x, y, dydx, lambda2, alpha):
    """:func:`differential_loss` for validated arrays (the unchecked core).

    ``Ws``, ``bs``: weights and biases of every layer, the last one linear
    with one unit; ``activations``: those of the hidden layers;
    ``lambda2 = lambda_j**2``. With ``alpha == 1`` the twin is skipped: the
    loss and gradient of the values alone.
    """
    batch, n_in = x.shape
    hidden = range(len(Ws) - 1)  # Ws[l] is the book's W_{l+1}: from a_l to z_{l+1}

    # W_l^T as contiguous copies: products with them take 2/3 of the time of
    # products with the transposed views (measured, 256 x 20 x 20).
    Wts = [np.ascontiguousarray(W.T) for W in Ws]

    # Forward sweep: z_l = a_{l-1} W_l^T + b_l and a_l = f(z_l), f'(z_l), f''(z_l).
    a, slopes, curvatures = [x], [], []
    for l in hidden:
        z = a[l] @ Wts[l]
        z += bs[l]
        f, slope, curvature = activation_parts(z, activations[l])
        a.append(f)
        slopes.append(slope)
        curvatures.append(curvature)
    value_error = a[-1] @ Ws[-1][0] + (bs[-1][0] - y)
    loss = alpha * (value_error @ value_error) / batch
    ones = np.ones(batch, x.dtype)  # sums over the batch as matrix-vector products
    dW_twin = [None] * len(Ws)  # the derivative term's parts of dW_l ...
    z_bar_twin = [None] * len(Ws)  # ... and of the adjoint of z_l

    if alpha < 1:
        # Backward sweep: g_l = dNN/da_l from g_{L-1} = W_L (one row, the same
        # for every sample: it broadcasts), to g_0 = dNN/dx.
        g = [None] * len(Ws)
        g[-1] = Ws[-1]
        gz = [None] * len(Ws)  # f'(z_l) * g_l
        for l in reversed(hidden):
            gz[l] = slopes[l] * g[l + 1]
            g[l] = gz[l] @ Ws[l]
        derivative_error = g[0] - dydx
        weighted_error = lambda2 * derivative_error
        scale = (1 - alpha) / (batch * n_in)
        loss += scale * np.vdot(weighted_error, derivative_error)

        # Reverse over the backward sweep, from g_0 back to g_{L-1} = W_L.
        g_bar = weighted_error
        g_bar *= 2 * scale
        for l in hidden:
            dW_twin[l] = gz[l].T @ g_bar
            gz_bar = g_bar @ Wts[l]
            g_bar = gz_bar * slopes[l]
            if curvatures[l] is not None:  # f'' = 0: relu and linear
                gz_bar *= curvatures[l]
                gz_bar *= g[l + 1]
                z_bar_twin[l] = gz_bar
        dW_twin[-1] = (ones @ g_bar)[None, :]

    # Reverse over the forward sweep, from the value error back to x.
    z_bar = (2 * alpha / batch) * value_error[:, None]
    grads = []
    for l in reversed(range(len(Ws))):
        if l < len(Ws) - 1:
            z_bar = z_bar @ Ws[l + 1]
            z_bar *= slopes[l]
            if z_bar_twin[l] is not None:
                z_bar += z_bar_twin[l]
        dW = z_bar.T @ a[l]
        if dW_twin[l] is not None:
            dW += dW_twin[l]
        grads.append((dW, ones @ z_bar))
    return float(loss), grads[::-1]


def activation_parts(z: np.ndarray, activation: str):
    """``f(z)``, ``f'(z)`` and ``f''(z)``, the last None where it is 0."""
    if activation == "softplus":
        return softplus_parts(z)
    return activate(z, activation), slope_unchecked(z, activation, 0.0), None


def softplus_parts(z: np.ndarray):
    """Softplus, its slope and its curvature from one exponential, ``e = exp(z)``.

    ``f = log1p(e)``, ``f' = e / (1 + e)`` and ``f'' = f' / (1 + e)``, with
    ``z`` clipped at 700 inside the exponential (``f = z`` above it, where
    ``f'`` is 1 and ``f''`` below 1e-304). Within 4 ulp of the exact values
    (tested). :mod:`relunet.activations`' ``logaddexp`` forms give the same
    values to about ``|z|`` ulp in 20 times the time of these 7 operations
    (256 x 20 values, one thread): with them, the activations took most of
    a training step's time.
    """
    with np.errstate(under="ignore"):
        e = np.exp(np.minimum(z, 700.0))
        f = np.log1p(e)
        np.maximum(f, z, out=f)
        one_plus_e = 1.0 + e
        slope = np.divide(e, one_plus_e, out=e)
        return f, slope, slope / one_plus_e


def glorot_uniform(
    n_in: int, hidden: Sequence[int], activation: str, seed: int
) -> list[Dense]:
    """A twin network initialised as Keras' ``Dense`` does by default.

    Glorot-uniform weights, ``W_l ~ U(-r, r)`` with
    ``r = sqrt(6 / (n_{l-1} + n_l))``, and zero biases; the hidden layers have
    ``activation``, the output layer is linear with one unit. The weights are
    drawn, first layer first, from ``numpy.random.default_rng([seed, 1])``
    (a stream apart from the mini-batch shuffling of ``default_rng(seed)``).
    """
    rng = np.random.default_rng([seed, 1])
    widths = [n_in, *hidden, 1]
    layers = []
    for k, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
        r = np.sqrt(6.0 / (fan_in + fan_out))
        W = rng.uniform(-r, r, size=(fan_out, fan_in))
        last = k == len(widths) - 2
        layers.append(Dense(W, np.zeros(fan_out), "linear" if last else activation))
    return layers
