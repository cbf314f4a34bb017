"""Central finite differences, the book's second oracle (chapter 2)."""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_float_array, check_ndim


def default_step(dtype: np.dtype) -> float:
    """The default step ``eps`` for central differences in ``dtype``.

    Parameters
    ----------
    dtype : numpy dtype
        A floating dtype.

    Returns
    -------
    float
        The cube root of machine epsilon: about 6.1e-6 for float64 and
        4.9e-3 for float32. It balances the truncation error, of order
        ``eps**2``, against the rounding error, of order ``machine_eps / eps``.
    """
    return float(np.cbrt(np.finfo(dtype).eps))


def finite_difference_jacobian(
    f: Callable[[np.ndarray], ArrayLike], x: ArrayLike, eps: float | None = None
) -> np.ndarray:
    """Jacobian of ``f`` at ``x`` by central differences.

    Parameters
    ----------
    f : callable
        Maps an input of shape (n_in,) to an output of shape (n_out,), and a
        batch of shape (batch, n_in) to (batch, n_out), row by row: row ``s``
        of the output may depend on row ``s`` of the input only (as
        :func:`relunet.forward` does).
    x : array_like, shape (n_in,) or (batch, n_in)
        Where to differentiate.
    eps : float, optional
        The step. Default: :func:`default_step` of ``x``'s dtype.

    Returns
    -------
    ndarray, shape (n_out, n_in) or (batch, n_out, n_in)
        Same layout as :func:`relunet.jacobian`.

    Notes
    -----
    .. math::

       J_{ji} \\approx
       \\frac{f_j(x + \\varepsilon e_i) - f_j(x - \\varepsilon e_i)}{2 \\varepsilon}

    The error is of order ``eps**2`` where ``f`` is smooth. At a ReLU kink
    (a pre-activation exactly 0) the quotient is the mean of the slopes on
    either side, 1/2 for a single unit, which is no derivative at all.
    For a batch, column ``i`` is perturbed in every row at once, so ``f`` is
    evaluated ``2 * n_in`` times whatever the batch size.
    """
    x = as_float_array(x, "x")
    check_ndim(x, "x", (1, 2), "(n_in,) or (batch, n_in)")
    if eps is None:
        eps = default_step(x.dtype)
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, numbers.Real):
        raise TypeError(
            f"eps must be a positive real number, got {type(eps).__name__} {eps!r}"
        )
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive finite number, got {eps!r}")
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")

    rows = np.atleast_2d(x)
    expected_ndim = x.ndim
    columns = []
    for i in range(rows.shape[1]):
        step = np.zeros_like(rows)
        step[:, i] = eps
        plus = _evaluate(f, (rows + step).reshape(x.shape), expected_ndim, x.shape)
        minus = _evaluate(f, (rows - step).reshape(x.shape), expected_ndim, x.shape)
        columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=-1)


def _evaluate(
    f, x: np.ndarray, expected_ndim: int, x_shape: tuple[int, ...]
) -> np.ndarray:
    """Call ``f`` and check that its output has the layout the caller expects."""
    y = as_float_array(f(x), "f(x)")
    meaning = (
        "(n_out,)" if expected_ndim == 1 else f"(batch, n_out) = ({x_shape[0]}, n_out)"
    )
    if y.ndim != expected_ndim or (expected_ndim == 2 and y.shape[0] != x_shape[0]):
        raise ValueError(
            f"f must map x of shape {x_shape} to an output of shape {meaning}, "
            f"got shape {y.shape}"
        )
    return y
