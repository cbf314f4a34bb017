"""Linear regions of a ReLU network: counting them, and bounds (chapter 5).

On the set of inputs that share one activation pattern a ReLU network is
affine, and that set is a convex polytope (its pattern fixes the sign of
every pre-activation, and each sign is a half-space condition once the
earlier layers' patterns are fixed). These sets are the network's
*activation regions*, often called linear regions; distinct patterns are
distinct activation regions, but two of them can carry the same affine map
(for example every pattern whose last hidden layer is off gives J = 0), so
the maximal pieces on which the network is affine can be fewer (chapter 5).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from functools import cache

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_float_array, check_ndim
from relunet.layers import Dense, as_layers
from relunet.network import activation_pattern, prepare, trace, weights


def label_patterns(patterns: ArrayLike) -> tuple[np.ndarray, int]:
    """Number the distinct activation patterns in a batch.

    Parameters
    ----------
    patterns : array_like of bool, shape (batch, n_relu)
        One pattern per row, as from :func:`relunet.activation_pattern`.

    Returns
    -------
    labels : ndarray of int, shape (batch,)
        Rows with equal patterns get equal labels, ``0 .. count - 1``.
    count : int
        The number of distinct patterns.
    """
    patterns = np.asarray(patterns)
    if patterns.dtype != bool:
        raise TypeError(f"patterns must be a boolean array, got dtype {patterns.dtype}")
    check_ndim(patterns, "patterns", (2,), "(batch, n_relu)")
    labels = _label_rows(np.packbits(patterns, axis=1))
    return labels, int(labels.max()) + 1 if labels.size else 0


def _label_rows(packed: np.ndarray) -> np.ndarray:
    """Labels of the distinct rows of a (batch, n_bytes) uint8 array, numbered
    in the rows' lexicographic order, shape (batch,).

    Rows of at most 8 bytes are read as one big-endian 64-bit integer each
    (padded with zero bytes on the right), whose order is the rows'
    lexicographic order: the same labels as ``np.unique(packed, axis=0)``,
    ten times faster on millions of rows (tested).
    """
    if packed.shape[1] > 8:
        _, labels = np.unique(packed, axis=0, return_inverse=True)
        return labels.reshape(-1)
    padded = np.zeros((packed.shape[0], 8), np.uint8)
    padded[:, : packed.shape[1]] = packed
    _, labels = np.unique(padded.view(">u8")[:, 0], return_inverse=True)
    return labels.reshape(-1)


def grid_regions(
    layers: Dense | Sequence[Dense],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    resolution: int,
) -> tuple[np.ndarray, int]:
    """Label the linear regions met on a square grid over a 2-D input box.

    Parameters
    ----------
    layers : Dense or sequence of Dense
        A network with ``n_in = 2``.
    xlim, ylim : (float, float)
        The box ``[xlim[0], xlim[1]] x [ylim[0], ylim[1]]``.
    resolution : int
        Grid points per side (at least 2).

    Returns
    -------
    labels : ndarray of int, shape (resolution, resolution)
        ``labels[r, c]`` is the region of the point with ``x_1`` the c-th
        value of ``linspace(*xlim, resolution)`` and ``x_2`` the r-th of
        ``linspace(*ylim, resolution)``.
    count : int
        Distinct regions met. A lower bound on the regions in the box: a
        region thinner than the grid spacing can fall between the points.
    """
    chain = _piecewise_linear(layers)
    if chain[0].n_in != 2:
        raise ValueError(
            f"grid_regions needs a network with n_in = 2, got n_in = {chain[0].n_in}"
        )
    if (
        isinstance(resolution, bool)
        or not isinstance(resolution, (int, np.integer))
        or resolution < 2
    ):
        raise ValueError(f"resolution must be an integer >= 2, got {resolution!r}")
    xs = np.linspace(*_interval(xlim, "xlim"), resolution)
    ys = np.linspace(*_interval(ylim, "ylim"), resolution)
    # Row by row in blocks, keeping only the packed patterns: memory grows with
    # the grid, not with the grid times the number of units.
    rows_per_block = max(1, 2**18 // resolution)
    packed = []
    for start in range(0, resolution, rows_per_block):
        grid_x, grid_y = np.meshgrid(xs, ys[start : start + rows_per_block])
        points = np.column_stack([grid_x.ravel(), grid_y.ravel()])
        packed.append(np.packbits(activation_pattern(points, chain), axis=1))
    labels = _label_rows(np.concatenate(packed)).reshape(resolution, resolution)
    return labels, int(labels.max()) + 1


def breakpoints_on_segment(
    layers: Dense | Sequence[Dense],
    start: ArrayLike,
    end: ArrayLike,
    max_pieces: int = 1_000_000,
) -> np.ndarray:
    """Where the segment from ``start`` to ``end`` crosses region boundaries.

    Parameters
    ----------
    layers : Dense or sequence of Dense
        The network.
    start, end : array_like, shape (n_in,)
        The segment ``x(t) = start + t (end - start)``, ``0 <= t <= 1``.
    max_pieces : int, default 1_000_000
        Stop with ``RuntimeError`` past this many pieces.

    Returns
    -------
    ndarray, shape (n_breaks,)
        The increasing values of ``t`` in (0, 1) at which the activation
        pattern changes; the segment meets ``n_breaks + 1`` linear pieces.

    Notes
    -----
    Exact, not sampled. Inside a piece every pre-activation is affine in
    ``t``, ``z(t) = z(t_0) + (t - t_0) dz/dt``, with ``dz/dt`` the
    Jacobian-vector product along ``end - start`` for the current pattern;
    the next breakpoint is the first ``t`` where one of them reaches 0. The
    walk then restarts just past it (``1e-12`` in ``t``), so breakpoints
    closer together than that are counted once.
    """
    chain = _piecewise_linear(layers)
    p0 = as_float_array(start, "start").astype(np.float64)
    p1 = as_float_array(end, "end").astype(np.float64)
    for name, point in (("start", p0), ("end", p1)):
        if point.shape != (chain[0].n_in,):
            raise ValueError(
                f"{name} must have shape ({chain[0].n_in},), got shape {point.shape}"
            )
    direction = p1 - p0
    Ws = [W for W, _ in weights(chain, np.float64)]
    nudge = 1e-12
    breaks: list[float] = []
    t = 0.0
    while True:
        x2, _, _ = prepare(p0 + t * direction, chain)
        zs = trace(x2, chain, np.float64)
        tangent = direction
        t_next = 1.0
        for W, z, layer in zip(Ws, zs, chain):
            slope = W @ tangent
            if layer.activation == "relu":
                z = z[0]
                moving = slope != 0
                crossing = t - z[moving] / slope[moving]
                ahead = crossing[crossing > t]
                if ahead.size:
                    t_next = min(t_next, float(ahead.min()))
                # The piece's pattern: a unit exactly at 0 (the start point may
                # sit on a boundary) is active in the piece if it is rising.
                tangent = np.where((z > 0) | ((z == 0) & (slope > 0)), slope, 0.0)
            else:
                tangent = slope
        if t_next >= 1.0:
            return np.array(breaks)
        breaks.append(t_next)
        if len(breaks) >= max_pieces:
            raise RuntimeError(f"more than {max_pieces} pieces on the segment")
        t = t_next + nudge


def hyperplane_region_count(W: ArrayLike, b: ArrayLike, tol: float = 1e-9) -> int:
    """Exact number of regions of one layer's hyperplanes ``W_j x + b_j = 0``.

    Parameters
    ----------
    W : array_like, shape (n_units, n_in)
    b : array_like, shape (n_units,)
        One hyperplane per unit, the boundaries of the layer's linear regions.
    tol : float, default 1e-9
        Hyperplanes (and intersection points) closer than this are the same:
        two hyperplanes are one when their unit normals and offsets agree to
        ``tol`` in every coordinate, up to a common sign. A finite number
        ``>= 0``.

    Returns
    -------
    int
        The number of connected regions of ``R^{n_in}`` minus the
        hyperplanes, for any arrangement, in general position or not.

    Notes
    -----
    Deletion-restriction: adding hyperplane ``H`` to an arrangement ``A``
    adds as many regions as ``H`` itself is cut into by ``A``, so
    ``r(H_1..H_m) = 1 + sum_k r((H_1..H_{k-1}) restricted to H_k)``, a
    recursion on the dimension that ends with points on a line. In general
    position it equals :func:`one_layer_region_count`; parallel or
    concurrent hyperplanes give fewer regions.
    """
    W = as_float_array(W, "W")
    b = as_float_array(b, "b")
    check_ndim(W, "W", (2,), "(n_units, n_in)")
    if b.shape != (W.shape[0],):
        raise ValueError(
            f"b must have shape ({W.shape[0]},) to match W of shape {W.shape}, got "
            f"shape {b.shape}"
        )
    if isinstance(tol, np.ndarray) and tol.ndim == 0 and tol.dtype.kind in "iuf":
        tol = tol.item()
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, numbers.Real):
        raise TypeError(
            f"tol must be a real number >= 0, got {type(tol).__name__} {tol!r}"
        )
    if not (math.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    return _arrangement_regions(W.astype(np.float64), b.astype(np.float64), float(tol))


def _arrangement_regions(W: np.ndarray, b: np.ndarray, tol: float) -> int:
    norms = np.linalg.norm(W, axis=1)
    keep = norms > tol  # a "hyperplane" with zero normal cuts nothing
    W, b = W[keep] / norms[keep, None], b[keep] / norms[keep]
    W, b = _deduplicate(W, b, tol)
    if len(W) == 0:
        return 1
    if W.shape[1] == 1:
        return len(W) + 1  # distinct points on a line
    regions = 1
    for k in range(len(W)):
        point = -b[k] * W[k]
        basis = np.linalg.svd(W[k][None, :])[2][
            1:
        ].T  # orthonormal basis of the hyperplane
        regions += _arrangement_regions(W[:k] @ basis, W[:k] @ point + b[:k], tol)
    return regions


def _deduplicate(
    W: np.ndarray, b: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """Drop repeated hyperplanes, given unit normals.

    ``(W_k, b_k)`` and ``(-W_k, -b_k)`` are the same hyperplane, so each row
    is compared with the kept ones under both signs; no sign is chosen from
    one coordinate, which would split two nearly equal rows whose first
    sizeable coordinate sits on either side of ``tol``.
    """
    rows = np.column_stack([W, b])
    unique: list[int] = []
    for k in range(len(rows)):
        if not any(
            min(np.max(np.abs(rows[k] - rows[j])), np.max(np.abs(rows[k] + rows[j])))
            <= tol
            for j in unique
        ):
            unique.append(k)
    return W[unique], b[unique]


def one_layer_region_count(n_in: int, n_units: int) -> int:
    """Regions of one ReLU layer in general position: ``sum_{j <= n_in} C(n_units, j)``.

    ``n_units`` hyperplanes in general position cut ``R^{n_in}`` into this
    many regions (Zaslavsky's theorem; Montúfar et al. 2014, Proposition 2).
    """
    n_in, n_units = _positive(n_in, "n_in"), _positive(n_units, "n_units")
    return sum(math.comb(n_units, j) for j in range(n_in + 1))


def montufar_lower_bound(widths: Sequence[int]) -> int:
    """A number of regions some network of these widths reaches (Montúfar et al. 2014).

    Parameters
    ----------
    widths : sequence of int
        ``(n_0, n_1, ..., n_L)``: the input size and the widths of the L ReLU
        layers, each ``n_l >= n_0``.

    Returns
    -------
    int
        ``(prod_{l=1}^{L-1} floor(n_l / n_0))^{n_0} * sum_{j=0}^{n_0} C(n_L, j)``.
    """
    widths = [_positive(n, "widths") for n in widths]
    n_0, hidden = widths[0], widths[1:]
    if not hidden or min(hidden) < n_0:
        raise ValueError(
            "widths must be (n_0, n_1, ..., n_L) with L >= 1 and every n_l >= n_0, "
            f"got {widths}"
        )
    folds = math.prod(n // n_0 for n in hidden[:-1]) ** n_0
    return folds * one_layer_region_count(n_0, hidden[-1])


def serra_upper_bound(widths: Sequence[int]) -> int:
    """An upper bound on the regions of any network of these widths (Serra et al. 2018).

    Parameters
    ----------
    widths : sequence of int
        ``(n_0, n_1, ..., n_L)``: the input size and the widths of the L ReLU
        layers.

    Returns
    -------
    int
        ``sum over (j_1, ..., j_L) of prod_l C(n_l, j_l)``, where
        ``0 <= j_l <= min(n_0, n_1 - j_1, ..., n_{l-1} - j_{l-1}, n_l)``.
        For one layer this is :func:`one_layer_region_count`.

    Notes
    -----
    An upper bound, not always attained. For ``n_0 = 1`` Serra et al.'s lower
    bound, which assumes every ``n_l >= 3 n_0``, meets it, so it is the exact
    maximum there; with narrower layers it need not be: for widths
    ``(1, 2, 2)`` it is 9, and 20,000 random networks reach at most 7 pieces
    (chapter 5).
    """
    widths = tuple(_positive(n, "widths") for n in widths)
    if len(widths) < 2:
        raise ValueError(
            f"widths must be (n_0, n_1, ..., n_L) with L >= 1, got {list(widths)}"
        )

    @cache
    def remaining(l: int, budget: int) -> int:
        if l == len(widths):
            return 1
        n_l = widths[l]
        return sum(
            math.comb(n_l, j) * remaining(l + 1, min(budget, n_l - j))
            for j in range(min(budget, n_l) + 1)
        )

    return remaining(1, widths[0])


def sawtooth_layers(depth: int) -> list[Dense]:
    """A 1-D network with ``2**depth`` linear pieces on [0, 1]: the sawtooth.

    Each of the ``depth`` ReLU layers has 2 units and computes, with the
    next layer's weights, the tent map ``g(x) = 2 relu(x) - 4 relu(x - 1/2)``
    (``g(x) = 2x`` on [0, 1/2], ``2 - 2x`` on [1/2, 1]); a final linear
    layer returns ``g`` applied ``depth`` times. Each tent map doubles the
    number of pieces, so depth buys exponentially many regions with only
    ``2 * depth`` units (Montúfar et al. 2014; Telgarsky 2016).

    Returns
    -------
    list of Dense
        ``depth`` ReLU layers of 2 units, then a linear layer of 1 unit.
    """
    depth = _positive(depth, "depth")
    tent = np.array([[2.0, -4.0]])
    split = np.array([0.0, -0.5])
    layers = [Dense(np.ones((2, 1)), split)]
    for _ in range(depth - 1):
        layers.append(Dense(np.ones((2, 1)) @ tent, split))
    layers.append(Dense(tent, np.zeros(1), activation="linear"))
    return layers


def _piecewise_linear(layers) -> tuple[Dense, ...]:
    """The layers, if every one is ReLU or linear: regions need a piecewise-linear
    network.
    """
    chain = as_layers(layers)
    for k, layer in enumerate(chain):
        if layer.activation not in ("relu", "linear"):
            raise ValueError(
                f"layers[{k}] has activation {layer.activation!r}; linear regions "
                "exist only "
                "for networks of 'relu' and 'linear' layers"
            )
    return chain


def _interval(limits, name: str) -> tuple[float, float]:
    low, high = (float(v) for v in limits)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(
            f"{name} must be (low, high) with low < high, got {tuple(limits)!r}"
        )
    return low, high


def _positive(n, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must hold positive integers, got {n!r}")
    return int(n)
