"""Forward pass and Jacobian of a feed-forward network (chapters 1 and 2).

Shapes follow the notation page: a single input ``x`` has shape (n_in,); a
batch has one sample per row, shape (batch, n_in), as in Keras. The Jacobian
of an output of shape (n_out,) with respect to an input of shape (n_in,) has
shape (n_out, n_in): output shape + input shape.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_at_zero, as_float_array, check_ndim
from relunet.activations import relu_derivative
from relunet.layers import Dense, as_layers


def _prepare(x: ArrayLike, layers) -> tuple[np.ndarray, tuple[Dense, ...], np.dtype]:
    """Validate ``x`` against ``layers``; return x as 2-D, the layers and the dtype."""
    chain = as_layers(layers)
    x = as_float_array(x, "x")
    n_in = chain[0].n_in
    check_ndim(x, "x", (1, 2), f"({n_in},) or (batch, {n_in})")
    if x.shape[-1] != n_in:
        expected = f"({n_in},)" if x.ndim == 1 else f"(batch, {n_in})"
        raise ValueError(
            f"x must have shape {expected} to match the first layer's W of "
            f"shape {chain[0].W.shape}, got shape {x.shape}"
        )
    dtype = np.result_type(x, *(layer.W for layer in chain))
    return np.atleast_2d(x).astype(dtype, copy=False), chain, dtype


def _mask_rows(J: np.ndarray, z: np.ndarray, at_zero: float) -> np.ndarray:
    """``diag(f'(z)) J`` per sample: row ``j`` scaled by ReLU'(z_j).

    For the usual slopes 0 and 1 rows are selected, not multiplied, so an
    inactive row is +0.0 exactly (a product would give -0.0 for negative
    weights, as TensorFlow does not).
    """
    if at_zero in (0.0, 1.0):
        active = z > 0 if at_zero == 0.0 else z >= 0
        return np.where(active[:, :, np.newaxis], J, 0).astype(J.dtype, copy=False)
    return relu_derivative(z, at_zero=at_zero)[:, :, np.newaxis] * J


def _activate(z: np.ndarray, activation: str) -> np.ndarray:
    return np.maximum(z, 0) if activation == "relu" else z


def preactivations(x: ArrayLike, layers: Dense | Sequence[Dense]) -> list[np.ndarray]:
    """Pre-activations ``z_l = W_l a_{l-1} + b_l`` of every layer.

    Parameters
    ----------
    x : array_like, shape (n_in,) or (batch, n_in)
        One input, or a batch of inputs as rows.
    layers : Dense or sequence of Dense
        The network, first layer first.

    Returns
    -------
    list of ndarray
        ``z_l`` of shape (n_l,) for a single input, (batch, n_l) for a batch,
        one array per layer.

    Notes
    -----
    .. math:: a_0 = x, \\quad z_l = W_l a_{l-1} + b_l, \\quad a_l = f_l(z_l)

    For a batch of rows the same is ``Z_l = A_{l-1} W_l^T + b_l``.
    """
    a, chain, dtype = _prepare(x, layers)
    zs = []
    for layer in chain:
        z = a @ layer.W.T.astype(dtype, copy=False) + layer.b.astype(dtype, copy=False)
        zs.append(z)
        a = _activate(z, layer.activation)
    single = np.ndim(x) == 1
    return [z[0] for z in zs] if single else zs


def forward(x: ArrayLike, layers: Dense | Sequence[Dense]) -> np.ndarray:
    """Output ``NN(x)`` of the network.

    Parameters
    ----------
    x : array_like, shape (n_in,) or (batch, n_in)
        One input, or a batch of inputs as rows.
    layers : Dense or sequence of Dense
        The network, first layer first.

    Returns
    -------
    ndarray, shape (n_out,) or (batch, n_out)
        The last layer's activations, in the common floating dtype of ``x``
        and the weights.

    Notes
    -----
    .. math:: NN(x) = f_L(W_L \\cdots f_1(W_1 x + b_1) \\cdots + b_L)
    """
    chain = as_layers(layers)
    z = preactivations(x, chain)[-1]
    return _activate(z, chain[-1].activation)


def jacobian(
    x: ArrayLike, layers: Dense | Sequence[Dense], at_zero: float = 0.0
) -> np.ndarray:
    """Jacobian of the network's output with respect to its input.

    Parameters
    ----------
    x : array_like, shape (n_in,) or (batch, n_in)
        One input, or a batch of inputs as rows.
    layers : Dense or sequence of Dense
        The network, first layer first.
    at_zero : float, default 0.0
        ReLU'(0), used for every unit whose pre-activation is exactly 0.
        The default matches TensorFlow's ``tf.nn.relu``.

    Returns
    -------
    ndarray, shape (n_out, n_in) or (batch, n_out, n_in)
        ``J[j, i] = d NN_j / d x_i``; for a batch, one such matrix per sample
        (samples do not interact, so the cross-sample blocks are zero and are
        not stored).

    Notes
    -----
    With ``D_l = diag(f_l'(z_l))``, derived in chapter 2 for one layer:

    .. math:: J(x) = D_L W_L D_{L-1} W_{L-1} \\cdots D_1 W_1

    The product is accumulated from the input side: ``J_1 = D_1 W_1`` and
    ``J_l = D_l (W_l J_{l-1})``, scaling rows instead of forming ``D_l``.
    """
    slope_at_zero = as_at_zero(at_zero)
    a, chain, dtype = _prepare(x, layers)
    zs = preactivations(a, chain)
    batch = a.shape[0]
    J = None
    for layer, z in zip(chain, zs):
        W = layer.W.astype(dtype, copy=False)
        J = np.broadcast_to(W, (batch,) + W.shape) if J is None else np.matmul(W, J)
        if layer.activation == "relu":
            J = _mask_rows(J, z, slope_at_zero)
    J = np.ascontiguousarray(J)  # a lone linear layer leaves a broadcast view
    return J[0] if np.ndim(x) == 1 else J
