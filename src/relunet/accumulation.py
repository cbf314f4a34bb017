"""The input Jacobian of a network: a chain of masked products (chapters 2, 4, 6).

For a network of L layers (notation page) the chain rule gives

    J(x) = D_L W_L D_{L-1} W_{L-1} ... D_1 W_1,   D_l = diag(f_l'(z_l)),

a product of matrices that can be evaluated from the input side (forward
accumulation), from the output side (reverse accumulation), or in any other
bracketing. All give the same matrix; their costs differ with the layer
widths (chapter 4). Read from the top: :func:`jacobian`, the masked copy of
one factor, the two accumulations, the best bracketing; then the costs that
choose between them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_at_zero
from relunet.activations import slope_unchecked
from relunet.layers import Dense, as_layers
from relunet.network import prepare, trace, weights

#: The accumulation orders :func:`jacobian` accepts.
MODES = ("auto", "forward", "reverse", "optimal")


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
    mode : {"auto", "forward", "reverse", "optimal"}, default "auto"
        The order in which the chain of matrices is multiplied: from the
        input side, from the output side, the cheaper of the two for these
        layer widths (``"auto"``, see :func:`choose_mode`), or the cheapest
        bracketing of the chain (``"optimal"``, see :func:`best_bracketing`).

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
    the subject of chapter 6. ``D_l`` is never formed: multiplying by it
    scales the rows (or columns) of a product by the slopes ``f_l'(z_l)``.
    Inactive units give entries of exactly +0.0, as in TensorFlow. A large
    batch is processed in blocks (:func:`block_size`), which bounds the
    memory the partial products take beyond the output.
    """
    slope_at_zero = as_at_zero(at_zero)
    _check_mode(mode, allowed=MODES)
    x2, chain, dtype = prepare(x, layers)
    Ws = [W for W, _ in weights(chain, dtype)]
    if len(chain) == 1:  # J = D_1 W_1: no products at all
        z = trace(x2, chain, dtype)[0]
        J = masked_copy(Ws[0], z, chain[0].activation, slope_at_zero)
        return J[0] if np.ndim(x) == 1 else J
    if mode == "auto":
        mode = choose_mode(chain)
    batch = x2.shape[0]
    J = np.empty((batch, chain[-1].n_out, chain[0].n_in), dtype)
    step = block_size(chain, mode, batch, dtype)
    for start in range(0, batch, step):
        rows = slice(start, start + step)
        zs = trace(x2[rows], chain, dtype)
        factors = [
            Factor(W, z, layer.activation, slope_at_zero)
            for W, z, layer in zip(Ws, zs, chain)
        ]
        _chain_product(factors, mode, out=J[rows])
    return J[0] if np.ndim(x) == 1 else J


def masked_copy(
    W: np.ndarray, z: np.ndarray, activation: str, at_zero: float, out=None
) -> np.ndarray:
    """``D W`` for every sample: shape (block, n_out, n_in) from z of (block, n_out).

    Row ``j`` of ``D W`` is row ``j`` of ``W`` times ``f'(z_j)``. For ReLU
    that is the row itself, the zero row, or ``at_zero`` times the row, so
    the rows are copied from a table instead of multiplied: exact +0.0 for
    inactive units, and faster than multiplying by the mask (measured 3.6x
    for 256 samples of a 64 x 64 layer, 1.2x for 1024 of a 256 x 256 one).
    """
    if activation != "relu":
        slopes = slope_unchecked(z, activation, at_zero)
        return np.multiply(slopes[:, :, np.newaxis], W, out=out)
    n_out, unit = W.shape[0], np.arange(W.shape[0])
    table = [W, np.zeros((1, W.shape[1]), W.dtype)]
    index = np.where(z > 0, unit, n_out)  # row j of W, or the zero row
    if at_zero != 0.0:
        table.append(at_zero * W)
        index = np.where(z == 0, n_out + 1 + unit, index)  # row j of at_zero W
    # mode="clip": the default "raise" copies through a buffer
    return np.take(np.concatenate(table), index, axis=0, out=out, mode="clip")


class Factor:
    """One factor ``D_l W_l`` of the chain, for every sample of a block.

    ``W`` of shape (n_l, n_{l-1}), the pre-activations ``z`` of shape
    (block, n_l), the activation and ReLU'(0); ``slopes`` are ``f'(z)``, the
    diagonals of ``D_l``.
    """

    def __init__(self, W: np.ndarray, z: np.ndarray, activation: str, at_zero: float):
        self.W, self.z, self.activation, self.at_zero = W, z, activation, at_zero

    @cached_property
    def slopes(self) -> np.ndarray:
        return slope_unchecked(self.z, self.activation, self.at_zero)

    def masked_copy(self, out: np.ndarray | None = None) -> np.ndarray:
        """``D_l W_l`` for every sample, shape (block, n_l, n_{l-1})."""
        return masked_copy(self.W, self.z, self.activation, self.at_zero, out)


def _chain_product(factors: list[Factor], mode: str, out: np.ndarray) -> None:
    """``F_L ... F_1`` in the order ``mode`` names, into ``out`` (block, n_L, n_0)."""
    if len(factors) == 1:
        factors[0].masked_copy(out=out)
    elif mode == "forward":
        _forward_accumulation(factors, out)
    elif mode == "reverse":
        _reverse_accumulation(factors, out)
    else:
        _best_bracketing_product(factors, out)


def _forward_accumulation(factors: list[Factor], out: np.ndarray) -> None:
    """``D_L W_L (... (D_2 W_2 (D_1 W_1)))``, from the input side.

    Kept transposed, ``T = P^T`` of shape (block, n_0, n_l): row ``i`` of a
    sample is the tangent ``d a_l / d x_i``. Each step is ``T <- (T W_l^T)
    D_l``, the reverse step below on the transposed chain.
    """
    first = factors[0]
    # a contiguous copy of W_1^T: broadcasting a transposed view is slow
    # (measured 14x for 2 inputs, 256 samples and units)
    T = np.ascontiguousarray(first.W.T) * first.slopes[:, np.newaxis, :]  # (D_1 W_1)^T
    for factor in factors[1:]:
        T = _times_matrix(T, factor.W.T)
        T *= factor.slopes[:, np.newaxis, :]
    # + 0.0 turns the -0.0 of a masked negative entry into +0.0 while copying
    np.add(T.transpose(0, 2, 1), 0.0, out=out)


def _reverse_accumulation(factors: list[Factor], out: np.ndarray) -> None:
    """``(((D_L W_L) D_{L-1}) W_{L-1}) ... W_1``, from the output side.

    ``R`` of shape (block, n_L, n_l): row ``j`` of a sample is the cotangent
    ``d NN_j / d a_l``. Each step is ``R <- (R D_l) W_l``.
    """
    R = factors[-1].masked_copy()
    for factor in factors[-2::-1]:
        R *= factor.slopes[:, np.newaxis, :]
        R = _times_matrix(R, factor.W, out=out if factor is factors[0] else None)


def _times_matrix(P: np.ndarray, W: np.ndarray, out=None) -> np.ndarray:
    """``P[s] @ W`` for every sample ``s``: (block, m, k) @ (k, n) -> (block, m, n).

    One matrix product of shape (block * m, k) @ (k, n): NumPy's stacked
    matmul would call BLAS once per sample, a matrix-vector product when
    m = 1 (measured 1.9x slower for 256 samples of the 64-256-256-256-256-1
    network, 1.2x with 64 outputs).
    """
    block, m, k = P.shape
    result = np.empty((block, m, W.shape[1]), P.dtype) if out is None else out
    np.matmul(P.reshape(block * m, k), W, out=result.reshape(block * m, W.shape[1]))
    return result


def _best_bracketing_product(factors: list[Factor], out: np.ndarray) -> None:
    """The chain in the order of :func:`best_bracketing`.

    A sub-chain whose best bracketing is a pure order is accumulated as
    above; elsewhere the two halves of the split are multiplied sample by
    sample, ``J = J_top J_bottom``: the chain rule for a composition.
    """
    widths = [factors[0].W.shape[1]] + [factor.W.shape[0] for factor in factors]
    table = _bracketing_table(widths)
    dtype = out.dtype

    def product(i: int, j: int, out: np.ndarray | None = None) -> np.ndarray:
        if out is None:
            out = np.empty((len(factors[0].z), widths[j], widths[i - 1]), dtype)
        order = pure_order(table, widths, i, j)
        if order is None:
            k = table[i, j][1]
            np.matmul(product(k + 1, j), product(i, k), out=out)
        else:
            _chain_product(factors[i - 1 : j], order, out)
        return out

    product(1, len(factors), out)


def pure_order(table: dict, widths: list[int], i: int, j: int) -> str | None:
    """``"forward"`` or ``"reverse"`` if the best bracketing of ``F_j ... F_i``
    (in :func:`_bracketing_table`'s ``table``) is that pure order, else None.

    Two factors are both: the order that starts from the smaller factor
    (the one copied with its mask), reverse on a tie, as the table counts it.
    """
    forward = all(table[i, m][1] == m - 1 for m in range(i + 1, j + 1))
    reverse = all(table[m, j][1] == m for m in range(i, j))
    if forward and reverse:
        return "forward" if widths[i - 1] < widths[j] else "reverse"
    return "forward" if forward else "reverse" if reverse else None


#: Memory for the partial products of one block of samples (bytes).
BLOCK_BYTES = 2**26


def block_size(
    layers: Dense | Sequence[Dense], mode: str, batch: int, dtype=np.float64
) -> int:
    """How many samples :func:`jacobian` processes at once.

    The partial products of a block (two at a time: a factor and the
    product being formed) must fit in :data:`BLOCK_BYTES` (64 MiB); the
    batch is then split into blocks of equal size. This bounds memory, not
    time: one block per call is as fast as any (chapter 6).
    """
    chain = as_layers(layers)
    widths = [chain[0].n_in] + [layer.n_out for layer in chain]
    side = {"forward": widths[0], "reverse": widths[-1]}.get(mode, max(widths))
    partial = 2 * max(widths) * side  # two partial products of n_l x n_0 (or n_L)
    per_sample = (partial + 2 * sum(widths[1:])) * np.dtype(dtype).itemsize
    largest = max(1, min(batch, BLOCK_BYTES // per_sample))
    blocks = -(-batch // largest) if batch else 1
    return max(1, -(-batch // blocks))  # equal blocks: no small remainder block


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
    is neither (chapter 4). ``jacobian(..., mode="optimal")`` evaluates it.
    """
    chain = as_layers(layers)
    table = _bracketing_table([chain[0].n_in] + [layer.n_out for layer in chain])

    def text(i: int, j: int) -> str:
        if i == j:
            return f"F{i}"
        k = table[i, j][1]
        left = text(k + 1, j) if k + 1 == j else f"({text(k + 1, j)})"
        right = text(i, k) if k == i else f"({text(i, k)})"
        return f"{left} {right}"

    return table[1, len(chain)][0], text(1, len(chain))


def _bracketing_table(widths: list[int]) -> dict[tuple[int, int], tuple[int, int]]:
    """``(cost, k)`` of the cheapest product ``F_j ... F_i`` for ``1 <= i <= j <= L``.

    The product splits as ``(F_j ... F_{k+1}) (F_k ... F_i)``; ``k`` is 0
    for a single factor.
    """
    L = len(widths) - 1
    table = {
        (l, l): (0 if L > 1 else widths[l] * widths[l - 1], 0) for l in range(1, L + 1)
    }
    for span in range(2, L + 1):
        for i in range(1, L - span + 2):
            j = i + span - 1
            options = []
            for k in range(i, j):
                cost = table[k + 1, j][0] + table[i, k][0]
                cost += widths[j] * widths[k] * widths[i - 1]
                if span == 2:  # two single factors: one is written as a masked copy
                    cost += min(widths[j] * widths[k], widths[k] * widths[i - 1])
                options.append((cost, k))
            table[i, j] = min(options)
    return table


def choose_mode(layers: Dense | Sequence[Dense]) -> str:
    """The cheaper pure accumulation order by :func:`jacobian_cost`; reverse on a tie.

    Only ``"forward"`` or ``"reverse"``: ``mode="auto"`` of :func:`jacobian`
    uses it. ``jacobian_cost(layers, "optimal")`` tells how much the best
    bracketing (``mode="optimal"``) would save.
    """
    forward_cost = jacobian_cost(layers, "forward")
    return "forward" if forward_cost < jacobian_cost(layers, "reverse") else "reverse"


def _check_mode(mode, allowed) -> None:
    if not isinstance(mode, str):
        raise TypeError(
            f"mode must be one of {allowed}, got {type(mode).__name__} {mode!r}"
        )
    if mode not in allowed:
        raise ValueError(f"mode must be one of {allowed}, got {mode!r}")
