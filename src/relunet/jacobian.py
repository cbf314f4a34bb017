"""The input Jacobian of a network, accumulated forward or in reverse (chapters 2, 4, 6).

For a network of L layers (notation page) the chain rule gives

    J(x) = D_L W_L D_{L-1} W_{L-1} ... D_1 W_1,   D_l = diag(f_l'(z_l)),

a product of matrices that can be evaluated from the input side (forward
accumulation) or from the output side (reverse accumulation). Both give the
same matrix; their costs differ with the layer widths (chapter 4).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_at_zero
from relunet.activations import relu_derivative
from relunet.layers import Dense, as_layers
from relunet.network import prepare, trace, weights

#: The accumulation orders :func:`jacobian` accepts.
MODES = ("auto", "forward", "reverse")


def jacobian_cost(layers: Dense | Sequence[Dense], mode: str) -> int:
    """Multiply-adds per sample of the Jacobian's matrix chain in one order.

    Parameters
    ----------
    layers : Dense or sequence of Dense
        The network, with widths ``n_0, n_1, ..., n_L``.
    mode : {"forward", "reverse"}
        The accumulation order.

    Returns
    -------
    int
        ``n_1 n_0 + sum_{l=2}^{L} n_l n_{l-1} n_0`` for forward accumulation
        (each step multiplies an ``n_{l-1} x n_0`` partial Jacobian by
        ``W_l``), ``n_L n_{L-1} + sum_{l=1}^{L-1} n_L n_l n_{l-1}`` for
        reverse accumulation. The first term is writing the first factor.
    """
    chain = as_layers(layers)
    _check_mode(mode, allowed=("forward", "reverse"))
    widths = [chain[0].n_in] + [layer.n_out for layer in chain]
    n_in, n_out, L = widths[0], widths[-1], len(chain)
    if mode == "forward":
        return widths[1] * n_in + sum(widths[l] * widths[l - 1] * n_in for l in range(2, L + 1))
    return n_out * widths[L - 1] + sum(n_out * widths[l] * widths[l - 1] for l in range(1, L))


def choose_mode(layers: Dense | Sequence[Dense]) -> str:
    """The cheaper accumulation order by :func:`jacobian_cost`; reverse on a tie."""
    forward_cost = jacobian_cost(layers, "forward")
    return "forward" if forward_cost < jacobian_cost(layers, "reverse") else "reverse"


def jacobian(
    x: ArrayLike,
    layers: Dense | Sequence[Dense],
    at_zero: float = 0.0,
    mode: str = "auto",
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
    mode : {"auto", "forward", "reverse"}, default "auto"
        The order in which the chain of matrices is multiplied: from the
        input side, from the output side, or whichever
        :func:`jacobian_cost` finds cheaper for these layer widths.

    Returns
    -------
    ndarray, shape (n_out, n_in) or (batch, n_out, n_in)
        ``J[j, i] = d NN_j / d x_i``; for a batch, one such matrix per sample
        (samples do not interact, so the cross-sample blocks are zero and are
        not stored).

    Notes
    -----
    With ``D_l = diag(f_l'(z_l))`` (the identity for a linear layer):

    .. math:: J(x) = D_L W_L D_{L-1} W_{L-1} \\cdots D_1 W_1

    ``D_l`` is never formed: rows or columns of the partial product are
    zeroed instead. Every step is one large matrix product over the whole
    batch. Derived in chapter 2 (one layer) and chapter 4 (any depth).
    """
    slope_at_zero = as_at_zero(at_zero)
    _check_mode(mode, allowed=MODES)
    x2, chain, dtype = prepare(x, layers)
    zs = trace(x2, chain, dtype)
    Ws = [W for W, _ in weights(chain, dtype)]
    relu = [layer.activation == "relu" for layer in chain]
    if mode == "auto":
        mode = choose_mode(chain)
    if len(chain) == 1:
        z = zs[0][:, :, np.newaxis] if relu[0] else None
        J = _scaled_copy(Ws[0][np.newaxis], [z], slope_at_zero, (x2.shape[0],) + Ws[0].shape)
    elif mode == "forward":
        J = _forward_accumulation(Ws, zs, relu, slope_at_zero)
    else:
        J = _reverse_accumulation(Ws, zs, relu, slope_at_zero)
    return J[0] if np.ndim(x) == 1 else J


def _forward_accumulation(Ws, zs, relu, at_zero) -> np.ndarray:
    """D_L W_L (... (D_2 W_2 (D_1 W_1))), kept as (n_l, batch, n_0) so that
    every step is one matrix product ``W_l @ P`` with P of shape (n_{l-1}, batch * n_0)."""
    batch, n_in = zs[0].shape[0], Ws[0].shape[1]
    rows = zs[0].T[:, :, np.newaxis] if relu[0] else None
    P = _scaled_copy(Ws[0][:, np.newaxis, :], [rows], at_zero, (Ws[0].shape[0], batch, n_in))
    for W, z, is_relu in zip(Ws[1:], zs[1:], relu[1:]):
        P = (W @ P.reshape(W.shape[1], batch * n_in)).reshape(W.shape[0], batch, n_in)
        if is_relu:
            zero_inactive(P, z.T[:, :, np.newaxis], at_zero)
    return np.ascontiguousarray(P.transpose(1, 0, 2))


def _reverse_accumulation(Ws, zs, relu, at_zero) -> np.ndarray:
    """(((D_L W_L) D_{L-1}) W_{L-1}) ... W_1, kept as (batch, n_L, n_l) so that
    every step is one matrix product ``R @ W_l`` with R of shape (batch * n_L, n_l)."""
    batch, n_out, L = zs[0].shape[0], Ws[-1].shape[0], len(Ws)
    rows = zs[-1][:, :, np.newaxis] if relu[-1] else None
    columns = zs[-2][:, np.newaxis, :] if relu[-2] else None
    R = _scaled_copy(Ws[-1][np.newaxis], [rows, columns], at_zero, (batch,) + Ws[-1].shape)
    for k in range(L - 2, -1, -1):
        W = Ws[k]
        R = (R.reshape(batch * n_out, W.shape[0]) @ W).reshape(batch, n_out, W.shape[1])
        if k >= 1 and relu[k - 1]:
            zero_inactive(R, zs[k - 1][:, np.newaxis, :], at_zero)
    return R


def zero_inactive(array: np.ndarray, z: np.ndarray, at_zero: float) -> None:
    """Multiply ``array`` in place by ReLU'(z), ``z`` broadcastable to it.

    For the slopes 0 and 1 entries are overwritten with +0.0 rather than
    multiplied, so an inactive entry is +0.0 exactly, as in TensorFlow (a
    product would give -0.0 for negative entries).
    """
    if at_zero == 0.0:
        np.copyto(array, 0, where=z <= 0)
    elif at_zero == 1.0:
        np.copyto(array, 0, where=z < 0)
    else:
        np.multiply(array, relu_derivative(z, at_zero=at_zero), out=array)


def _scaled_copy(W, zs, at_zero, shape) -> np.ndarray:
    """A new array of ``shape``: ``W`` broadcast, times ReLU'(z) for each z given."""
    zs = [z for z in zs if z is not None]
    if not zs:
        return np.array(np.broadcast_to(W, shape), order="C")
    if at_zero in (0.0, 1.0):
        keep = reduce(np.logical_and, [z > 0 if at_zero == 0.0 else z >= 0 for z in zs])
        return np.where(np.broadcast_to(keep, shape), W, np.zeros((), W.dtype))
    slope = reduce(np.multiply, [relu_derivative(z, at_zero=at_zero) for z in zs])
    return np.array(np.broadcast_to(W * slope, shape), order="C")


def _check_mode(mode, allowed) -> None:
    if not isinstance(mode, str):
        raise TypeError(f"mode must be one of {allowed}, got {type(mode).__name__} {mode!r}")
    if mode not in allowed:
        raise ValueError(f"mode must be one of {allowed}, got {mode!r}")
