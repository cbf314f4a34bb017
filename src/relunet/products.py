"""Jacobian-vector and vector-Jacobian products without forming J (chapter 4)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_at_zero, as_float_array
from relunet.activations import slope_unchecked
from relunet.layers import Dense
from relunet.network import prepare, trace, weights


def jvp(
    x: ArrayLike, layers: Dense | Sequence[Dense], v: ArrayLike, at_zero: float = 0.0
) -> np.ndarray:
    """Jacobian-vector product ``J(x) v`` (forward mode), without forming J.

    Parameters
    ----------
    x : array_like, shape (n_in,) or (batch, n_in)
        One input, or a batch of inputs as rows.
    layers : Dense or sequence of Dense
        The network, first layer first.
    v : array_like, same shape as ``x``
        The tangent: one input-space direction per sample.
    at_zero : float, default 0.0
        ReLU'(0), as in :func:`relunet.jacobian`.

    Returns
    -------
    ndarray, shape (n_out,) or (batch, n_out)
        ``J(x_s) v_s`` for every sample.

    Notes
    -----
    The tangent is pushed through the layers with the forward pass:
    ``t_0 = v``, ``t_l = D_l W_l t_{l-1}``, so ``t_L = J v``. One JVP costs
    about one forward pass; the whole Jacobian needs ``n_in`` of them.
    """
    slope_at_zero = as_at_zero(at_zero)
    x2, chain, dtype = prepare(x, layers)
    t = _direction(v, "v", np.shape(x), dtype)
    zs = trace(x2, chain, dtype)
    for (W, _), z, layer in zip(weights(chain, dtype), zs, chain):
        t = t @ W.T
        scale_by_slope(t, z, layer.activation, slope_at_zero)
    return t[0] if np.ndim(x) == 1 else t


def vjp(
    x: ArrayLike, layers: Dense | Sequence[Dense], u: ArrayLike, at_zero: float = 0.0
) -> np.ndarray:
    """Vector-Jacobian product ``u^T J(x)`` (reverse mode), without forming J.

    Parameters
    ----------
    x : array_like, shape (n_in,) or (batch, n_in)
        One input, or a batch of inputs as rows.
    layers : Dense or sequence of Dense
        The network, first layer first.
    u : array_like, shape (n_out,) or (batch, n_out)
        The cotangent: one output-space vector per sample, shaped like the
        network's output.
    at_zero : float, default 0.0
        ReLU'(0), as in :func:`relunet.jacobian`.

    Returns
    -------
    ndarray, shape (n_in,) or (batch, n_in)
        ``J(x_s)^T u_s`` for every sample; with ``u`` all ones this is what
        TensorFlow's ``tape.gradient`` returns for a vector output.

    Notes
    -----
    After the forward pass the cotangent is pulled back through the layers:
    ``g_L = u``, ``g_{l-1} = W_l^T D_l g_l``, so ``g_0 = J^T u``. One VJP
    costs about one forward pass; the whole Jacobian needs ``n_out`` of them.
    """
    slope_at_zero = as_at_zero(at_zero)
    x2, chain, dtype = prepare(x, layers)
    output_shape = (
        (chain[-1].n_out,) if np.ndim(x) == 1 else (x2.shape[0], chain[-1].n_out)
    )
    g = _direction(u, "u", output_shape, dtype).copy()
    zs = trace(x2, chain, dtype)
    for (W, _), z, layer in zip(
        reversed(weights(chain, dtype)), reversed(zs), reversed(chain)
    ):
        scale_by_slope(g, z, layer.activation, slope_at_zero)
        g = g @ W
    return g[0] if np.ndim(x) == 1 else g


def _direction(value, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """Validate a tangent or cotangent of exactly ``shape``; return it 2-D."""
    array = as_float_array(value, name)
    if array.shape != tuple(shape):
        raise ValueError(
            f"{name} must have shape {tuple(shape)}, got shape {array.shape}"
        )
    return np.atleast_2d(array).astype(np.result_type(array, dtype), copy=False)


def scale_by_slope(
    array: np.ndarray, z: np.ndarray, activation: str, at_zero: float
) -> None:
    """Multiply ``array`` in place by ``f'(z)``, ``z`` broadcastable to it."""
    if activation != "linear":
        array *= slope_unchecked(z, activation, at_zero).astype(array.dtype, copy=False)
