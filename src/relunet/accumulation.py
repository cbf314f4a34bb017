"""The input Jacobian of a network, accumulated forward or in reverse.

Chapters 2, 4 and 6.

For a network of L layers (notation page) the chain rule gives

    J(x) = D_L W_L D_{L-1} W_{L-1} ... D_1 W_1,   D_l = diag(f_l'(z_l)),

a product of matrices that can be evaluated from the input side (forward
accumulation) or from the output side (reverse accumulation). Both give the
same matrix; their costs differ with the layer widths (chapter 4).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_at_zero
from relunet._workspace import thread_workspace
from relunet.activations import relu_slope, sigmoid_unchecked
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
    mode : {"forward", "reverse", "optimal"}
        The accumulation order: from the input side, from the output side,
        or the cheapest bracketing of the chain (see :func:`best_bracketing`).

    Returns
    -------
    int
        ``n_1 n_0 + sum_{l=2}^{L} n_l n_{l-1} n_0`` for forward accumulation
        (each step multiplies an ``n_{l-1} x n_0`` partial Jacobian by
        ``W_l``), ``n_L n_{L-1} + sum_{l=1}^{L-1} n_L n_l n_{l-1}`` for
        reverse accumulation. The first term is writing the first factor
        ``D_1 W_1`` (or ``D_L W_L``), a masked copy of its weights. For
        ``"optimal"``, the cost of :func:`best_bracketing`, counted the same
        way; it is never above the other two.

    Notes
    -----
    :func:`jacobian` evaluates the two pure orders only; ``"optimal"``
    measures what a general bracketing could save (chapter 4).
    """
    chain = as_layers(layers)
    _check_mode(mode, allowed=("forward", "reverse", "optimal"))
    widths = [chain[0].n_in] + [layer.n_out for layer in chain]
    n_in, n_out, L = widths[0], widths[-1], len(chain)
    if mode == "optimal":
        return best_bracketing(chain)[0]
    if mode == "forward":
        return widths[1] * n_in + sum(
            widths[l] * widths[l - 1] * n_in for l in range(2, L + 1)
        )
    return n_out * widths[L - 1] + sum(
        n_out * widths[l] * widths[l - 1] for l in range(1, L)
    )


def best_bracketing(layers: Dense | Sequence[Dense]) -> tuple[int, str]:
    """The cheapest order of the products in ``D_L W_L ... D_1 W_1``.

    Parameters
    ----------
    layers : Dense or sequence of Dense
        The network, with widths ``n_0, n_1, ..., n_L``.

    Returns
    -------
    cost : int
        Multiply-adds per sample, counted as :func:`jacobian_cost` counts the
        pure orders: ``a k b`` for a product of an ``a x k`` and a ``k x b``
        factor, plus, where two single factors ``D_l W_l`` meet, a masked
        copy of the smaller one (elsewhere a mask is applied to a product).
    order : str
        The bracketing, factors named ``F1 ... FL`` (``F_l = D_l W_l``), for
        example ``"(F4 F3) (F2 F1)"``.

    Notes
    -----
    The classic matrix-chain problem, solved by dynamic programming over
    sub-chains in ``O(L^3)``. Forward and reverse accumulation are two of
    its bracketings; for an hourglass network (wide, narrow, wide) the best
    is neither (chapter 4).
    """
    chain = as_layers(layers)
    widths = [chain[0].n_in] + [layer.n_out for layer in chain]
    L = len(chain)
    # best[i][j]: cheapest product F_j ... F_i (1 <= i <= j <= L), an n_j x n_{i-1}
    # matrix.
    best: dict[tuple[int, int], tuple[int, str]] = {}
    for l in range(1, L + 1):
        best[l, l] = (0 if L > 1 else widths[l] * widths[l - 1], f"F{l}")
    for span in range(2, L + 1):
        for i in range(1, L - span + 2):
            j = i + span - 1
            options = []
            for k in range(i, j):  # (F_j ... F_{k+1}) (F_k ... F_i)
                left, right = best[k + 1, j], best[i, k]
                cost = left[0] + right[0] + widths[j] * widths[k] * widths[i - 1]
                if span == 2:  # two single factors: one is written as a masked copy
                    cost += min(widths[j] * widths[k], widths[k] * widths[i - 1])
                left_text = left[1] if k + 1 == j else f"({left[1]})"
                right_text = right[1] if k == i else f"({right[1]})"
                options.append((cost, f"{left_text} {right_text}"))
            best[i, j] = min(options, key=lambda option: option[0])
    return best[1, L]


def choose_mode(layers: Dense | Sequence[Dense]) -> str:
    """The cheaper pure accumulation order by :func:`jacobian_cost`; reverse on a tie.

    Only ``"forward"`` and ``"reverse"``, the orders :func:`jacobian`
    evaluates; ``jacobian_cost(layers, "optimal")`` tells how much a general
    bracketing would save.
    """
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
    With ``D_l = diag(f_l'(z_l))`` (the ReLU mask, the sigmoid of ``z_l`` for
    softplus, the identity for a linear layer):

    .. math:: J(x) = D_L W_L D_{L-1} W_{L-1} \\cdots D_1 W_1

    Derived in chapter 2 (one layer) and chapter 4 (any depth); its cost is
    the subject of chapter 6. ``D_l`` is never formed: the rows or columns
    of the partial product that belong to inactive units are cleared, and
    every product with a weight matrix is one large matrix product over a
    block of samples. Blocks are sized so that the working memory beyond
    the output stays small (see :func:`block_size`).
    """
    slope_at_zero = as_at_zero(at_zero)
    _check_mode(mode, allowed=MODES)
    x2, chain, dtype = prepare(x, layers)
    if mode == "auto":
        mode = choose_mode(chain)
    Ws = [W for W, _ in weights(chain, dtype)]
    kinds = [layer.activation for layer in chain]
    batch = x2.shape[0]
    J = np.empty((batch, chain[-1].n_out, chain[0].n_in), dtype)
    step = block_size(chain, mode, batch, dtype)
    workspace = thread_workspace()
    for start in range(0, batch, step):
        rows = slice(start, start + step)
        workspace.reset()
        zs = trace(x2[rows], chain, dtype, workspace)
        if len(chain) == 1:
            _masked_copy(Ws[0], zs[0], kinds[0], slope_at_zero, J[rows], workspace)
        elif mode == "forward":
            _forward_accumulation(Ws, zs, kinds, slope_at_zero, J[rows], workspace)
        else:
            _reverse_accumulation(Ws, zs, kinds, slope_at_zero, J[rows], workspace)
    return J[0] if np.ndim(x) == 1 else J


#: Working memory for one block of samples, beyond the output (bytes).
BLOCK_BYTES = 2**21


def block_size(
    layers: Dense | Sequence[Dense], mode: str, batch: int, dtype=np.float64
) -> int:
    """How many samples :func:`jacobian` processes at once.

    The partial products of a block (two at a time: a factor and the
    product being formed) and its forward pass must fit in
    :data:`BLOCK_BYTES` (2 MiB, about a core's share of cache); the batch
    is then split into blocks of equal size. Larger blocks would not be
    faster: the matrix products are already large (block * n_out or n_l
    rows), and the masks are applied while the block is still in cache.
    The same bound caps the memory :func:`jacobian` needs beyond its output.
    """
    chain = as_layers(layers)
    widths = [chain[0].n_in] + [layer.n_out for layer in chain]
    n_in, n_out, inner = widths[0], widths[-1], max(widths[:-1])
    partial = (
        0
        if len(chain) == 1
        else 2 * (inner * n_in if mode == "forward" else n_out * inner)
    )
    per_sample = (partial + 2 * sum(widths[1:])) * np.dtype(dtype).itemsize
    largest = max(1, min(batch, BLOCK_BYTES // max(per_sample, 1)))
    blocks = -(-batch // largest) if batch else 1
    return max(1, -(-batch // blocks))  # equal blocks: no small remainder block


def _forward_accumulation(Ws, zs, kinds, at_zero, out, workspace) -> None:
    """D_L W_L (... (D_2 W_2 (D_1 W_1))) into ``out``, shape (block, n_L, n_0).

    The partial product is kept as (n_l, block, n_0), so that every step is
    one matrix product ``W_l @ P`` with P of shape (n_{l-1}, block * n_0)."""
    block, n_in = zs[0].shape[0], Ws[0].shape[1]
    P = workspace.empty((Ws[0].shape[0], block, n_in), out.dtype)
    P[...] = Ws[0][:, np.newaxis, :]
    scale_by_slope(
        P, zs[0].T[:, :, np.newaxis], kinds[0], at_zero, workspace, signed_zero_ok=True
    )
    last = len(Ws) - 2
    for k, (W, z, kind) in enumerate(zip(Ws[1:], zs[1:], kinds[1:])):
        product = workspace.empty((W.shape[0], block, n_in), out.dtype)
        np.matmul(
            W,
            P.reshape(W.shape[1], block * n_in),
            out=product.reshape(W.shape[0], block * n_in),
        )
        P = product
        # the last mask gives the output: there, +0.0 exactly
        scale_by_slope(
            P, z.T[:, :, np.newaxis], kind, at_zero, workspace, signed_zero_ok=k < last
        )
    np.copyto(out, P.transpose(1, 0, 2))


def _reverse_accumulation(Ws, zs, kinds, at_zero, out, workspace) -> None:
    """(((D_L W_L) D_{L-1}) W_{L-1}) ... W_1 into ``out``, shape (block, n_L, n_0).

    The partial product is kept as (block, n_L, n_l), so that every step is
    one matrix product ``R @ W_l`` with R of shape (block * n_L, n_l)."""
    block, n_out, L = zs[0].shape[0], Ws[-1].shape[0], len(Ws)
    R = workspace.empty((block,) + Ws[-1].shape, out.dtype)
    _masked_copy(Ws[-1], zs[-1], kinds[-1], at_zero, R, workspace)
    scale_by_slope(
        R, zs[-2][:, np.newaxis, :], kinds[-2], at_zero, workspace, signed_zero_ok=True
    )
    for k in range(L - 2, -1, -1):
        W = Ws[k]
        product = (
            out if k == 0 else workspace.empty((block, n_out, W.shape[1]), out.dtype)
        )
        np.matmul(
            R.reshape(block * n_out, W.shape[0]),
            W,
            out=product.reshape(block * n_out, W.shape[1]),
        )
        R = product
        if k >= 1:
            scale_by_slope(
                R,
                zs[k - 1][:, np.newaxis, :],
                kinds[k - 1],
                at_zero,
                workspace,
                signed_zero_ok=True,
            )


_UNSIGNED = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def scale_by_slope(
    array,
    z,
    activation: str,
    at_zero: float,
    workspace=None,
    signed_zero_ok: bool = False,
) -> None:
    """Multiply ``array`` in place by ``f'(z)``: the ReLU mask, the sigmoid or 1."""
    if activation == "relu":
        zero_inactive(array, z, at_zero, workspace, signed_zero_ok)
    elif activation == "softplus":
        np.multiply(
            array, sigmoid_unchecked(z).astype(array.dtype, copy=False), out=array
        )


def zero_inactive(
    array: np.ndarray,
    z: np.ndarray,
    at_zero: float,
    workspace=None,
    signed_zero_ok: bool = False,
) -> None:
    """Multiply ``array`` in place by ReLU'(z), ``z`` broadcastable to it.

    For the slopes 0 and 1 (``at_zero`` 0 or 1) the entries of inactive
    units are cleared with a bitwise AND instead of multiplied: one pass,
    and an inactive entry becomes +0.0 exactly, as in TensorFlow (0 times a
    negative number would give -0.0). Where the array is only an input to a
    matrix product (``signed_zero_ok``), whose sums turn -0.0 into +0.0, the
    cheaper product with the boolean mask is used instead.
    """
    unsigned = _UNSIGNED.get(array.dtype.itemsize)
    if at_zero in (0.0, 1.0) and signed_zero_ok:
        empty = np.empty if workspace is None else workspace.empty
        keep = empty(z.shape, np.bool_)
        (np.greater if at_zero == 0.0 else np.greater_equal)(z, 0, out=keep)
        np.multiply(array, keep, out=array)
    elif at_zero in (0.0, 1.0) and unsigned is not None:
        bits = _keep_bits(z, at_zero, unsigned, workspace)
        np.bitwise_and(array.view(unsigned), bits, out=array.view(unsigned))
    else:
        np.multiply(
            array, relu_slope(z, at_zero).astype(array.dtype, copy=False), out=array
        )


def _masked_copy(
    W: np.ndarray, z, activation: str, at_zero: float, out: np.ndarray, workspace=None
) -> None:
    """``out[s] = diag(f'(z_s)) W`` for every sample: one pass over ``out``."""
    if activation == "linear":
        out[...] = W
        return
    if activation == "softplus":
        np.multiply(
            W,
            sigmoid_unchecked(z).astype(out.dtype, copy=False)[:, :, np.newaxis],
            out=out,
        )
        return
    unsigned = _UNSIGNED.get(out.dtype.itemsize)
    if at_zero in (0.0, 1.0) and unsigned is not None:
        bits = _keep_bits(z, at_zero, unsigned, workspace)[:, :, np.newaxis]
        np.bitwise_and(W.view(unsigned), bits, out=out.view(unsigned))
    else:
        np.multiply(
            W,
            relu_slope(z, at_zero).astype(out.dtype, copy=False)[:, :, np.newaxis],
            out=out,
        )


def _keep_bits(z: np.ndarray, at_zero: float, unsigned, workspace=None) -> np.ndarray:
    """All bits set where the unit passes its input (slope 1), none where not."""
    empty = np.empty if workspace is None else workspace.empty
    keep = empty(z.shape, np.bool_)
    (np.greater if at_zero == 0.0 else np.greater_equal)(z, 0, out=keep)
    bits = empty(z.shape, unsigned)
    np.negative(keep.view(np.uint8), out=bits, dtype=unsigned)  # 1 -> 0xFF..FF, 0 -> 0
    return bits


def _check_mode(mode, allowed) -> None:
    if not isinstance(mode, str):
        raise TypeError(
            f"mode must be one of {allowed}, got {type(mode).__name__} {mode!r}"
        )
    if mode not in allowed:
        raise ValueError(f"mode must be one of {allowed}, got {mode!r}")
