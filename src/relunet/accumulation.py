"""The input Jacobian of a network: a chain of masked products (chapters 2, 4, 6).

For a network of L layers (notation page) the chain rule gives

    J(x) = D_L W_L D_{L-1} W_{L-1} ... D_1 W_1,   D_l = diag(f_l'(z_l)),

a product of matrices that can be evaluated from the input side (forward
accumulation), from the output side (reverse accumulation), or in any other
bracketing. All give the same matrix; their costs differ with the layer
widths (chapter 4). Read from the top: :func:`jacobian`, the masked copy of
one factor, the two accumulations, the best bracketing; then the costs that
choose between them, one cost model that prices exactly what runs.
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
        zs = pre_activations(x2[rows], chain, dtype)
        factors = [
            Factor(W, z, layer.activation, slope_at_zero)
            for W, z, layer in zip(Ws, zs, chain)
        ]
        _chain_product(factors, mode, out=J[rows])
    return J[0] if np.ndim(x) == 1 else J


def pre_activations(x2: np.ndarray, chain: list[Dense], dtype) -> list[np.ndarray]:
    """``z_l`` of every layer for a block; a linear output layer's is not computed.

    The Jacobian needs ``f_L'(z_L)``, which is 1 for a linear output layer
    whatever ``z_L``: its product ``W_L a_{L-1}`` is skipped (8% of the
    multiply-adds for 2 inputs, 4 hidden layers of 256 and 256 outputs).
    """
    if chain[-1].activation != "linear":
        return trace(x2, chain, dtype)
    unused = np.empty((len(x2), chain[-1].n_out), dtype)
    return trace(x2, chain[:-1], dtype) + [unused]


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
    diagonals of ``D_l``. A linear layer's slopes are ones whatever ``z``, so
    its ``z`` may be an array of the right shape that was never computed.
    """

    def __init__(self, W: np.ndarray, z: np.ndarray, activation: str, at_zero: float):
        self.W, self.z, self.activation, self.at_zero = W, z, activation, at_zero

    @cached_property
    def slopes(self) -> np.ndarray:
        return slope_unchecked(self.z, self.activation, self.at_zero)

    def masked_copy(self, out: np.ndarray | None = None) -> np.ndarray:
        """``D_l W_l`` for every sample, shape (block, n_l, n_{l-1})."""
        return masked_copy(self.W, self.z, self.activation, self.at_zero, out)

    def transposed_masked_copy(self) -> np.ndarray:
        """``(D_l W_l)^T`` for every sample, shape (block, n_{l-1}, n_l)."""
        # a contiguous copy of W^T: broadcasting a transposed view is slow
        # (measured 14x for 2 inputs, 256 samples and units)
        return np.ascontiguousarray(self.W.T) * self.slopes[:, np.newaxis, :]


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
    T = factors[0].transposed_masked_copy()  # (D_1 W_1)^T
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


def _matrix_times(W: np.ndarray, P: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``W @ P[s]`` for every sample ``s``: (m, k) @ (block, k, n) -> (block, m, n)."""
    return np.matmul(W, P, out=out)


def _times_product(top: np.ndarray, bottom: np.ndarray, out: np.ndarray) -> None:
    """``top[s] @ bottom[s]`` for every sample ``s``: ``J_top J_bottom``."""
    np.matmul(top, bottom, out=out)


def _best_bracketing_product(factors: list[Factor], out: np.ndarray) -> None:
    """The chain in the order of :func:`best_bracketing`, as its table prices it.

    A sub-chain the table accumulates in a pure order is accumulated as
    above. A *step* extends a product formed first by one more factor: from
    the output side ``(P D_i) W_i``, from the input side ``D_j (W_j P)``. A
    split forms both halves and multiplies them sample by sample, ``J =
    J_top J_bottom``: the chain rule for a composition.
    """
    widths = [factors[0].W.shape[1]] + [factor.W.shape[0] for factor in factors]
    table = _bracketing_table(widths)
    dtype = out.dtype

    def product(i: int, j: int, out: np.ndarray | None = None) -> np.ndarray:
        if out is None:
            out = np.empty((len(factors[0].z), widths[j], widths[i - 1]), dtype)
        how = table[i, j][1]
        if how in ("forward", "reverse"):
            _chain_product(factors[i - 1 : j], how, out)
        elif how == "reverse step":
            top = product(i + 1, j)
            top *= factors[i - 1].slopes[:, np.newaxis, :]
            _times_matrix(top, factors[i - 1].W, out=out)
        elif how == "forward step":
            _matrix_times(factors[j - 1].W, product(i, j - 1), out=out)
            out *= factors[j - 1].slopes[:, :, np.newaxis]
            out += 0.0  # -0.0 of a masked negative entry to +0.0
        else:
            _times_product(product(how + 1, j), product(i, how), out)
        return out

    product(1, len(factors), out)


#: Memory for the partial products of one block of samples (bytes).
BLOCK_BYTES = 2**26


def block_size(
    layers: Dense | Sequence[Dense], mode: str, batch: int, dtype=np.float64
) -> int:
    """How many samples :func:`jacobian` processes at once.

    The partial products of a block (two at a time: a factor and the
    product being formed) must fit in :data:`BLOCK_BYTES` (64 MiB); the
    batch is then split into blocks of equal size. This bounds memory, not time; of
    the benchmark's cases only the hourglass runs in several blocks
    (``bench/README.md``).
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
        or the order ``jacobian(..., mode="optimal")`` runs (see
        :func:`best_bracketing`).

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
    One cost model serves the three orders: the table of
    :func:`best_bracketing` prices a sub-chain accumulated in a pure order by
    these two formulas, and :func:`jacobian` runs exactly the order the table
    prices, so ``mode="optimal"`` costs what this function reports (the
    tests count the multiply-adds of the products it actually runs). Applying
    a mask to a product (one pass over it) is not counted; the forward pass
    is not part of the chain. Chapter 4 derives the two formulas.
    """
    chain = as_layers(layers)
    _check_mode(mode, allowed=("forward", "reverse", "optimal"))
    widths = [chain[0].n_in] + [layer.n_out for layer in chain]
    if mode == "optimal":
        return best_bracketing(chain)[0]
    return _pure_cost(widths, 1, len(chain), mode)


def _pure_cost(widths: list[int], i: int, j: int, order: str) -> int:
    """Multiply-adds of ``F_j ... F_i`` accumulated in a pure ``order``."""
    n = widths
    if order == "forward":
        return n[i] * n[i - 1] + sum(
            n[l] * n[l - 1] * n[i - 1] for l in range(i + 1, j + 1)
        )
    return n[j] * n[j - 1] + sum(n[j] * n[l] * n[l - 1] for l in range(i, j))


def best_bracketing(layers: Dense | Sequence[Dense]) -> tuple[int, str]:
    """The cheapest order of the products in ``D_L W_L ... D_1 W_1``.

    Parameters
    ----------
    layers : Dense or sequence of Dense
        The network, with widths ``n_0, n_1, ..., n_L``.

    Returns
    -------
    cost : int
        Multiply-adds per sample of the order ``jacobian(...,
        mode="optimal")`` runs, counted as :func:`jacobian_cost` counts the
        pure orders: ``a k b`` for a product of an ``a x k`` and a ``k x b``
        matrix, plus ``a b`` for each factor written as a masked copy (the
        first factor of a pure order, a single factor on both sides of a
        split never: a single factor next to a formed product is applied to
        it, mask and weights, as in the pure orders).
    order : str
        The bracketing, factors named ``F1 ... FL`` (``F_l = D_l W_l``), for
        example ``"(F4 F3) (F2 F1)"``; a pure order reads as its nesting,
        ``"(F3 F2) F1"`` for reverse accumulation of three factors.

    Notes
    -----
    The classic matrix-chain problem, solved by dynamic programming over
    sub-chains in ``O(L^3)``. Forward and reverse accumulation are two of
    its candidates, so the result is never above either; for an hourglass
    network (wide, narrow, wide) the best is neither (chapter 4).
    """
    chain = as_layers(layers)
    table = _bracketing_table([chain[0].n_in] + [layer.n_out for layer in chain])

    def text(i: int, j: int, order: str | None = None) -> str:
        if i == j:
            return f"F{i}"
        how = order or table[i, j][1]
        k = {"forward": j - 1, "forward step": j - 1}.get(how, how)
        k = i if k in ("reverse", "reverse step") else k
        inner = how if how in ("forward", "reverse") else None
        left = text(k + 1, j, inner) if k + 1 == j else f"({text(k + 1, j, inner)})"
        right = text(i, k, inner) if k == i else f"({text(i, k, inner)})"
        return f"{left} {right}"

    return table[1, len(chain)][0], text(1, len(chain))


def _bracketing_table(
    widths: list[int],
) -> dict[tuple[int, int], tuple[int, str | int]]:
    """``(cost, how)`` of the cheapest product ``F_j ... F_i``, ``1 <= i <= j <= L``.

    ``how`` says how :func:`jacobian` forms it: ``"reverse"`` or ``"forward"``,
    the sub-chain accumulated in that pure order; ``"reverse step"``,
    ``F_j ... F_{i+1}`` formed first, then times ``D_i W_i`` without copying
    it; ``"forward step"``, ``D_j W_j`` times ``F_{j-1} ... F_i``; or ``k``,
    a split ``(F_j ... F_{k+1}) (F_k ... F_i)``, both halves formed. On a tie
    the earlier of these.
    """
    n = widths
    table: dict[tuple[int, int], tuple[int, str | int]] = {}
    for span in range(1, len(n)):
        for i in range(1, len(n) - span + 1):
            j = i + span - 1
            options: list[tuple[int, str | int]] = [
                (_pure_cost(n, i, j, order), order) for order in ("reverse", "forward")
            ]
            if span > 2:
                product = n[j] * n[i] * n[i - 1]
                options.append((table[i + 1, j][0] + product, "reverse step"))
                product = n[j] * n[j - 1] * n[i - 1]
                options.append((table[i, j - 1][0] + product, "forward step"))
            for k in range(i + 1, j - 1):  # a single factor is a step, not a split
                cost = table[k + 1, j][0] + table[i, k][0] + n[j] * n[k] * n[i - 1]
                options.append((cost, k))
            table[i, j] = min(options, key=lambda option: option[0])
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
