"""Differential regression and differential PCA, linear in their parameters.

**Differential regression** (Huge and Savine 2020). A polynomial
``f(x) = phi(x) beta`` in the monomials ``phi`` of total degree at most
``degree`` is fitted to value labels ``y`` and derivative labels ``dy/dx``
together, by minimising over ``beta``

    sum_i (phi(x_i) beta - y_i)^2
        + alpha sum_i sum_j lambda_j^2 (dphi(x_i)/dx_j beta - dydx_ij)^2.

The model is linear in ``beta``, and so is its derivative: each derivative
label is one more row of the design matrix, ``dphi/dx_j`` against
``dydx_j``. The minimiser is the least-squares solution of one stacked
system, the value rows on top of ``sqrt(alpha) lambda_j`` times the
derivative rows of each input ``j``, solved by ``numpy.linalg.lstsq`` (an
orthogonal factorisation: the normal equations would square the condition
number). A sample brings ``1 + n_in`` equations instead of one; pathwise
derivatives, whose conditional means are the derivatives of the conditional
mean of ``y``, add that much information about the same function, and so
cut the variance of the fit. Inputs and labels are standardised
as in :func:`relunet.training.train_twin`: ``x_n = (x - mean_x) / std_x``,
``y_n = (y - mean_y) / std_y``, derivative labels ``dydx * std_x / std_y``,
and ``lambda_j = 1 / RMS`` of the j-th normalised derivative column, so that
with ``alpha = 1`` each derivative label weighs as much as its value label.

**Differential PCA** (Savine and Huge 2021, "Axes that matter: PCA with a
difference", Risk). Classic PCA keeps the axes along which ``x`` varies most,
whether or not ``y`` depends on them. For a unit vector ``u`` the derivative
of ``y`` along ``u`` is ``dydx u``, and its mean square over the samples is
``u^T M u`` with ``M = dydx^T dydx / n``, the second moment of the
derivative labels. The eigenvectors of ``M``, by decreasing eigenvalue, are
the axes along which ``y`` changes most; an axis with eigenvalue 0 is one on
which ``y`` does not depend at all, however much ``x`` varies along it. The
share of the trace of ``M`` an axis explains is its relevance.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_float_array, as_integer, as_real, check_ndim

__all__ = ["PCA", "DifferentialPCA", "DifferentialRegression"]


def _matrix(value, name: str, n_in=None, n=None, columns="n_in", match="x"):
    """``value`` as a float64 array of shape (n, n_in), with a clear error.

    ``n_in`` and ``n``, when given, are the sizes it must have to match
    ``match`` (the fitted model, or x); ``columns`` names the second size.
    """
    array = as_float_array(value, name).astype(np.float64)
    check_ndim(array, name, (2,), f"(n, {columns})")
    if (n is not None and array.shape[0] != n) or (
        n_in is not None and array.shape[1] != n_in
    ):
        expected = f"({'n' if n is None else n}, {n_in})"
        raise ValueError(
            f"{name} must have shape (n, {columns}) = {expected} to match {match}, "
            f"got {array.shape}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(
            f"{name} must hold at least one sample (row) and one column, got "
            f"shape {array.shape}"
        )
    return array


def _check_fitted(model, attribute: str) -> None:
    if getattr(model, attribute, None) is None:
        raise RuntimeError(
            f"this {type(model).__name__} is not fitted yet: call fit first"
        )


def _monomial_powers(n_in: int, degree: int) -> np.ndarray:
    """Exponents of the monomials of total degree <= ``degree`` in ``n_in`` inputs.

    Returns an int array of shape (comb(n_in + degree, degree), n_in), one
    row per monomial, by increasing total degree: the constant comes first.
    """
    rows = [
        np.bincount(np.asarray(combo, dtype=int), minlength=n_in)
        for d in range(degree + 1)
        for combo in itertools.combinations_with_replacement(range(n_in), d)
    ]
    return np.array(rows, dtype=int).reshape(-1, n_in)


def _features(x_n: np.ndarray, powers: np.ndarray, derivatives: bool = False):
    """``phi``, shape (n, F), and optionally ``dphi/dx_j``, shape (n_in, n, F).

    From tables of ``x^e`` and of its exact derivative ``e x^(e-1)`` (0 for
    e = 0), so no power is negative and x = 0 needs no special case.
    """
    top = int(powers.max(initial=0))
    e = np.arange(top + 1)
    table = x_n[:, :, None] ** e  # (n, n_in, top + 1); 0.0**0 = 1
    slope = np.zeros_like(table)
    slope[:, :, 1:] = e[1:] * table[:, :, :-1]
    n_in = x_n.shape[1]
    factors = np.stack([table[:, k, powers[:, k]] for k in range(n_in)])  # (n_in, n, F)
    phi = np.prod(factors, axis=0)
    if not derivatives:
        return phi
    # d phi / dx_j = slope_j times the product of the other inputs' factors: the
    # products before j times those after j, each a running product (O(n_in) passes).
    before, after = np.ones_like(factors), np.ones_like(factors)
    np.cumprod(factors[:-1], axis=0, out=before[1:])
    np.cumprod(factors[:0:-1], axis=0, out=after[-2::-1])
    slopes = np.stack([slope[:, j, powers[:, j]] for j in range(n_in)])
    dphi = slopes * before * after
    return phi, dphi


class DifferentialRegression:
    """Polynomial regression on values and, optionally, input derivatives.

    Parameters
    ----------
    degree : int >= 0, default 5
        Largest total degree of the monomials, the constant included:
        ``comb(n_in + degree, degree)`` features.
    alpha : float >= 0, default 1.0
        Weight of the derivative labels; 0, or ``fit`` without ``dydx``,
        gives classic polynomial least squares.

    Attributes
    ----------
    coef_ : ndarray, shape (n_features,)
        Coefficients of the monomials of the standardised inputs, for the
        standardised value.
    powers_ : ndarray of int, shape (n_features, n_in)
        Exponents of the monomials, one row per feature.
    x_mean_, x_std_ : ndarray, shape (n_in,)
    y_mean_, y_std_ : float
        The standardisation (see the module docstring).
    lambda_ : ndarray, shape (n_in,), or None
        The derivative weights ``lambda_j``; None when the derivative labels
        were not used.

    Notes
    -----
    ``predict`` and ``gradient`` before ``fit`` raise ``RuntimeError``.
    """

    def __init__(self, degree: int = 5, alpha: float = 1.0):
        self.degree = as_integer(degree, "degree", low=0)
        self.alpha = as_real(alpha, "alpha")
        if self.alpha < 0:
            raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}")
        self.coef_ = self.powers_ = self.lambda_ = None

    def fit(self, x: ArrayLike, y: ArrayLike, dydx: ArrayLike | None = None):
        """Fit the coefficients by one stacked least-squares problem.

        Parameters
        ----------
        x : array_like, shape (n, n_in)
            Inputs; every column must vary.
        y : array_like, shape (n,)
            Value labels; they must vary.
        dydx : array_like, shape (n, n_in), optional
            Derivative labels. With ``alpha > 0`` no column may be all zero,
            since ``lambda_j = 1 / RMS`` of that column would be infinite.

        Returns
        -------
        DifferentialRegression
            ``self``, fitted.

        Raises
        ------
        TypeError
            Non-numeric data.
        ValueError
            Shapes that do not match, non-finite values, a constant input
            column or constant labels, an all-zero derivative column.
        """
        x = _matrix(x, "x")
        n, n_in = x.shape
        y = as_float_array(y, "y").astype(np.float64)
        if y.shape != (n,):
            raise ValueError(f"y must have shape ({n},) to match x, got {y.shape}")
        if dydx is not None:
            dydx = _matrix(dydx, "dydx", n_in, n)
        x_mean, x_std = x.mean(axis=0), x.std(axis=0)
        y_mean, y_std = float(y.mean()), float(y.std())
        # A spread below 1e-12 of the size is a constant stored with rounding.
        flat = x_std <= 1e-12 * np.max(np.abs(x), axis=0)
        if np.any(flat):
            raise ValueError(
                f"every input column must vary: x column(s) "
                f"{np.flatnonzero(flat).tolist()} do not (standard deviation 0, or "
                "below 1e-12 of the column's size)"
            )
        if y_std <= 1e-12 * float(np.max(np.abs(y))):
            raise ValueError("y must vary: its standard deviation is 0")
        x_n, y_n = (x - x_mean) / x_std, (y - y_mean) / y_std
        powers = _monomial_powers(n_in, self.degree)
        lambda_j = None
        if dydx is None or self.alpha == 0:
            design, target = _features(x_n, powers), y_n
        else:
            dydx_n = dydx * x_std / y_std
            with np.errstate(over="ignore"):
                rms = np.sqrt(np.mean(dydx_n**2, axis=0))
            if not np.all(np.isfinite(rms)):
                raise ValueError(
                    "dydx * std(x) / std(y) overflows when squared: rescale x or y"
                )
            if not np.all(rms > 0):
                raise ValueError(
                    f"dydx column(s) {np.flatnonzero(~(rms > 0)).tolist()} are all "
                    "zero: lambda_j = 1 / RMS(dydx_j) would be infinite; drop "
                    "those inputs or fit with alpha=0"
                )
            lambda_j = 1.0 / rms
            phi, dphi = _features(x_n, powers, derivatives=True)
            w = np.sqrt(self.alpha) * lambda_j
            design = np.concatenate([phi, *(w[:, None, None] * dphi)])
            target = np.concatenate([y_n, *(w[:, None] * dydx_n.T)])
        self.coef_, _, rank, _ = np.linalg.lstsq(design, target, rcond=None)
        if rank < design.shape[1]:
            warnings.warn(
                f"the least-squares problem is rank deficient (rank {rank} for "
                f"{design.shape[1]} monomials, from {design.shape[0]} equations): "
                "the coefficients are the minimum-norm solution; use more samples "
                "or a lower degree",
                RuntimeWarning,
                stacklevel=2,
            )
        self.powers_, self.lambda_ = powers, lambda_j
        self.x_mean_, self.x_std_ = x_mean, x_std
        self.y_mean_, self.y_std_ = y_mean, y_std
        return self

    def _normalised(self, x) -> np.ndarray:
        _check_fitted(self, "coef_")
        x = _matrix(x, "x", self.powers_.shape[1], match="the fitted model")
        return (x - self.x_mean_) / self.x_std_

    def predict(self, x: ArrayLike) -> np.ndarray:
        """Predicted values in original units.

        Parameters
        ----------
        x : array_like, shape (n, n_in)

        Returns
        -------
        ndarray, shape (n,)
        """
        phi = _features(self._normalised(x), self.powers_)
        return self.y_mean_ + self.y_std_ * (phi @ self.coef_)

    def gradient(self, x: ArrayLike) -> np.ndarray:
        """Derivative of the prediction with respect to ``x``, in original units.

        Parameters
        ----------
        x : array_like, shape (n, n_in)

        Returns
        -------
        ndarray, shape (n, n_in)
            ``d predict / d x_j = std_y / std_x_j * dphi/dx_n_j coef_``.
        """
        _, dphi = _features(self._normalised(x), self.powers_, derivatives=True)
        return (dphi @ self.coef_).T * (self.y_std_ / self.x_std_)


class _Axes:
    """Shared by :class:`PCA` and :class:`DifferentialPCA`: the eigenvectors of
    a second-moment matrix, the choice of how many to keep, the projections.
    """

    def __init__(self, n_components: int | None = None, relevance=None):
        if n_components is not None and relevance is not None:
            raise ValueError("give n_components or relevance, not both")
        if n_components is not None:
            n_components = as_integer(n_components, "n_components")
        if relevance is not None:
            relevance = as_real(relevance, "relevance")
            if not 0 < relevance <= 1:
                raise ValueError(f"relevance must lie in (0, 1], got {relevance!r}")
        self.n_components, self.relevance = n_components, relevance
        self.components_ = None

    def _fit_moment(self, x: np.ndarray, moment: np.ndarray, what: str):
        n_in = x.shape[1]
        if self.n_components is not None and self.n_components > n_in:
            raise ValueError(
                f"n_components must lie in 1..n_in = 1..{n_in}, got {self.n_components}"
            )
        values, vectors = np.linalg.eigh(moment)  # increasing eigenvalues
        values, vectors = np.maximum(values[::-1], 0.0), vectors[:, ::-1].T
        if not values.sum() > 0:
            raise ValueError(f"{what} is zero: there is no axis to find")
        ratio = values / values.sum()
        if self.n_components is not None:
            k = self.n_components
        elif self.relevance is not None:  # the 1e-12 absorbs rounding in the sum
            k = int(np.searchsorted(np.cumsum(ratio), self.relevance - 1e-12)) + 1
        else:
            k = n_in
        k = min(k, n_in)
        largest = vectors[np.arange(n_in), np.argmax(np.abs(vectors), axis=1)]
        self.components_ = (vectors * np.sign(largest)[:, None])[:k]
        self.eigenvalues_, self.relevance_ = values[:k], ratio[:k]
        self.mean_ = x.mean(axis=0)
        return self

    def transform(self, x: ArrayLike) -> np.ndarray:
        """Coordinates along the components, ``(x - mean_) @ components_.T``.

        Parameters
        ----------
        x : array_like, shape (n, n_in)

        Returns
        -------
        ndarray, shape (n, k)
        """
        _check_fitted(self, "components_")
        x = _matrix(x, "x", self.components_.shape[1], match="the fitted model")
        return (x - self.mean_) @ self.components_.T

    def inverse_transform(self, x_reduced: ArrayLike) -> np.ndarray:
        """Back to inputs, ``mean_ + x_reduced @ components_`` (exact if k = n_in).

        Parameters
        ----------
        x_reduced : array_like, shape (n, k)

        Returns
        -------
        ndarray, shape (n, n_in)
        """
        _check_fitted(self, "components_")
        k = self.components_.shape[0]
        z = _matrix(x_reduced, "x_reduced", k, columns="k", match="the fitted model")
        return self.mean_ + z @ self.components_

    def transform_gradient(self, dydx: ArrayLike) -> np.ndarray:
        """Derivative labels in reduced coordinates, ``dydx @ components_.T``.

        A function of the reduced inputs is read on the inputs
        ``x = mean_ + x_reduced @ components_`` (the kept axes), so the chain
        rule gives ``dy/dx_reduced = dydx @ components_.T``: the derivative
        labels to train a model on the reduced inputs with.

        Parameters
        ----------
        dydx : array_like, shape (n, n_in)

        Returns
        -------
        ndarray, shape (n, k)
        """
        _check_fitted(self, "components_")
        n_in = self.components_.shape[1]
        dydx = _matrix(dydx, "dydx", n_in, match="the fitted model")
        return dydx @ self.components_.T


class PCA(_Axes):
    """Classic PCA: the eigenvectors of the covariance of ``x``, for comparison.

    Parameters
    ----------
    n_components : int in 1..n_in, optional
        Number of components to keep.
    relevance : float in (0, 1], optional
        Or keep the fewest components whose cumulative relevance reaches it
        (up to 1e-12, for rounding). Not both; with neither, keep all.

    Attributes
    ----------
    components_ : ndarray, shape (k, n_in)
        Orthonormal rows, by decreasing eigenvalue; the entry of largest
        magnitude of each row is positive.
    eigenvalues_ : ndarray, shape (k,)
        The kept eigenvalues of the covariance (divided by n): the variance
        of ``x`` along each component.
    relevance_ : ndarray, shape (k,)
        Each kept eigenvalue over their sum: the explained variance ratio.
    mean_ : ndarray, shape (n_in,)
        The mean of the fitted ``x``, origin of the reduced coordinates.

    Notes
    -----
    Methods other than ``fit`` raise ``RuntimeError`` before ``fit``.
    """

    def fit(self, x: ArrayLike):
        """Fit the components to the covariance of ``x`` (divided by n).

        Parameters
        ----------
        x : array_like, shape (n, n_in)

        Returns
        -------
        PCA
            ``self``, fitted.
        """
        x = _matrix(x, "x")
        centred = x - x.mean(axis=0)
        return self._fit_moment(x, centred.T @ centred / x.shape[0], "the variance")


class DifferentialPCA(_Axes):
    """PCA of the derivative labels: the axes along which ``y`` changes most.

    The eigenvectors of ``M = dydx^T dydx / n`` (see the module docstring).
    Nothing is scaled inside: pass ``x`` in the units the axes should be in,
    and ``dydx`` the derivative of ``y`` with respect to that same ``x``
    (rescaling an input rescales its derivative inversely, and turns the axes).

    Parameters
    ----------
    n_components : int in 1..n_in, optional
    relevance : float in (0, 1], optional
        As for :class:`PCA`.

    Attributes
    ----------
    components_ : ndarray, shape (k, n_in)
    mean_ : ndarray, shape (n_in,)
        As for :class:`PCA`, with ``M`` in place of the covariance.
    eigenvalues_ : ndarray, shape (k,)
        The kept eigenvalues of ``M``: the mean squared derivative of ``y``
        along each component.
    relevance_ : ndarray, shape (k,)
        Each kept eigenvalue over the trace of ``M``.

    Notes
    -----
    Methods other than ``fit`` raise ``RuntimeError`` before ``fit``.
    """

    def fit(self, x: ArrayLike, dydx: ArrayLike):
        """Fit the components to the second moment of the derivative labels.

        Parameters
        ----------
        x : array_like, shape (n, n_in)
            Inputs; only their mean is used.
        dydx : array_like, shape (n, n_in)
            Derivative labels, not all zero.

        Returns
        -------
        DifferentialPCA
            ``self``, fitted.
        """
        x = _matrix(x, "x")
        dydx = _matrix(dydx, "dydx", x.shape[1], x.shape[0])
        return self._fit_moment(x, dydx.T @ dydx / x.shape[0], "dydx")
