"""Option prices and their pathwise derivatives by Monte Carlo (chapter 8).

Two textbook models, with zero interest rate throughout:

- Black-Scholes, one asset: ``S_T = S_0 exp(-vol^2 T / 2 + vol sqrt(T) Z)``;
- Bachelier (normal) dynamics for a basket of ``d`` correlated assets:
  ``S_T = S_0 + sqrt(T) L Z`` with ``L L^T = cov``, the covariance per unit time.

For each, a closed form for the price of a European call and its
sensitivities, and a simulator that draws one path per initial spot and
returns the payoff and its *pathwise* derivative with respect to the spot
(Broadie and Glasserman 1996; Glasserman 2003, section 7.2). Both estimates
are unbiased: their means over paths from one spot are the price and the
delta. ``seed`` may be a non-negative int or a ``numpy.random.Generator``; the
same seed
gives the same normal draws whatever the spots (common random numbers), so
bumping a spot and simulating again measures a derivative path by path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_float_array, as_real, as_seed, check_ndim


@dataclass(frozen=True)
class CallValue:
    """The value of a call and its sensitivities.

    Attributes
    ----------
    price : ndarray
        The call price, one per spot (or basket of spots).
    delta : ndarray
        d price / d spot: same shape as ``price`` for one asset; one
        gradient per row, shape ``(n, d)`` or ``(d,)``, for a basket.
    gamma : ndarray or None
        d^2 price / d spot^2 for one asset (Black-Scholes); ``None`` for
        the basket.
    """

    price: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray | None = None


_erfc = np.vectorize(math.erfc, otypes=[float])


def normal_cdf(x: ArrayLike) -> np.ndarray:
    """The standard normal distribution function, ``erfc(-x / sqrt(2)) / 2``."""
    return 0.5 * _erfc(-np.asarray(x, dtype=float) / math.sqrt(2.0))


def normal_pdf(x: ArrayLike) -> np.ndarray:
    """The standard normal density."""
    x = np.asarray(x, dtype=float)
    with np.errstate(over="ignore"):  # x * x = inf for |x| > 1e154: density 0
        return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def black_scholes(
    spot: ArrayLike, strike: float, vol: float, maturity: float
) -> CallValue:
    """Closed-form Black-Scholes call: price, delta and gamma, zero rate.

    Parameters
    ----------
    spot : array_like, any shape
        Initial asset prices, all positive.
    strike, vol, maturity : float
        Positive strike, volatility (per unit time) and time to maturity.

    Returns
    -------
    CallValue
        ``price = S N(d_1) - K N(d_2)``, ``delta = N(d_1)``,
        ``gamma = phi(d_1) / (S vol sqrt(T))``, each of the shape of ``spot``,
        with ``d_1 = log(S / K) / (vol sqrt(T)) + vol sqrt(T) / 2`` and
        ``d_2 = d_1 - vol sqrt(T)``.

    Notes
    -----
    ``d_1`` and ``d_2`` are formed without squaring ``vol sqrt(T)``, which
    would overflow above about 1e154: as ``vol sqrt(T)`` grows the price
    tends to ``S``, and it does so here. The computed price is kept within
    the no-arbitrage bounds ``max(S - K, 0) <= price <= S``, which rounding
    could otherwise cross by an ulp. A ``vol sqrt(T)`` that underflows to 0
    is refused.
    """
    S = _positive_array(spot, "spot")
    K, vol, T = (
        _positive(strike, "strike"),
        _positive(vol, "vol"),
        _positive(maturity, "maturity"),
    )
    sd = vol * math.sqrt(T)
    if sd == 0:
        raise ValueError(
            f"vol * sqrt(maturity) underflows to 0 (vol = {vol!r}, maturity = {T!r})"
        )
    moneyness = np.log(S / K) / sd
    d1 = moneyness + 0.5 * sd
    d2 = moneyness - 0.5 * sd
    price = S * normal_cdf(d1) - K * normal_cdf(d2)
    return CallValue(
        price=np.clip(price, np.maximum(S - K, 0.0), S),
        delta=normal_cdf(d1),
        gamma=normal_pdf(d1) / (S * sd),
    )


def simulate_black_scholes(
    spots: ArrayLike, strike: float, vol: float, maturity: float, seed
) -> tuple[np.ndarray, np.ndarray]:
    """One Black-Scholes path per spot: the payoff and its pathwise delta.

    Parameters
    ----------
    spots : array_like, shape (n,)
        Initial prices, all positive; one path each.
    strike, vol, maturity : float
        Positive strike, volatility and maturity.
    seed : int >= 0 or numpy.random.Generator
        Source of the ``n`` standard normal draws; the same seed gives the
        same draws whatever the spots.

    Returns
    -------
    payoff : ndarray, shape (n,)
        ``max(S_T - K, 0)``.
    pathwise_delta : ndarray, shape (n,)
        ``d payoff / d S_0 = 1[S_T > K] S_T / S_0``, since ``S_T`` is
        proportional to ``S_0`` along a path.
    """
    S0 = _positive_array(spots, "spots")
    check_ndim(S0, "spots", (1,), "(n,)")
    K, vol, T = (
        _positive(strike, "strike"),
        _positive(vol, "vol"),
        _positive(maturity, "maturity"),
    )
    Z = _generator(seed).standard_normal(S0.shape[0])
    ST = S0 * np.exp(-0.5 * vol * vol * T + vol * math.sqrt(T) * Z)
    in_the_money = ST > K
    return np.where(in_the_money, ST - K, 0.0), np.where(in_the_money, ST / S0, 0.0)


def bachelier_basket(
    spots: ArrayLike, weights: ArrayLike, strike: float, cov: ArrayLike, maturity: float
) -> CallValue:
    """Closed-form call on the basket ``w . S`` under correlated Bachelier dynamics.

    Parameters
    ----------
    spots : array_like, shape (d,) or (n, d)
        Initial prices of the ``d`` assets, one basket per row.
    weights : array_like, shape (d,)
        The basket weights ``w``.
    strike : float
        The strike ``K`` (any real number: normal dynamics allow negative prices).
    cov : array_like, shape (d, d)
        Covariance of the asset increments per unit time, symmetric positive
        semi-definite, with ``w^T cov w > 0``.
    maturity : float
        Positive time to maturity.

    Returns
    -------
    CallValue
        With ``B = w . S``, ``s = sqrt(T w^T cov w)`` and ``u = (B - K) / s``:
        ``price = (B - K) N(u) + s phi(u)``, shape ``(n,)`` or ``()``, and
        ``delta = N(u) w``, shape ``(n, d)`` or ``(d,)`` (``gamma`` is None).
    """
    S, w, cov, _ = _basket_inputs(spots, weights, cov, allow_single=True)
    K, T = _finite(strike, "strike"), _positive(maturity, "maturity")
    # w^T cov w >= 0 up to rounding, since cov passed the check
    s = math.sqrt(T * max(float(w @ cov @ w), 0.0))
    if s == 0:
        raise ValueError("the basket has zero variance: w^T cov w must be positive")
    u = (S @ w - K) / s
    return CallValue(
        price=(S @ w - K) * normal_cdf(u) + s * normal_pdf(u),
        delta=normal_cdf(u)[..., None] * w,
    )


def simulate_bachelier_basket(
    spots: ArrayLike,
    weights: ArrayLike,
    strike: float,
    cov: ArrayLike,
    maturity: float,
    seed,
) -> tuple[np.ndarray, np.ndarray]:
    """One correlated Bachelier path per row of ``spots``: payoff and pathwise gradient.

    Parameters
    ----------
    spots : array_like, shape (n, d)
        Initial prices, one row of ``d`` assets per path.
    weights, strike, cov, maturity
        As in :func:`bachelier_basket`.
    seed : int >= 0 or numpy.random.Generator
        Source of the ``(n, d)`` standard normal draws; the same seed gives
        the same draws whatever the spots.

    Returns
    -------
    payoff : ndarray, shape (n,)
        ``max(w . S_T - K, 0)`` with ``S_T = S_0 + sqrt(T) L Z``.
    pathwise_gradient : ndarray, shape (n, d)
        ``d payoff / d S_0 = 1[w . S_T > K] w``, since ``d S_T / d S_0 = I``.
    """
    S0, w, _, (eigenvalues, eigenvectors) = _basket_inputs(
        spots, weights, cov, allow_single=False
    )
    K, T = _finite(strike, "strike"), _positive(maturity, "maturity")
    L = eigenvectors * np.sqrt(eigenvalues)  # L L^T = cov
    Z = _generator(seed).standard_normal(S0.shape)
    ST = S0 + math.sqrt(T) * Z @ L.T
    basket = ST @ w
    in_the_money = basket > K
    return np.where(in_the_money, basket - K, 0.0), in_the_money[:, None] * w


# --- Input checks -----------------------------------------------------------------


def _generator(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    try:
        return np.random.default_rng(as_seed(seed))
    except TypeError:
        raise TypeError(
            "seed must be an int or a numpy.random.Generator, got "
            f"{type(seed).__name__} {seed!r}"
        ) from None


def _finite(value, name: str) -> float:
    """A finite real scalar: a Python or NumPy number, or a 0-d array."""
    return as_real(value, name)


def _positive(value, name: str) -> float:
    value = _finite(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return value


def _positive_array(value, name: str) -> np.ndarray:
    array = as_float_array(value, name).astype(np.float64)
    if np.any(array <= 0):
        raise ValueError(
            f"{name} must be positive, got {int(np.sum(array <= 0))} value(s) <= 0"
        )
    return array


def _basket_inputs(spots, weights, cov, allow_single: bool):
    w = as_float_array(weights, "weights").astype(np.float64)
    check_ndim(w, "weights", (1,), "(d,)")
    d = w.shape[0]
    S = as_float_array(spots, "spots").astype(np.float64)
    check_ndim(
        S,
        "spots",
        (1, 2) if allow_single else (2,),
        f"(n, {d})" if not allow_single else f"({d},) or (n, {d})",
    )
    if S.shape[-1] != d:
        raise ValueError(
            f"spots must have {d} columns to match weights of shape ({d},), got shape "
            f"{S.shape}"
        )
    C = as_float_array(cov, "cov").astype(np.float64)
    if C.shape != (d, d):
        raise ValueError(
            f"cov must have shape ({d}, {d}) to match weights, got shape {C.shape}"
        )
    return S, w, C, _covariance_eigen(C)


def _covariance_eigen(C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Check that ``C`` is a covariance matrix; return its eigen-decomposition.

    The one check both basket functions use, relative to the scale of ``C``:
    symmetric to ``1e-12`` of its largest entry, and no eigenvalue below
    ``-d * 1e-12`` times the largest one in magnitude (rounding in a
    positive semi-definite ``C`` makes at most such). Eigenvalues within
    that tolerance of 0 are set to 0, so ``C = V diag(eigenvalues) V^T`` is
    positive semi-definite.
    """
    scale = float(np.max(np.abs(C)))
    if np.max(np.abs(C - C.T), initial=0.0) > 1e-12 * scale:
        raise ValueError("cov must be symmetric")
    eigenvalues, eigenvectors = np.linalg.eigh(0.5 * (C + C.T))
    largest = float(np.max(np.abs(eigenvalues), initial=0.0))
    smallest = float(eigenvalues[0]) if eigenvalues.size else 0.0
    if smallest < -C.shape[0] * 1e-12 * largest:
        raise ValueError(
            f"cov must be positive semi-definite, got an eigenvalue {smallest:.3g} "
            f"against a largest one of {largest:.3g} in magnitude"
        )
    return np.clip(eigenvalues, 0.0, None), eigenvectors
