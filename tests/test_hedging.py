"""relunet.hedging: unbiased surface labels, exact paths, the hedge's P&L by hand."""

import math

import numpy as np
import pytest

from relunet import hedging as hd
from relunet import montecarlo as mc

W = np.array([0.5, 0.3, 0.2])
COV = 0.04 * np.array([[1.0, 0.5, 0.2], [0.5, 2.0, 0.3], [0.2, 0.3, 1.5]])


def _within(estimates, truth, z=4.5):
    """The mean of ``estimates`` is within ``z`` standard errors of ``truth``."""
    error = estimates.std() / math.sqrt(estimates.shape[0])
    return abs(estimates.mean() - truth) < z * error


def _maturity_derivative(price, tau, h=1e-5):
    return (price(tau + h) - price(tau - h)) / (2 * h)


def test_black_scholes_surface_labels_are_unbiased():
    n, spot, tau = 200_000, 1.05, 0.7
    payoff, gradient = hd.simulate_black_scholes_surface(
        np.full(n, spot), np.full(n, tau), 1.1, 0.2, seed=3
    )
    closed = mc.black_scholes(spot, 1.1, 0.2, tau)
    theta = _maturity_derivative(
        lambda t: mc.black_scholes(spot, 1.1, 0.2, t).price, tau
    )
    assert payoff.shape == (n,) and gradient.shape == (n, 2)
    assert _within(payoff, closed.price)
    assert _within(gradient[:, 0], closed.delta)
    assert _within(gradient[:, 1], theta)


def test_bachelier_surface_labels_are_unbiased():
    n, tau = 200_000, 0.6
    spots = np.tile([1.0, 1.1, 0.9], (n, 1))
    payoff, gradient = hd.simulate_bachelier_surface(
        spots, np.full(n, tau), W, 1.0, COV, seed=4
    )
    closed = mc.bachelier_basket(spots[0], W, 1.0, COV, tau)
    theta = _maturity_derivative(
        lambda t: mc.bachelier_basket(spots[0], W, 1.0, COV, t).price, tau
    )
    assert gradient.shape == (n, 4)
    assert _within(payoff, closed.price)
    for j in range(3):
        assert _within(gradient[:, j], closed.delta[j])
    assert _within(gradient[:, 3], theta)


def test_surface_gradients_are_bump_and_revalue_along_the_path():
    rng = np.random.default_rng(0)
    spots, tau = rng.uniform(0.6, 1.6, 2000), rng.uniform(0.1, 1.0, 2000)
    h = 1e-7
    simulate = lambda s, t: hd.simulate_black_scholes_surface(s, t, 1.1, 0.2, seed=5)
    payoff, gradient = simulate(spots, tau)
    bumps = [
        (simulate(spots + h, tau)[0] - simulate(spots - h, tau)[0]) / (2 * h),
        (simulate(spots, tau + h)[0] - simulate(spots, tau - h)[0]) / (2 * h),
    ]
    away = payoff > 1e-3  # away from the kink, where a bump may cross it
    for j, bump in enumerate(bumps):
        np.testing.assert_allclose(bump[away], gradient[away, j], rtol=1e-6, atol=1e-8)
    assert np.all(gradient[payoff == 0] == 0)

    basket_spots = rng.uniform(0.8, 1.2, (2000, 3))
    simulate = lambda s, t: hd.simulate_bachelier_surface(s, t, W, 1.0, COV, seed=6)
    payoff, gradient = simulate(basket_spots, tau)
    up, down = simulate(basket_spots, tau + h)[0], simulate(basket_spots, tau - h)[0]
    away = payoff > 1e-3
    np.testing.assert_allclose(
        ((up - down) / (2 * h))[away], gradient[away, 3], rtol=1e-6, atol=1e-8
    )
    np.testing.assert_array_equal(
        gradient[away, :3], np.broadcast_to(W, (away.sum(), 3))
    )


def test_paths_have_the_model_moments():
    paths = hd.black_scholes_paths(100_000, 4, 1.0, 0.2, 1.0, seed=1)
    assert paths.shape == (100_000, 5, 1) and np.all(paths[:, 0] == 1.0)
    assert _within(paths[:, -1, 0], 1.0)  # a martingale at zero rate
    log_returns = np.diff(np.log(paths[:, :, 0]), axis=1)
    assert _within(log_returns[:, 2], -0.5 * 0.04 * 0.25)
    assert abs(log_returns.std() / math.sqrt(0.25) - 0.2) < 0.002

    basket = hd.bachelier_paths(100_000, 3, [1.0, 1.1, 0.9], COV, 1.5, seed=2)
    assert basket.shape == (100_000, 4, 3)
    increments = np.diff(basket, axis=1).reshape(-1, 3)
    np.testing.assert_allclose(np.cov(increments.T) / 0.5, COV, atol=4e-4)


def test_hedge_pnl_by_hand():
    # Two paths, two dates, one asset: V_0 - payoff + delta_0 dS_0 + delta_1 dS_1.
    paths = np.array([[1.0, 1.2, 1.5], [1.0, 0.9, 0.8]])[:, :, None]
    delta = lambda S, tau: np.full_like(S, 0.5 if tau == 1.0 else 0.25)
    payoff = lambda S: np.maximum(S[:, 0] - 1.1, 0.0)
    pnl = hd.hedge_pnl(paths, delta, 1.0, 0.1, payoff)
    expected = [0.1 - 0.4 + 0.5 * 0.2 + 0.25 * 0.3, 0.1 - 0.0 - 0.5 * 0.1 - 0.25 * 0.1]
    np.testing.assert_allclose(pnl, expected, rtol=1e-14)


def test_closed_form_hedge_error_falls_like_one_over_root_n():
    paths = hd.black_scholes_paths(20_000, 64, 1.0, 0.2, 1.0, seed=7)
    price = float(mc.black_scholes(1.0, 1.1, 0.2, 1.0).price)
    delta = lambda S, tau: mc.black_scholes(S, 1.1, 0.2, tau).delta
    payoff = lambda S: np.maximum(S[:, 0] - 1.1, 0.0)
    spread = {
        n: hd.hedge_pnl(paths[:, :: 64 // n], delta, 1.0, price, payoff).std()
        for n in (4, 16, 64)
    }
    assert 1.7 < spread[4] / spread[16] < 2.3 and 1.7 < spread[16] / spread[64] < 2.3
    unhedged = (price - payoff(paths[:, -1])).std()
    assert spread[64] < 0.15 * unhedged


@pytest.mark.parametrize(
    "call, kind, message",
    [
        (lambda: hd.black_scholes_paths(0, 4, 1.0, 0.2, 1.0, 0), ValueError, "n_paths"),
        (
            lambda: hd.black_scholes_paths(10, 2.0, 1.0, 0.2, 1.0, 0),
            TypeError,
            "n_dates",
        ),
        (lambda: hd.black_scholes_paths(10, 2, -1.0, 0.2, 1.0, 0), ValueError, "spot"),
        (
            lambda: hd.simulate_black_scholes_surface([1.0, 2.0], [1.0], 1.0, 0.2, 0),
            ValueError,
            r"maturities must have shape \(2,\)",
        ),
        (
            lambda: hd.simulate_black_scholes_surface([1.0], [0.0], 1.0, 0.2, 0),
            ValueError,
            "maturities must be positive",
        ),
        (
            lambda: hd.simulate_bachelier_surface(
                np.ones((2, 2)), [1, 1], W, 1, COV, 0
            ),
            ValueError,
            "spots must have 3 columns",
        ),
        (
            lambda: hd.hedge_pnl(np.ones((3, 4)), None, 1.0, 0.1, None),
            ValueError,
            r"paths must have shape \(n_paths, n_dates \+ 1, d\)",
        ),
        (
            lambda: hd.hedge_pnl(
                np.ones((3, 4, 1)), lambda S, t: S[:, 0], 1.0, 0.1, lambda S: S[:, 0]
            ),
            ValueError,
            r"delta must return shape \(3, 1\)",
        ),
        (
            lambda: hd.hedge_pnl(
                np.ones((3, 4, 1)), lambda S, t: S, 1.0, 0.1, lambda S: S
            ),
            ValueError,
            r"payoff must return shape \(3,\)",
        ),
    ],
)
def test_bad_input_is_named(call, kind, message):
    with pytest.raises(kind, match=message):
        call()
