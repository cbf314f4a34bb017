"""Delta hedging with a learned or a closed-form delta (chapter 10).

A dealer sells a call at its price ``V_0`` and, at the rebalancing dates
``t_k = k T / N``, holds ``delta_k`` units of each asset until the next date
(zero rates, no costs). The hedge's profit and loss at maturity is

    PnL = V_0 - payoff(S_T) + sum_k delta_k . (S_{t_{k+1}} - S_{t_k}).

With the model's own delta the P&L has mean 0 and a standard deviation that
shrinks as ``N`` grows (like ``1 / sqrt(N)``); any other delta adds its
errors, weighted by the moves of the assets.

A delta at every date needs the price as a function of the spot *and* of the
time left, ``tau = T - t``: the training samples here draw both, and carry
the pathwise derivative of the payoff with respect to both (Glasserman 2003,
section 7.2). With ``S_T`` a function of ``(S_0, tau, Z)`` that is
Lipschitz in ``(S_0, tau)`` for ``tau`` bounded away from 0, both pathwise
derivatives are unbiased there:

- Black-Scholes, ``S_T = S_0 exp(-vol^2 tau / 2 + vol sqrt(tau) Z)``:
  ``dS_T/dS_0 = S_T / S_0`` and
  ``dS_T/dtau = S_T (-vol^2 / 2 + vol Z / (2 sqrt(tau)))``;
- Bachelier basket, ``S_T = S_0 + sqrt(tau) L Z``: ``dS_T/dS_0 = I`` and
  ``dS_T/dtau = L Z / (2 sqrt(tau))``;

each multiplied by ``1[w . S_T > K]`` (``w = 1`` for one asset). The
derivative in ``tau`` has a variance that grows like ``1 / tau``: draw
``tau`` away from 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_float_array, as_integer, check_ndim
from relunet.montecarlo import (
    _basket_inputs,
    _finite,
    _generator,
    _positive,
    _positive_array,
)

__all__ = [
    "bachelier_paths",
    "black_scholes_paths",
    "hedge_pnl",
    "simulate_bachelier_surface",
    "simulate_black_scholes_surface",
]


def simulate_black_scholes_surface(
    spots: ArrayLike, maturities: ArrayLike, strike: float, vol: float, seed
) -> tuple[np.ndarray, np.ndarray]:
    """One Black-Scholes path per (spot, time to maturity): payoff and its gradient.

    Parameters
    ----------
    spots, maturities : array_like, shape (n,)
        Initial prices and times to maturity, all positive; one path each.
    strike, vol : float
        Positive strike and volatility.
    seed : int >= 0 or numpy.random.Generator
        Source of the ``n`` standard normal draws.

    Returns
    -------
    payoff : ndarray, shape (n,)
        ``max(S_T - K, 0)``.
    gradient : ndarray, shape (n, 2)
        The pathwise derivatives of the payoff with respect to the spot and
        to the time to maturity (see the module docstring).
    """
    S0 = _positive_array(spots, "spots")
    check_ndim(S0, "spots", (1,), "(n,)")
    tau = _maturities(maturities, S0.shape[0])
    K, vol = _positive(strike, "strike"), _positive(vol, "vol")
    Z = _generator(seed).standard_normal(S0.shape[0])
    root = np.sqrt(tau)
    ST = S0 * np.exp(-0.5 * vol * vol * tau + vol * root * Z)
    in_the_money = ST > K
    gradient = np.stack([ST / S0, ST * (-0.5 * vol * vol + 0.5 * vol * Z / root)], 1)
    return np.where(in_the_money, ST - K, 0.0), in_the_money[:, None] * gradient


def simulate_bachelier_surface(
    spots: ArrayLike,
    maturities: ArrayLike,
    weights: ArrayLike,
    strike: float,
    cov: ArrayLike,
    seed,
) -> tuple[np.ndarray, np.ndarray]:
    """One Bachelier basket path per (spots, time to maturity): payoff and gradient.

    Parameters
    ----------
    spots : array_like, shape (n, d)
        Initial prices, one row of ``d`` assets per path.
    maturities : array_like, shape (n,)
        Positive times to maturity.
    weights, strike, cov
        As in :func:`relunet.montecarlo.bachelier_basket`.
    seed : int >= 0 or numpy.random.Generator
        Source of the ``(n, d)`` standard normal draws.

    Returns
    -------
    payoff : ndarray, shape (n,)
        ``max(w . S_T - K, 0)``.
    gradient : ndarray, shape (n, d + 1)
        The pathwise derivatives of the payoff with respect to the ``d``
        spots, then to the time to maturity.
    """
    S0, w, _, (eigenvalues, eigenvectors) = _basket_inputs(
        spots, weights, cov, allow_single=False
    )
    tau = _maturities(maturities, S0.shape[0])
    K = _finite(strike, "strike")
    L = eigenvectors * np.sqrt(eigenvalues)  # L L^T = cov
    move = _generator(seed).standard_normal(S0.shape) @ L.T  # L Z, one row per path
    root = np.sqrt(tau)
    basket = (S0 + root[:, None] * move) @ w
    in_the_money = basket > K
    gradient = np.concatenate(
        [np.broadcast_to(w, S0.shape), (move @ w / (2.0 * root))[:, None]], axis=1
    )
    return np.where(in_the_money, basket - K, 0.0), in_the_money[:, None] * gradient


def black_scholes_paths(
    n_paths: int, n_dates: int, spot: float, vol: float, maturity: float, seed
) -> np.ndarray:
    """Black-Scholes paths sampled exactly at ``n_dates + 1`` equally spaced dates.

    Returns
    -------
    ndarray, shape (n_paths, n_dates + 1, 1)
        ``S_{t_k}`` for ``t_k = k T / n_dates``, starting at ``spot``; one
        asset, as a last axis of length 1 (the layout of :func:`hedge_pnl`).
    """
    n_paths, n_dates = as_integer(n_paths, "n_paths"), as_integer(n_dates, "n_dates")
    S0, vol = _positive(spot, "spot"), _positive(vol, "vol")
    dt = _positive(maturity, "maturity") / n_dates
    Z = _generator(seed).standard_normal((n_paths, n_dates))
    steps = np.cumsum(-0.5 * vol * vol * dt + vol * math.sqrt(dt) * Z, axis=1)
    log_paths = np.concatenate([np.zeros((n_paths, 1)), steps], axis=1)
    return (S0 * np.exp(log_paths))[:, :, None]


def bachelier_paths(
    n_paths: int, n_dates: int, spot: ArrayLike, cov: ArrayLike, maturity: float, seed
) -> np.ndarray:
    """Correlated Bachelier paths at ``n_dates + 1`` equally spaced dates.

    Parameters
    ----------
    spot : array_like, shape (d,)
        Today's prices.
    cov : array_like, shape (d, d)
        Covariance of the increments per unit time.

    Returns
    -------
    ndarray, shape (n_paths, n_dates + 1, d)
        ``S_{t_k} = S_0 + sum of sqrt(dt) L Z`` over the steps before ``t_k``.
    """
    n_paths, n_dates = as_integer(n_paths, "n_paths"), as_integer(n_dates, "n_dates")
    spot = as_float_array(spot, "spot").astype(np.float64)
    check_ndim(spot, "spot", (1,), "(d,)")
    S0, _, _, (eigenvalues, eigenvectors) = _basket_inputs(
        spot[None, :], np.ones_like(spot), cov, allow_single=False
    )
    dt = _positive(maturity, "maturity") / n_dates
    L = eigenvectors * np.sqrt(eigenvalues)
    Z = _generator(seed).standard_normal((n_paths, n_dates, spot.shape[0]))
    steps = np.cumsum(math.sqrt(dt) * Z @ L.T, axis=1)
    return S0[0] + np.concatenate([np.zeros((n_paths, 1, spot.shape[0])), steps], 1)


def hedge_pnl(
    paths: ArrayLike,
    delta: Callable[[np.ndarray, float], np.ndarray],
    maturity: float,
    initial_price: float,
    payoff: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """The P&L at maturity of selling a claim and delta hedging it along paths.

    Parameters
    ----------
    paths : array_like, shape (n_paths, n_dates + 1, d)
        Asset prices at the equally spaced dates ``t_k = k T / n_dates``.
    delta : callable
        ``delta(spots, tau)`` with ``spots`` of shape ``(n_paths, d)`` and
        ``tau = T - t_k`` a float returns the holdings, shape ``(n_paths, d)``.
    maturity : float
        ``T``, the time from the first date to the last.
    initial_price : float
        ``V_0``, what the claim is sold for.
    payoff : callable
        ``payoff(final_spots)`` of shape ``(n_paths,)`` from ``(n_paths, d)``.

    Returns
    -------
    ndarray, shape (n_paths,)
        ``V_0 - payoff(S_T) + sum_k delta(S_{t_k}, T - t_k) . (S_{t_{k+1}} - S_{t_k})``.
    """
    S = as_float_array(paths, "paths").astype(np.float64)
    check_ndim(S, "paths", (3,), "(n_paths, n_dates + 1, d)")
    if S.shape[1] < 2:
        raise ValueError(f"paths must hold at least two dates, got shape {S.shape}")
    T = _positive(maturity, "maturity")
    pnl = np.full(S.shape[0], _finite(initial_price, "initial_price"))
    n_dates = S.shape[1] - 1
    for k in range(n_dates):
        holdings = np.asarray(delta(S[:, k], T * (n_dates - k) / n_dates), float)
        if holdings.shape != S[:, k].shape:
            raise ValueError(
                f"delta must return shape {S[:, k].shape} (one holding per asset "
                f"and path), got shape {holdings.shape}"
            )
        pnl += np.sum(holdings * (S[:, k + 1] - S[:, k]), axis=1)
    final = np.asarray(payoff(S[:, -1]), float)
    if final.shape != pnl.shape:
        raise ValueError(
            f"payoff must return shape {pnl.shape}, got shape {final.shape}"
        )
    return pnl - final


def _maturities(maturities, n: int) -> np.ndarray:
    tau = _positive_array(maturities, "maturities")
    if tau.shape != (n,):
        raise ValueError(
            f"maturities must have shape ({n},) like the spots' rows, got shape "
            f"{tau.shape}"
        )
    return tau
