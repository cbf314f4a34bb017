"""Second derivatives of a network: Hessians and Hessian-vector products (chapter 7).

With ``a_0 = x``, ``z_l = W_l a_{l-1} + b_l`` and ``a_l = f_l(z_l)``, write
``J_l = d a_l / d x`` (shape (n_l, n_0)) and ``H_l = d^2 a_l / dx^2`` (shape
(n_l, n_0, n_0)). The chain rule, differentiated once more, gives the
recursion of chapter 7, equation (hessian-recursion):

    G_l = W_l J_{l-1},
    J_l = diag(f_l'(z_l)) G_l,
    H_l[j] = f_l''(z_l)_j  G_l[j]^T G_l[j]  +  f_l'(z_l)_j  (W_l H_{l-1})[j],

starting from ``J_0 = I`` and ``H_0 = 0``. For ReLU and linear layers
``f'' = 0`` wherever the network is differentiable, so every ``H_l`` stays 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_at_zero
from relunet.activations import curvature_unchecked, slope_unchecked
from relunet.layers import Dense
from relunet.network import prepare, trace, weights
from relunet.products import _direction


def hessian(
    x: ArrayLike,
    layers: Dense | Sequence[Dense],
    at_zero: float = 0.0,
    symmetrize: bool = True,
) -> np.ndarray:
    """Second derivatives of every output with respect to the input.

    Parameters
    ----------
    x : array_like, shape (n_in,) or (batch, n_in)
        One input, or a batch of inputs as rows.
    layers : Dense or sequence of Dense
        The network, first layer first.
    at_zero : float, default 0.0
        ReLU'(0), used where a ReLU unit's pre-activation is exactly 0, as in
        :func:`relunet.jacobian` (it matters only in networks that mix ReLU
        and softplus layers).
    symmetrize : bool, default True
        Return ``(H + H^T) / 2`` over the last two axes, symmetric to the last
        bit. ``False`` returns the recursion's own result, whose symmetry is
        then a check of the recursion (chapter 7), not of this final step.

    Returns
    -------
    ndarray, shape (n_out, n_in, n_in) or (batch, n_out, n_in, n_in)
        ``H[s, j, i, k] = d^2 NN_j / dx_i dx_k`` at sample ``s``; symmetric
        in its last two axes (with ``symmetrize=False``, up to rounding).

    Notes
    -----
    Evaluates the recursion of the module docstring (chapter 7, equation
    (hessian-recursion)), forward through the layers: per sample it costs
    about ``sum_l n_l n_{l-1} n_0^2`` multiply-adds. The curvature term is
    formed as the outer product of ``sqrt(f_l'') G_l[j]`` with itself, so a
    unit with ``f_l'' = 0`` contributes exactly 0 even when ``G_l`` is so
    large that ``G_l[j]^T G_l[j]`` alone would overflow (``0 * inf`` would be
    NaN).

    For a network of ReLU and linear layers the result is exactly zero:
    such a network is piecewise linear, and wherever it is differentiable
    its Hessian is 0. Where some pre-activation is exactly 0 the network may
    have no derivative, first or second (it need not: ``relu(x) - relu(-x)``
    is ``x``); the zeros returned there are a convention, not a derivative
    (the second derivative of ReLU is a point mass at the kink, not a
    function).
    """
    x2, layer_terms = _layer_terms(x, layers, at_zero)
    batch, n_in = x2.shape
    J = np.broadcast_to(np.eye(n_in, dtype=x2.dtype), (batch, n_in, n_in))
    H = np.zeros((batch, n_in, n_in, n_in), x2.dtype)
    for W, slope, curvature in layer_terms:
        G = np.matmul(W, J)  # (batch, n_l, n_0): W_l J_{l-1}
        WH = np.matmul(W, H.reshape(batch, W.shape[1], n_in * n_in))
        WH = WH.reshape(batch, W.shape[0], n_in, n_in)
        # f'' G_l[j]^T G_l[j] for every unit j, as (sqrt(f'') G)^T (sqrt(f'') G)
        root = np.sqrt(np.abs(curvature))[:, :, None] * G
        outer = root[:, :, :, None] * root[:, :, None, :]
        outer *= np.sign(curvature)[:, :, None, None]
        H = outer + slope[:, :, None, None] * WH
        J = slope[:, :, None] * G
    if symmetrize:  # symmetric to the last bit, not only up to rounding
        H = 0.5 * (H + H.swapaxes(-1, -2))
    return H[0] if np.ndim(x) == 1 else H


def hvp(
    x: ArrayLike, layers: Dense | Sequence[Dense], v: ArrayLike, at_zero: float = 0.0
) -> np.ndarray:
    """Hessian-vector products ``H(x) v``, without forming the Hessian.

    Parameters
    ----------
    x : array_like, shape (n_in,) or (batch, n_in)
        One input, or a batch of inputs as rows.
    layers : Dense or sequence of Dense
        The network, first layer first.
    v : array_like, same shape as ``x``
        One input-space direction per sample.
    at_zero : float, default 0.0
        ReLU'(0), as in :func:`hessian`.

    Returns
    -------
    ndarray, shape (n_out, n_in) or (batch, n_out, n_in)
        ``sum_k H[s, j, i, k] v[s, k]``: ``hessian(x, layers) @ v``
        contracted over the last axis, which is the directional derivative
        of the Jacobian along ``v``, ``d/de J(x + e v)`` at ``e = 0``; in
        the common dtype of ``x``, the weights and ``v``, as
        :func:`relunet.jvp` returns.

    Notes
    -----
    Forward over forward: the forward pass carries the Jacobian ``J_l``
    (as :func:`relunet.jacobian` in forward mode does), the tangent
    ``zdot_l = W_l adot_{l-1}`` of the pre-activations along ``v``, and the
    tangent of the Jacobian,

        Jdot_l = diag(f_l''(z_l) zdot_l) G_l + diag(f_l'(z_l)) W_l Jdot_{l-1},

    with ``Jdot_0 = 0`` and ``adot_0 = v``. That is about twice the work of
    one forward-mode Jacobian, against ``n_0`` times more for the Hessian.
    """
    x2, layer_terms = _layer_terms(x, layers, at_zero)
    a_dot = _direction(v, "v", np.shape(x), x2.dtype)  # dtype of x, layers and v
    batch, n_in = x2.shape
    J = np.broadcast_to(np.eye(n_in, dtype=a_dot.dtype), (batch, n_in, n_in))
    J_dot = np.zeros((batch, n_in, n_in), a_dot.dtype)
    for W, slope, curvature in layer_terms:
        G = np.matmul(W, J)
        z_dot = a_dot @ W.T
        J_dot = (curvature * z_dot)[:, :, None] * G + slope[:, :, None] * (W @ J_dot)
        J = slope[:, :, None] * G
        a_dot = slope * z_dot
    return J_dot[0] if np.ndim(x) == 1 else J_dot


def _layer_terms(x, layers, at_zero):
    """Validate, run the forward pass, and give ``(W_l, f_l'(z_l), f_l''(z_l))``.

    Returns ``x`` as a 2-D array in the common dtype, and an iterator over the
    layers, first layer first: the weights and the slope and curvature of the
    activation at every sample's pre-activations, shapes (batch, n_l).
    """
    slope_at_zero = as_at_zero(at_zero)
    x2, chain, dtype = prepare(x, layers)
    zs = trace(x2, chain, dtype)
    terms = (
        (
            W,
            slope_unchecked(z, layer.activation, slope_at_zero).astype(
                dtype, copy=False
            ),
            curvature_unchecked(z, layer.activation).astype(dtype, copy=False),
        )
        for (W, _), z, layer in zip(weights(chain, dtype), zs, chain)
    )
    return x2, terms
