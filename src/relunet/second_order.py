"""Second derivatives of a network: Hessians and Hessian-vector products (chapter 7).

With ``a_0 = x``, ``z_l = W_l a_{l-1} + b_l`` and ``a_l = f_l(z_l)``, the
only curved operations of a network are its activations. Two ways to the
Hessian ``H_j = d^2 NN_j / dx^2`` follow from the chain rule (chapter 7):

* the *recursion*, equation (hessian-recursion): carry ``J_l = d a_l / dx``
  and ``H_l = d^2 a_l / dx^2`` (shape (n_l, n_0, n_0)) forward,

      G_l = W_l J_{l-1},   J_l = diag(f_l'(z_l)) G_l,
      H_l[j] = f_l''(z_l)_j G_l[j]^T G_l[j] + f_l'(z_l)_j (W_l H_{l-1})[j];

* the *adjoint form*, equation (hessian-adjoint): one sandwich per curved
  layer, with ``K_l = d z_l / dx`` from forward accumulation and the output
  gradient ``gbar_l = d NN_j / d a_l`` from the backward pass,

      H_j = sum_l K_l^T diag(gbar_l * f_l''(z_l)) K_l.

The recursion carries a second-derivative tensor per hidden unit; the
adjoint form one (n_0, n_0) matrix per output. :func:`hessian_cost` prices
both and ``hessian(..., mode="auto")`` runs the cheaper. :func:`hvp` is
Pearlmutter's forward-over-reverse product: one forward pass, one backward
pass and their tangents, no Jacobian. For ReLU and linear layers ``f'' = 0``
wherever the network is differentiable, so every Hessian is 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_at_zero
from relunet.accumulation import _check_mode
from relunet.activations import activate, slope_unchecked
from relunet.layers import Dense, as_layers
from relunet.network import prepare, weights
from relunet.products import _direction

#: Memory for the arrays of one block of samples (bytes), as in
#: :func:`relunet.accumulation.block_size`: :func:`hessian` splits a batch so
#: that a block's arrays, by the model of :func:`hessian_cost`, fit in it.
BLOCK_BYTES = 2**26

#: The algorithms :func:`hessian` accepts.
HESSIAN_MODES = ("auto", "adjoint", "recursion")

#: The algorithms :func:`hvp_cost` prices (:func:`hvp` runs the first).
HVP_MODES = ("forward-over-reverse", "forward-over-forward")


def hessian(
    x: ArrayLike,
    layers: Dense | Sequence[Dense],
    at_zero: float = 0.0,
    symmetrize: bool = True,
    mode: str = "auto",
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
        bit. ``False`` returns the algorithm's own result, whose symmetry is
        then a check of the algorithm (chapter 7), not of this final step.
    mode : {"auto", "adjoint", "recursion"}, default "auto"
        The algorithm: the adjoint form, the forward recursion, or the one
        of the two with fewer multiply-adds for these widths (``"auto"``,
        see :func:`choose_hessian_mode`).

    Returns
    -------
    ndarray, shape (n_out, n_in, n_in) or (batch, n_out, n_in, n_in)
        ``H[s, j, i, k] = d^2 NN_j / dx_i dx_k`` at sample ``s``; symmetric
        in its last two axes (with ``symmetrize=False``, up to rounding).

    Notes
    -----
    The adjoint form (chapter 7, equation (hessian-adjoint)), for output
    ``j``:

    .. math:: H_j = \\sum_l K_l^T \\operatorname{diag}(\\bar g_l \\odot
              f_l''(z_l)) K_l, \\quad K_l = \\partial z_l / \\partial x,
              \\quad \\bar g_l = \\partial NN_j / \\partial a_l

    is computed layer by layer as ``B^T (S B)`` with ``B = diag(sqrt|c|) K``
    and ``S`` the signs of ``c = gbar * f''`` (the first layer's, where
    ``K_1 = W_1`` for all samples, as one product of ``c`` with the outer
    products ``w_r w_r^T`` of ``W_1``'s rows): every term of the sum is then
    symmetric in ``i, k`` exactly, and a unit with ``c = 0``
    contributes exactly 0 even where ``K`` is so large that ``K^T K`` alone
    would overflow (``0 * inf`` would be NaN). The recursion (equation
    (hessian-recursion), module docstring) forms its curvature term the same
    way, as the outer product of ``sqrt(f_l'') G_l[j]`` with itself.
    :func:`hessian_cost` gives the multiply-adds and memory of both; a batch
    is processed in blocks whose arrays, by that model, fit in
    :data:`BLOCK_BYTES` (64 MiB).

    For a network of ReLU and linear layers the result is exactly zero:
    such a network is piecewise linear, and wherever it is differentiable
    its Hessian is 0. Where some pre-activation is exactly 0 the network may
    have no derivative, first or second (it need not: ``relu(x) - relu(-x)``
    is ``x``); the zeros returned there are a convention, not a derivative
    (the second derivative of ReLU is a point mass at the kink, not a
    function).
    """
    slope_at_zero = as_at_zero(at_zero)
    _check_mode(mode, allowed=HESSIAN_MODES)
    x2, chain, dtype = prepare(x, layers)
    if mode == "auto":
        mode = choose_hessian_mode(chain)
    batch, n_in, n_out = x2.shape[0], chain[0].n_in, chain[-1].n_out
    per_sample = max(1, hessian_cost(chain, mode).memory) * np.dtype(dtype).itemsize
    step = max(1, min(batch, BLOCK_BYTES // per_sample))
    H = None if step >= batch else np.empty((batch, n_out, n_in, n_in), dtype)
    for start in range(0, batch, step):  # blocks of samples: bounded memory
        rows = slice(start, start + step)
        terms = _layer_terms(x2[rows], chain, dtype, slope_at_zero)
        block = len(x2[rows])
        if mode == "adjoint":
            shared = n_in <= step  # the first layer's P no larger than a block's B
            H_block = _adjoint_hessian(terms, block, n_in, n_out, dtype, shared)
        else:
            H_block = _recursion_hessian(terms, block, n_in, dtype)
        out = None if H is None else H[rows]
        if symmetrize:  # symmetric to the last bit, not only up to rounding
            out = np.add(H_block, H_block.swapaxes(-1, -2), out=out)
            out *= 0.5
        elif out is not None:
            out[...] = H_block
        else:
            out = H_block
        if H is None:
            H = out
    return H[0] if np.ndim(x) == 1 else H


def hvp(
    x: ArrayLike, layers: Dense | Sequence[Dense], v: ArrayLike, at_zero: float = 0.0
) -> np.ndarray:
    """Hessian-vector products ``H(x) v``, without forming a Jacobian.

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
        of the gradient of ``NN_j`` along ``v``; in the common dtype of
        ``x``, the weights and ``v``, as :func:`relunet.jvp` returns.

    Notes
    -----
    Forward over reverse, Pearlmutter's R-operator (chapter 7, equation
    (hvp-r-operator)). The forward pass carries the tangent of the
    pre-activations along ``v``, ``zdot_l = W_l adot_{l-1}`` with
    ``adot_0 = v`` and ``adot_l = f_l'(z_l) zdot_l``. The backward pass
    carries, for every output ``j``, the gradient ``gbar_l = d NN_j / d a_l``
    and its tangent:

    .. math:: \\delta_l = f_l'(z_l) \\odot \\bar g_l, \\quad
              \\dot\\delta_l = f_l''(z_l) \\odot \\dot z_l \\odot \\bar g_l
              + f_l'(z_l) \\odot \\dot{\\bar g}_l, \\quad
              \\bar g_{l-1} = W_l^T \\delta_l, \\quad
              \\dot{\\bar g}_{l-1} = W_l^T \\dot\\delta_l

    starting from ``gbar_L = e_j``, ``gbar_L``'s tangent 0; then
    ``H_j v`` is the tangent of ``gbar_0``. A pass and its tangent share one
    matrix product per layer (rows stacked), so the cost is about two
    forward passes and ``2 n_out`` backward passes (:func:`hvp_cost`), against
    about twice a forward-mode Jacobian for forward over forward.
    """
    slope_at_zero = as_at_zero(at_zero)
    x2, chain, dtype = prepare(x, layers)
    v2 = _direction(v, "v", np.shape(x), dtype)  # dtype of x, layers and v
    dtype = v2.dtype
    batch = x2.shape[0]
    # Forward: rows [a_l; adot_l], one product per layer for the pass and its
    # tangent. Kept per layer: W_l, f_l'(z_l) and f_l''(z_l) zdot_l.
    pair = np.stack([x2.astype(dtype, copy=False), v2])
    kept = []
    for l, ((W, b), layer) in enumerate(zip(weights(chain, dtype), chain), start=1):
        z_pair = _product(pair.reshape(2 * batch, -1), W.T).reshape(2, batch, -1)
        z, z_dot = z_pair
        z += b
        a, slope, slope_dot = _parts(z, layer.activation, slope_at_zero)
        if slope_dot is not None:  # the tangent of f'(z_l): f''(z_l) zdot_l
            slope_dot *= z_dot
        kept.append((W, slope.astype(dtype, copy=False), slope_dot))
        if l < len(chain):  # [a_l; adot_l]
            pair = np.stack([a, slope * z_dot])
    # Backward, for all outputs at once: rows [gbar_l; gbar_l's tangent] of
    # shape (2, batch, n_out, n_l). From the output layer, gbar_{L-1} = W_L^T
    # diag(f_L') e_j: row j of W_L times f_L'(z_L)_j, a scaled copy.
    W, slope, slope_dot = kept[-1]
    n_out = W.shape[0]
    pair = np.empty((2, batch, n_out, W.shape[1]), dtype)
    np.multiply(slope[:, :, None], W, out=pair[0])
    if slope_dot is None:
        pair[1] = 0.0
    else:
        np.multiply(slope_dot[:, :, None], W, out=pair[1])
    for W, slope, slope_dot in reversed(kept[:-1]):
        g, g_dot = pair
        g_dot *= slope[:, None, :]
        if slope_dot is not None:
            g_dot += g * slope_dot[:, None, :]
        g *= slope[:, None, :]  # now delta_l and its tangent
        pair = _product(pair.reshape(-1, W.shape[0]), W)
        pair = pair.reshape(2, batch, n_out, W.shape[1])
    result = pair[1]
    return result[0] if np.ndim(x) == 1 else result


# --- The two Hessian algorithms -------------------------------------------------


class _Term(NamedTuple):
    """One layer: ``W_l``, ``f_l'(z_l)`` and ``f_l''(z_l)`` (None where 0)."""

    W: np.ndarray
    slope: np.ndarray
    curvature: np.ndarray | None


def _layer_terms(x2, chain, dtype, slope_at_zero) -> list[_Term]:
    """Forward pass; the weights, slopes and curvatures of every layer.

    Slopes and curvatures have shape (batch, n_l); a layer whose ``f''`` is 0
    (ReLU away from its kink, linear) has curvature None.
    """
    terms, a = [], x2
    for (W, b), layer in zip(weights(chain, dtype), chain):
        z = _product(a, W.T)
        z += b
        a, slope, curvature = _parts(z, layer.activation, slope_at_zero)
        terms.append(_Term(W, slope.astype(dtype, copy=False), curvature))
    return terms


def _parts(z: np.ndarray, activation: str, slope_at_zero: float):
    """``f(z)``, ``f'(z)`` and ``f''(z)`` (None where it is 0), dtype kept.

    Softplus from one exponential, ``e = exp(-|z|)``, which never overflows:
    ``f = max(z, 0) + log1p(e)``, ``f' = 1 / (1 + e)`` for ``z >= 0`` and
    ``e / (1 + e)`` below, ``f'' = e / (1 + e)^2`` (exactly 0 where ``e``
    underflows, as the true value does in floating point). The ``logaddexp``
    forms of :mod:`relunet.activations` take several times longer, most of
    the time of :func:`hvp` for small networks.
    """
    if activation != "softplus":
        return (
            activate(z, activation),
            slope_unchecked(z, activation, slope_at_zero),
            None,
        )
    with np.errstate(under="ignore"):
        e = np.exp(-np.abs(z))
        f = np.log1p(e)
        f += np.maximum(z, 0)
        inverse = np.reciprocal(1.0 + e)
        slope = np.maximum(e, z >= 0)  # 1 where z >= 0 (there e <= 1), else e
        slope *= inverse
        curvature = e * inverse
        curvature *= inverse
    return f, slope, curvature


def _curved(layer: Dense) -> bool:
    """Whether ``f''`` of the layer's activation can be non-zero (softplus)."""
    return layer.activation == "softplus"


def _adjoint_hessian(terms, batch, n_in, n_out, dtype, shared=True) -> np.ndarray:
    """``H_j = sum_l K_l^T diag(gbar_l f_l'') K_l``, shape (batch, n_out, n_in, n_in).

    ``K_l^T`` is kept as ``T_l`` of shape (batch, n_0, n_l), formed from the
    input side: ``T_1 = W_1^T`` (one array for all samples), ``T_l =
    (T_{l-1} D_{l-1}) W_l^T``. The gradients ``gbar_l`` of all outputs,
    shape (batch, n_out, n_l), come from the output side.
    """
    curved = [l for l, term in enumerate(terms) if term.curvature is not None]
    if not curved:  # piecewise linear: exactly 0
        return np.zeros((batch, n_out, n_in, n_in), dtype)
    # Forward: T_l up to the last curved layer.
    T, transposed = None, {}
    for l in range(curved[-1] + 1):
        W = terms[l].W
        if l == 0:
            T = np.ascontiguousarray(W.T)  # broadcast, not copied, per sample
            T = np.broadcast_to(T, (batch, n_in, W.shape[0]))
        else:
            masked = T * terms[l - 1].slope[:, None, :]  # T_{l-1} D_{l-1}
            T = _product(masked.reshape(batch * n_in, -1), W.T)
            T = T.reshape(batch, n_in, W.shape[0])
        transposed[l] = T
    # Backward: the coefficients c_l = gbar_l * f_l''(z_l) of the curved layers.
    last = len(terms) - 1
    coefficients = {}
    if terms[last].curvature is not None:  # gbar_L = e_j: diag(f_L'') per output
        c = np.zeros((batch, n_out, n_out), dtype)
        c[:, np.arange(n_out), np.arange(n_out)] = terms[last].curvature
        coefficients[last] = c
    g = None
    for l in range(last - 1, curved[0] - 1, -1):
        above = terms[l + 1]
        if g is None:  # gbar_{L-1} = rows of W_L times f_L'(z_L): a scaled copy
            g = above.slope[:, :, None] * above.W
        else:
            delta = g * above.slope[:, None, :]
            g = _product(delta.reshape(batch * n_out, -1), above.W)
            g = g.reshape(batch, n_out, above.W.shape[1])
        if terms[l].curvature is not None:
            coefficients[l] = g * terms[l].curvature[:, None, :]
    # The sandwiches B^T (S B), one per curved layer, B = diag(sqrt|c|) K_l, kept
    # transposed like K_l: B^T[s, j, :, r] = sqrt|c[s, j, r]| T[s, :, r].
    H = None
    for l in curved:
        c = coefficients[l]
        first = l == 0 and shared
        sandwich = _first_layer_sandwiches(terms[0].W, c) if first else None
        if sandwich is None:
            root = np.sqrt(np.abs(c))[:, :, None, :]
            B = transposed[l][:, None, :, :] * root
            signed = transposed[l][:, None, :, :] * np.copysign(root, c[:, :, None, :])
            sandwich = _product(B, signed.swapaxes(-1, -2))
        H = sandwich if H is None else np.add(H, sandwich, out=H)
    return H


def _first_layer_sandwiches(W: np.ndarray, c: np.ndarray) -> np.ndarray | None:
    """``W^T diag(c[s, j]) W`` for every sample and output, as one matrix product.

    ``K_1 = W_1`` is the same for every sample, so the first layer's
    sandwiches are ``c @ P`` with ``P[r] = w_r w_r^T`` (``w_r`` row ``r`` of
    ``W``, ``P`` exactly symmetric): one product of a (batch n_out, n_1) and
    an (n_1, n_0^2) matrix instead of one small product per sample (measured
    1.2x to 1.6x faster on the benchmark's networks with 8 to 64 inputs).
    Used where ``P`` is no larger than the arrays it replaces (``n_0`` up to
    the block of samples, decided by :func:`hessian` for all blocks alike);
    None, and the per-sample form is used, where ``P`` overflows (weights
    above about 1e154: there the per-sample form keeps a unit with ``c = 0``
    at exactly 0).
    """
    batch, n_out, n_1 = c.shape
    n_0 = W.shape[1]
    with np.errstate(over="ignore"):
        P = W[:, :, None] * W[:, None, :]
    if not np.all(np.isfinite(P)):
        return None
    sandwiches = _product(c.reshape(batch * n_out, n_1), P.reshape(n_1, n_0 * n_0))
    return sandwiches.reshape(batch, n_out, n_0, n_0)


def _recursion_hessian(terms, batch, n_in, dtype) -> np.ndarray:
    """The forward recursion of the module docstring, (batch, n_L, n_in, n_in).

    ``J_0 = I`` and ``H_0 = 0`` are not multiplied: ``G_1 = W_1`` and
    ``H_1`` is its curvature term alone; ``W_l H_{l-1}`` is skipped while
    ``H_{l-1}`` is 0 (no curved layer yet).
    """
    if all(term.curvature is None for term in terms):  # piecewise linear: 0
        return np.zeros((batch, terms[-1].W.shape[0], n_in, n_in), dtype)
    J, H = None, None  # J_{l-1}; H_{l-1}, None while exactly 0
    for W, slope, curvature in terms:
        if J is None:
            G = np.broadcast_to(W, (batch, *W.shape))  # W_1 J_0 = W_1
        else:
            G = _product(W, J)  # (batch, n_l, n_0)
        if H is not None:
            WH = _product(W, H.reshape(batch, W.shape[1], n_in * n_in))
            H = WH.reshape(batch, W.shape[0], n_in, n_in)
            H *= slope[:, :, None, None]
        if curvature is not None:
            # f'' G_l[j]^T G_l[j] for every unit j, as (sqrt(f'') G)^T (sqrt(f'') G)
            root = np.sqrt(np.abs(curvature))[:, :, None] * G
            outer = _outer(root)
            outer *= np.sign(curvature)[:, :, None, None]
            H = outer if H is None else np.add(H, outer, out=H)
        J = slope[:, :, None] * G
    return H


def _product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b``: every matrix product of :func:`hessian` and :func:`hvp` (the
    tests count them; the benchmark replays them as an arithmetic reference)."""
    return np.matmul(a, b)


def _outer(rows: np.ndarray) -> np.ndarray:
    """``rows[..., j, :]`` times itself, outer: (..., n, m) -> (..., n, m, m)."""
    return rows[..., :, None] * rows[..., None, :]


def _hvp_forward_over_forward(x, layers, v, at_zero=0.0) -> np.ndarray:
    """``H v`` by forward over forward: the tangent of a forward Jacobian.

    The reference :func:`hvp` is checked against (chapter 7 and the tests):
    the forward pass carries ``J_l`` (as a forward-mode Jacobian does), the
    tangent ``zdot_l`` and ``Jdot_l = diag(f_l'' zdot_l) G_l + diag(f_l')
    W_l Jdot_{l-1}``, with ``Jdot_0 = 0`` and ``adot_0 = v``.
    """
    slope_at_zero = as_at_zero(at_zero)
    x2, chain, dtype = prepare(x, layers)
    a_dot = _direction(v, "v", np.shape(x), dtype)
    batch, n_in = x2.shape
    J = np.broadcast_to(np.eye(n_in, dtype=a_dot.dtype), (batch, n_in, n_in))
    J_dot = np.zeros((batch, n_in, n_in), a_dot.dtype)
    for W, slope, curvature in _layer_terms(x2, chain, dtype, slope_at_zero):
        curvature = np.zeros_like(slope) if curvature is None else curvature
        G = np.matmul(W, J)
        z_dot = a_dot @ W.T
        J_dot = (curvature * z_dot)[:, :, None] * G + slope[:, :, None] * (W @ J_dot)
        J = slope[:, :, None] * G
        a_dot = slope * z_dot
    return J_dot[0] if np.ndim(x) == 1 else J_dot


# --- Costs ----------------------------------------------------------------------


class Cost(NamedTuple):
    """Multiply-adds and memory of one algorithm, per sample.

    ``multiply_adds`` counts the matrix products (``a k b`` for an ``a x k``
    times a ``k x b`` matrix) and outer products (``a b``) the algorithm
    runs; ``memory`` is the number of floats of its largest arrays alive at
    once, by the model in :func:`hessian_cost` and :func:`hvp_cost`.
    """

    multiply_adds: int
    memory: int


def hessian_cost(layers: Dense | Sequence[Dense], mode: str) -> Cost:
    """Multiply-adds and peak memory per sample of one Hessian algorithm.

    Parameters
    ----------
    layers : Dense or sequence of Dense
        The network, with widths ``n_0, n_1, ..., n_L``; its curved layers
        (softplus, set ``C``) are the ones with a curvature term.
    mode : {"adjoint", "recursion"}
        The algorithm, as :func:`hessian` runs it.

    Returns
    -------
    Cost
        ``multiply_adds``: for the adjoint form, with ``m = n_L`` outputs
        and ``c``, ``d`` the first and last curved layer,
        ``sum_{l=2}^{d} n_l n_{l-1} n_0`` (forward, ``K_l``) ``+ m
        sum_{l=c+1}^{L-1} n_l n_{l-1}`` (backward, ``gbar_l``) ``+ m n_0^2
        sum_{l in C} n_l`` (the sandwich). For the recursion,
        ``sum_{l=2}^{L} n_l n_{l-1} n_0`` (``G_l``) ``+ sum_{l > c}
        n_l n_{l-1} n_0^2`` (``W_l H_{l-1}``) ``+ sum_{l in C} n_l n_0^2``
        (outer products). ``memory``: for the adjoint form ``n_0 sum_{l <=
        d} n_l`` (the ``K_l``) ``+ 2 m n_0 max_{l in C} n_l`` (one layer's
        ``B`` and ``S B``) ``+ 2 m n_0^2`` (the sum and one sandwich)
        ``+ 3 m max_{l in C} n_l`` (``c`` and its signed roots); for the
        recursion the largest over layers ``l > c`` of ``(n_{l-1} + 2 n_l)
        n_0^2`` (``H_{l-1}``, ``W_l H_{l-1}`` and the
        outer products), at least ``n_c n_0^2``.

    Notes
    -----
    The first layer's ``K_1 = W_1`` (and the recursion's ``G_1``) is shared
    by all samples, not formed; scalings by a vector (one pass over an
    array) are not counted, nor is the forward pass both algorithms start
    from (``sum_l n_l n_{l-1}``, common to both and to any first
    derivative). A network without a curved layer costs 0: its Hessian is 0.
    The tests count the products :func:`hessian` runs (the cost plus that
    forward pass). Chapter 7 derives both formulas.
    """
    chain = as_layers(layers)
    _check_mode(mode, allowed=HESSIAN_MODES[1:])
    n = [chain[0].n_in] + [layer.n_out for layer in chain]
    L, m = len(chain), n[-1]
    curved = [l for l, layer in enumerate(chain, start=1) if _curved(layer)]
    if not curved:
        return Cost(0, 0)
    first, last = curved[0], curved[-1]
    if mode == "adjoint":
        forward = sum(n[l] * n[l - 1] * n[0] for l in range(2, last + 1))
        backward = m * sum(n[l] * n[l - 1] for l in range(first + 1, L))
        sandwich = m * n[0] ** 2 * sum(n[l] for l in curved)
        widest = max(n[l] for l in curved)
        memory = n[0] * sum(n[1 : last + 1]) + 2 * m * n[0] * (widest + n[0])
        memory += 3 * m * widest  # c, sqrt|c| and its signed copy
        return Cost(forward + backward + sandwich, memory)
    jacobians = sum(n[l] * n[l - 1] * n[0] for l in range(2, L + 1))
    carried = sum(n[l] * n[l - 1] * n[0] ** 2 for l in range(first + 1, L + 1))
    outer = sum(n[l] * n[0] ** 2 for l in curved)
    memory = max(
        [n[first] * n[0] ** 2]
        + [(n[l - 1] + 2 * n[l]) * n[0] ** 2 for l in range(first + 1, L + 1)]
    )
    return Cost(jacobians + carried + outer, memory)


def choose_hessian_mode(layers: Dense | Sequence[Dense]) -> str:
    """The Hessian algorithm with fewer multiply-adds; the adjoint form on a tie.

    By :func:`hessian_cost`: ``"adjoint"`` or ``"recursion"``, what
    ``hessian(..., mode="auto")`` runs. The adjoint form wins whenever the
    outputs are few: its sandwich costs ``n_L n_0^2`` per curved unit, the
    recursion carries ``n_0^2`` numbers per unit through every later layer.
    """
    adjoint = hessian_cost(layers, "adjoint").multiply_adds
    recursion = hessian_cost(layers, "recursion").multiply_adds
    return "adjoint" if adjoint <= recursion else "recursion"


def hvp_cost(layers: Dense | Sequence[Dense], mode: str) -> Cost:
    """Multiply-adds and peak memory per sample of a Hessian-vector product.

    Parameters
    ----------
    layers : Dense or sequence of Dense
        The network, with widths ``n_0, n_1, ..., n_L`` and ``m = n_L``.
    mode : {"forward-over-reverse", "forward-over-forward"}
        Pearlmutter's product, as :func:`hvp` runs it, or the tangent of a
        forward-mode Jacobian (the reference it is checked against).

    Returns
    -------
    Cost
        Forward over reverse: ``2 sum_l n_l n_{l-1}`` (the forward pass and
        its tangent) ``+ 2 m sum_{l=1}^{L-1} n_l n_{l-1}`` (the backward pass
        and its tangent; the output layer's step is a scaled copy), memory
        ``4 sum_l n_l + 4 m max_{l < L} n_l`` (slopes and curvature tangents kept,
        and two pairs of cotangents). Forward over forward: ``sum_l n_l n_{l-1}``
        (the tangent) ``+ sum_l n_l n_{l-1} n_0 (1 + 1)`` (``G_l`` and
        ``W_l Jdot_{l-1}``, counted as written, ``J_0 = I`` included), memory
        ``4 max_l n_l n_0`` (``G``, ``J``, ``Jdot`` and its product).

    Notes
    -----
    The forward pass of the network itself is counted in forward over
    reverse (it shares its products with the tangent), not in forward over
    forward (run separately there); the difference is one pass. Chapter 7
    derives both.
    """
    chain = as_layers(layers)
    _check_mode(mode, allowed=HVP_MODES)
    n = [chain[0].n_in] + [layer.n_out for layer in chain]
    L, m = len(chain), n[-1]
    layer_products = [n[l] * n[l - 1] for l in range(1, L + 1)]
    if mode == "forward-over-reverse":
        multiply_adds = 2 * sum(layer_products) + 2 * m * sum(layer_products[:-1])
        return Cost(multiply_adds, 4 * sum(n[1:]) + 4 * m * max(n[:-1]))
    multiply_adds = sum(layer_products) + 2 * n[0] * sum(layer_products)
    return Cost(multiply_adds, 4 * max(n[1:]) * n[0])
