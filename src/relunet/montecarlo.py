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

The experiments of Huge and Savine (2020). The functions at the end of the
module set up the experiments of their companion notebooks, with zero rates.
A training example is one path over two dates ``0 < T1 < T2``: its input is
the state ``S1`` at ``T1``, its labels the payoff of a call expiring at ``T2``
and the pathwise derivative of that payoff with respect to ``S1``, unbiased
estimates of the price at ``T1`` and of its delta, whose closed forms
(:func:`black_scholes` and :func:`bachelier_basket` with maturity
``T2 - T1``) are the targets a network is tested against. The states at
``T1`` are drawn with the volatility multiplied by ``vol_multiplier`` (1.5 by
default, in both models: a choice of this module), so that the training
states cover the wings of the test spots; the step from ``T1`` to ``T2``
keeps the model's own volatility, so the labels stay unbiased. With
``antithetic=True`` (the default) each example averages the labels of two
paths from its state, with the increments ``Z`` and ``-Z`` to ``T2``: still
unbiased, with a smaller variance, since a call's payoff and pathwise
derivative are monotone in ``Z``. The basket of the Bachelier experiment is
random (:func:`random_basket`): a random correlation, random weights, and
random volatilities scaled so that the basket's volatility is the same in
every dimension. Draws come from a ``numpy.random.Generator``, so a seed
does not reproduce the notebooks' numbers, only their distributions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_float_array, as_integer, as_real, as_seed, check_ndim


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


# --- The experiments of Huge and Savine (2020) ---------------------------------------


def random_correlation(d: int, seed) -> np.ndarray:
    """A random ``d x d`` correlation matrix, as Huge and Savine's notebooks draw it.

    Parameters
    ----------
    d : int >= 1
        The dimension.
    seed : int >= 0 or numpy.random.Generator
        Source of the ``2 d^2`` uniform draws.

    Returns
    -------
    correlation : ndarray, shape (d, d)
        With ``R`` uniform on ``[-1, 1)``, shape ``(2 d, d)``, and
        ``C = R^T R``: ``D^-1/2 C D^-1/2`` with ``D = diag(C)``. Positive
        semi-definite (definite with probability one), exactly symmetric, and
        with a diagonal of exactly 1.0 (the rounding of the normalisation is
        removed); ``[[1.0]]`` for ``d = 1``.
    """
    d = as_integer(d, "d")
    R = _generator(seed).uniform(-1.0, 1.0, size=(2 * d, d))
    C = R.T @ R
    inverse_sd = 1.0 / np.sqrt(np.diag(C))
    correlation = C * inverse_sd[:, None] * inverse_sd[None, :]
    correlation = 0.5 * (correlation + correlation.T)
    np.fill_diagonal(correlation, 1.0)
    return correlation


@dataclass(frozen=True, eq=False)
class Basket:
    """A basket of ``d`` assets with correlated Bachelier dynamics.

    Built from its weights, volatilities and correlation, which are copied
    to read-only float64 arrays; the covariance is derived from them, so it
    cannot disagree. Baskets compare by identity.

    Parameters
    ----------
    weights : array_like, shape (d,)
        The basket weights ``w``.
    vols : array_like, shape (d,)
        The non-negative normal volatilities of the assets, per unit time.
    correlation : array_like, shape (d, d)
        Symmetric positive semi-definite, unit diagonal (each to a relative
        ``1e-12``).

    Attributes
    ----------
    weights, vols : ndarray, shape (d,)
    correlation : ndarray, shape (d, d)
    cov : ndarray, shape (d, d)
        The covariance of the asset increments per unit time,
        ``diag(vols) correlation diag(vols)``, as :func:`bachelier_basket`
        takes it; formed as ``outer(vols, vols) * correlation``, so exactly
        symmetric when ``correlation`` is.
    """

    weights: np.ndarray
    vols: np.ndarray
    correlation: np.ndarray
    cov: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        w = as_float_array(self.weights, "weights").astype(np.float64)
        check_ndim(w, "weights", (1,), "(d,)")
        d = w.shape[0]
        if d == 0:
            raise ValueError("weights must hold at least one asset, got shape (0,)")
        vols = as_float_array(self.vols, "vols").astype(np.float64)
        if vols.shape != (d,):
            raise ValueError(
                f"vols must have shape ({d},) to match weights, got shape {vols.shape}"
            )
        if np.any(vols < 0):
            raise ValueError(
                f"vols must be non-negative, got {int(np.sum(vols < 0))} value(s) < 0"
            )
        correlation = as_float_array(self.correlation, "correlation").astype(np.float64)
        _check_correlation(correlation, d)
        cov = np.outer(vols, vols) * correlation  # exactly symmetric
        for name, array in (
            ("weights", w),
            ("vols", vols),
            ("correlation", correlation),
            ("cov", cov),
        ):
            array.flags.writeable = False
            object.__setattr__(self, name, array)

    @property
    def basket_vol(self) -> float:
        """The normal volatility of ``w . S`` per unit time, ``sqrt(w^T cov w)``."""
        return math.sqrt(max(float(self.weights @ self.cov @ self.weights), 0.0))


def random_basket(d: int, seed, basket_vol: float = 0.2) -> Basket:
    """A random basket, drawn as in Huge and Savine's Bachelier experiment.

    Parameters
    ----------
    d : int >= 1
        The number of assets.
    seed : int >= 0 or numpy.random.Generator
        Source of all the draws, in this order: the correlation
        (:func:`random_correlation`, from the same generator), the weights,
        the volatilities.
    basket_vol : float, optional
        The positive normal volatility of the basket per unit time.

    Returns
    -------
    Basket
        Weights uniform on ``[1, 10)``, divided by their sum (so they add up
        to 1); volatilities uniform on ``[5, 50)``, then all multiplied by
        one factor so that ``sqrt(w^T diag(vols) correlation diag(vols) w)``
        is ``basket_vol``. For ``d = 1``: weight 1, correlation ``[[1.0]]``,
        volatility ``basket_vol``.
    """
    d = as_integer(d, "d")
    basket_vol = _positive(basket_vol, "basket_vol")
    rng = _generator(seed)
    correlation = random_correlation(d, rng)
    weights = rng.uniform(1.0, 10.0, size=d)
    weights = weights / weights.sum()
    vols = rng.uniform(5.0, 50.0, size=d)
    weighted = weights * vols
    vols = vols * (basket_vol / math.sqrt(float(weighted @ correlation @ weighted)))
    return Basket(weights=weights, vols=vols, correlation=correlation)


def two_date_black_scholes(
    n: int,
    *,
    spot: float = 1.0,
    strike: float = 1.1,
    vol: float = 0.2,
    t1: float = 1.0,
    t2: float = 2.0,
    vol_multiplier: float = 1.5,
    antithetic: bool = True,
    seed,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training set of the Black-Scholes experiment: states at ``t1``, labels at ``t2``.

    Parameters
    ----------
    n : int >= 1
        The number of examples.
    spot, strike, vol : float, optional
        Positive spot today, strike and volatility.
    t1, t2 : float, optional
        The dates, ``0 < t1 < t2``.
    vol_multiplier : float, optional
        Positive factor on the volatility of the draw of the states at ``t1``.
    antithetic : bool, optional
        Whether each example averages the labels of the paths with ``Z1`` and
        ``-Z1``.
    seed : int >= 0 or numpy.random.Generator
        Source of one ``(2, n)`` array of standard normals, ``Z0`` and ``Z1``.

    Returns
    -------
    x : ndarray, shape (n, 1)
        ``S1 = spot exp(-(vol m)^2 t1 / 2 + vol m sqrt(t1) Z0)``, with
        ``m = vol_multiplier``.
    payoff : ndarray, shape (n,)
        ``max(S2 - K, 0)`` with
        ``S2 = S1 exp(-vol^2 (t2 - t1) / 2 + vol sqrt(t2 - t1) Z1)``; with
        ``antithetic``, its average with the payoff of the path with ``-Z1``.
    pathwise_delta : ndarray, shape (n, 1)
        ``d payoff / d S1 = 1[S2 > K] S2 / S1``; averaged likewise.

    Notes
    -----
    Given ``S1``, the labels are unbiased for the price and delta of the
    call at ``S1`` with maturity ``t2 - t1``:
    ``black_scholes(x[:, 0], strike, vol, t2 - t1)``, the targets of the
    experiment.
    """
    n = as_integer(n, "n")
    spot = _positive(spot, "spot")
    strike, vol = _positive(strike, "strike"), _positive(vol, "vol")
    t1, tau = _two_dates(t1, t2)
    wide = vol * _positive(vol_multiplier, "vol_multiplier")
    antithetic = _bool(antithetic, "antithetic")
    Z0, Z1 = _generator(seed).standard_normal((2, n))
    S1 = spot * np.exp(-0.5 * wide * wide * t1 + wide * math.sqrt(t1) * Z0)
    payoff, delta = _black_scholes_step(S1, Z1, strike, vol, tau, antithetic)
    return S1[:, None], payoff, delta[:, None]


def two_date_bachelier_basket(
    n: int,
    basket: Basket,
    *,
    spot: float = 1.0,
    strike: float = 1.1,
    t1: float = 1.0,
    t2: float = 2.0,
    vol_multiplier: float = 1.5,
    antithetic: bool = True,
    seed,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training set of the basket experiment: states at ``t1``, labels at ``t2``.

    Parameters
    ----------
    n : int >= 1
        The number of examples.
    basket : Basket
        The ``d`` assets, their weights ``w`` and covariance per unit time.
    spot, strike : float, optional
        Today's price of every asset, and the strike of the call on
        ``w . S`` (any real numbers: normal dynamics allow negative prices).
    t1, t2 : float, optional
        The dates, ``0 < t1 < t2``.
    vol_multiplier : float, optional
        Positive factor on the volatilities of the draw of the states at
        ``t1``.
    antithetic : bool, optional
        Whether each example averages the labels of the paths with ``Z1`` and
        ``-Z1``.
    seed : int >= 0 or numpy.random.Generator
        Source of one ``(2, n, d)`` array of standard normals, ``Z0`` and
        ``Z1``.

    Returns
    -------
    x : ndarray, shape (n, d)
        ``S1 = spot + m sqrt(t1) Z0 L^T``, with ``m = vol_multiplier`` and
        ``L L^T = basket.cov``.
    payoff : ndarray, shape (n,)
        ``max(w . S2 - K, 0)`` with ``S2 = S1 + sqrt(t2 - t1) Z1 L^T``; with
        ``antithetic``, its average with the payoff of the path with ``-Z1``.
    pathwise_gradient : ndarray, shape (n, d)
        ``d payoff / d S1 = 1[w . S2 > K] w``; averaged likewise.

    Notes
    -----
    ``L`` is the symmetric-eigenvector square root of ``basket.cov``,
    ``V diag(sqrt(eigenvalues))``, for every covariance (not a Cholesky
    factor, which a semi-definite covariance may lack), as in
    :func:`simulate_bachelier_basket`: another square root would give the
    same distribution, not the same paths. Given ``S1``, the labels are
    unbiased for the price and gradient of the call at ``S1`` with maturity
    ``t2 - t1``: ``bachelier_basket(x, basket.weights, strike, basket.cov,
    t2 - t1)``, the targets of the experiment.
    """
    n = as_integer(n, "n")
    if not isinstance(basket, Basket):
        raise TypeError(
            f"basket must be a Basket, got {type(basket).__name__} {basket!r}"
        )
    spot, strike = _finite(spot, "spot"), _finite(strike, "strike")
    t1, tau = _two_dates(t1, t2)
    m = _positive(vol_multiplier, "vol_multiplier")
    antithetic = _bool(antithetic, "antithetic")
    L = _square_root(basket.cov)
    d = basket.weights.shape[0]
    Z0, Z1 = _generator(seed).standard_normal((2, n, d))
    S1 = spot + (m * math.sqrt(t1)) * Z0 @ L.T
    payoff, gradient = _bachelier_step(
        S1, Z1, L, basket.weights, strike, tau, antithetic
    )
    return S1, payoff, gradient


def black_scholes_test_spots(
    n: int = 100, lower: float = 0.35, upper: float = 1.65
) -> np.ndarray:
    """Test spots of the Black-Scholes experiment: an even grid.

    Parameters
    ----------
    n : int >= 1, optional
        The number of spots.
    lower, upper : float, optional
        The ends of the grid, ``0 < lower < upper``.

    Returns
    -------
    spots : ndarray, shape (n, 1)
        ``numpy.linspace(lower, upper, n)`` as a column; their targets are
        ``black_scholes(spots[:, 0], strike, vol, t2 - t1)``.
    """
    n = as_integer(n, "n")
    lower = _positive(lower, "lower")
    upper = _above(upper, "upper", lower, "lower")
    return np.linspace(lower, upper, n)[:, None]


def bachelier_test_spots(
    n: int, d: int, seed, lower: float = 0.5, upper: float = 1.5
) -> np.ndarray:
    """Test spots of the basket experiment: uniform, widened with the dimension.

    Parameters
    ----------
    n, d : int >= 1
        The number of spots and of assets.
    seed : int >= 0 or numpy.random.Generator
        Source of the ``(n, d)`` uniform draws.
    lower, upper : float, optional
        The range in one dimension, ``lower < upper``.

    Returns
    -------
    spots : ndarray, shape (n, d)
        Independent and uniform on ``[1 - (1 - lower) a, 1 + (upper - 1) a)``,
        the range ``[lower, upper]`` stretched about 1 by the factor
        ``a = 1 + sqrt((d - 1) (upper - lower) / 12) / 2``: a basket of many
        assets averages their spreads away, and the wider range keeps the
        spread of ``w . S`` comparable across dimensions. For ``d = 1`` the
        range is ``[lower, upper)`` exactly. Their targets are
        ``bachelier_basket(spots, basket.weights, strike, basket.cov,
        t2 - t1)``.
    """
    n, d = as_integer(n, "n"), as_integer(d, "d")
    lower = _finite(lower, "lower")
    upper = _above(upper, "upper", lower, "lower")
    low, high = _bachelier_test_range(d, lower, upper)
    return _generator(seed).uniform(low, high, size=(n, d))


def _bachelier_test_range(d: int, lower: float, upper: float) -> tuple[float, float]:
    """``[lower, upper]`` stretched about 1 by ``a``: see :func:`bachelier_test_spots`.

    Written as ``lower - (1 - lower)(a - 1)``, equal to ``1 - (1 - lower) a``,
    so that ``a - 1 = 0`` at ``d = 1`` leaves both ends exactly as given.
    """
    stretch = 0.5 * math.sqrt((d - 1) * (upper - lower) / 12.0)  # a - 1
    return lower - (1.0 - lower) * stretch, upper + (upper - 1.0) * stretch


def _black_scholes_step(
    S1: np.ndarray, Z1: np.ndarray, strike: float, vol: float, tau: float, antithetic
) -> tuple[np.ndarray, np.ndarray]:
    """Payoffs at ``T2`` and their derivatives in ``S1``, from the normals ``Z1``.

    Shapes (n,); both averaged over ``Z1`` and ``-Z1`` if ``antithetic``.
    """
    sd = vol * math.sqrt(tau)
    payoffs, deltas = [], []
    for Z in (Z1, -Z1) if antithetic else (Z1,):
        growth = np.exp(-0.5 * sd * sd + sd * Z)  # S2 / S1 = d S2 / d S1
        S2 = S1 * growth
        in_the_money = S2 > strike
        payoffs.append(np.where(in_the_money, S2 - strike, 0.0))
        deltas.append(np.where(in_the_money, growth, 0.0))
    if antithetic:
        return 0.5 * (payoffs[0] + payoffs[1]), 0.5 * (deltas[0] + deltas[1])
    return payoffs[0], deltas[0]


def _bachelier_step(
    S1: np.ndarray,
    Z1: np.ndarray,
    L: np.ndarray,
    weights: np.ndarray,
    strike: float,
    tau: float,
    antithetic,
) -> tuple[np.ndarray, np.ndarray]:
    """Payoffs at ``T2``, shape (n,), and their gradients in ``S1``, shape (n, d).

    From the normals ``Z1``, shape (n, d); both averaged over ``Z1`` and ``-Z1``
    if ``antithetic``.
    """
    increment = math.sqrt(tau) * Z1 @ L.T
    payoffs, gradients = [], []
    for step in (increment, -increment) if antithetic else (increment,):
        basket = (S1 + step) @ weights
        in_the_money = basket > strike
        payoffs.append(np.where(in_the_money, basket - strike, 0.0))
        gradients.append(in_the_money[:, None] * weights)
    if antithetic:
        return 0.5 * (payoffs[0] + payoffs[1]), 0.5 * (gradients[0] + gradients[1])
    return payoffs[0], gradients[0]


def _square_root(cov: np.ndarray) -> np.ndarray:
    """``L = V diag(sqrt(eigenvalues))``, so that ``L L^T = cov``."""
    eigenvalues, eigenvectors = _covariance_eigen(cov)
    return eigenvectors * np.sqrt(eigenvalues)


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


def _bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def _above(value, name: str, bound: float, bound_name: str) -> float:
    value = _finite(value, name)
    if value <= bound:
        raise ValueError(
            f"{name} must be greater than {bound_name}, got {bound_name} = {bound!r} "
            f"and {name} = {value!r}"
        )
    return value


def _two_dates(t1, t2) -> tuple[float, float]:
    """``t1`` and ``t2 - t1``, checking ``0 < t1 < t2``."""
    t1 = _positive(t1, "t1")
    t2 = _above(t2, "t2", t1, "t1")
    return t1, t2 - t1  # positive: distinct floats have a non-zero difference


def _check_correlation(correlation: np.ndarray, d: int) -> None:
    """Shape (d, d), unit diagonal, symmetric and positive semi-definite.

    The tolerances of :func:`_covariance_eigen`, whose check this is, with
    messages naming ``correlation``.
    """
    if correlation.shape != (d, d):
        raise ValueError(
            f"correlation must have shape ({d}, {d}) to match weights, got shape "
            f"{correlation.shape}"
        )
    if np.max(np.abs(np.diag(correlation) - 1.0)) > 1e-12:
        raise ValueError("correlation must have a unit diagonal")
    try:
        _covariance_eigen(correlation)
    except ValueError as exc:
        raise ValueError(str(exc).replace("cov", "correlation", 1)) from None
