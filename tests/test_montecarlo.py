"""relunet.montecarlo: closed forms, unbiased simulation, pathwise derivatives."""

import math

import numpy as np
import pytest

from relunet import montecarlo as mc

K, VOL, T = 100.0, 0.2, 1.0
COV = 0.04 * np.array([[1.0, 0.5, 0.2], [0.5, 2.0, 0.3], [0.2, 0.3, 1.5]])
W = np.array([0.5, 0.3, 0.2])


def test_black_scholes_at_the_money_by_hand():
    # With S = K and r = 0: d1 = vol sqrt(T) / 2, price = S (2 N(d1) - 1).
    d1 = VOL * math.sqrt(T) / 2
    N = 0.5 * (1 + math.erf(d1 / math.sqrt(2)))
    value = mc.black_scholes(100.0, K, VOL, T)
    assert float(value.price) == pytest.approx(100 * (2 * N - 1), rel=1e-14)
    assert float(value.delta) == pytest.approx(N, rel=1e-14)
    assert float(value.gamma) == pytest.approx(
        math.exp(-d1 * d1 / 2) / math.sqrt(2 * math.pi) / (100 * VOL), rel=1e-14
    )
    assert float(value.price) == pytest.approx(
        7.965567455405804, rel=1e-12
    )  # a published reference value


def test_black_scholes_sensitivities_by_finite_differences():
    S = np.linspace(60, 160, 21)
    h = 1e-3
    up, down, mid = (mc.black_scholes(S + s, K, VOL, T) for s in (h, -h, 0.0))
    np.testing.assert_allclose(
        (up.price - down.price) / (2 * h), mid.delta, rtol=1e-7, atol=1e-10
    )
    np.testing.assert_allclose(
        (up.delta - down.delta) / (2 * h), mid.gamma, rtol=1e-6, atol=1e-10
    )
    assert mid.price.shape == mid.delta.shape == mid.gamma.shape == S.shape


def test_bachelier_basket_against_quadrature():
    spots = np.array([[1.0, 1.1, 0.9], [2.0, 1.0, 0.5]])
    strike = 1.05
    value = mc.bachelier_basket(spots, W, strike, COV, T)
    # E max(B + s Z - K, 0) by the trapezoid rule on a fine grid (the kink costs
    # O(h^2)).
    z = np.linspace(-12, 12, 400_001)
    density = np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    s = math.sqrt(T * W @ COV @ W)
    for row, price in zip(spots, value.price):
        expected = np.trapezoid(np.maximum(row @ W + s * z - strike, 0) * density, z)
        assert price == pytest.approx(expected, rel=1e-7)
    h = 1e-6
    for j in range(3):
        bump = np.zeros(3)
        bump[j] = h
        central = (
            mc.bachelier_basket(spots + bump, W, strike, COV, T).price
            - mc.bachelier_basket(spots - bump, W, strike, COV, T).price
        ) / (2 * h)
        np.testing.assert_allclose(central, value.delta[:, j], rtol=1e-7, atol=1e-9)
    assert value.delta.shape == (2, 3) and mc.bachelier_basket(
        spots[0], W, strike, COV, T
    ).delta.shape == (3,)


def test_black_scholes_simulation_is_unbiased():
    n = 200_000
    payoff, delta = mc.simulate_black_scholes(np.full(n, 105.0), K, VOL, T, seed=11)
    value = mc.black_scholes(105.0, K, VOL, T)
    assert abs(payoff.mean() - value.price) < 4 * payoff.std() / math.sqrt(n)
    assert abs(delta.mean() - value.delta) < 4 * delta.std() / math.sqrt(n)


def test_bachelier_simulation_is_unbiased():
    n = 200_000
    spots = np.tile([1.0, 1.1, 0.9], (n, 1))
    payoff, gradient = mc.simulate_bachelier_basket(spots, W, 1.0, COV, T, seed=12)
    value = mc.bachelier_basket(spots[0], W, 1.0, COV, T)
    assert abs(payoff.mean() - value.price) < 4 * payoff.std() / math.sqrt(n)
    for j in range(3):
        assert (
            abs(gradient[:, j].mean() - value.delta[j])
            < 4 * gradient[:, j].std() / math.sqrt(n) + 1e-15
        )


def test_black_scholes_pathwise_delta_is_bump_and_revalue():
    spots = np.linspace(60, 160, 1000)
    h = 1e-4
    payoff, delta = mc.simulate_black_scholes(spots, K, VOL, T, seed=3)
    up, _ = mc.simulate_black_scholes(
        spots + h, K, VOL, T, seed=3
    )  # the same normal draws
    down, _ = mc.simulate_black_scholes(spots - h, K, VOL, T, seed=3)
    terminal, _ = mc.simulate_black_scholes(
        spots, 1e-9, VOL, T, seed=3
    )  # S_T itself, same draws
    away = np.abs(terminal + 1e-9 - K) > 0.01  # no bump moves S_T across the strike
    np.testing.assert_allclose(
        ((up - down) / (2 * h))[away], delta[away], rtol=1e-6, atol=1e-9
    )
    assert away.mean() > 0.99 and 0 < np.mean(delta[away] > 0) < 1


def test_bachelier_pathwise_gradient_is_bump_and_revalue():
    rng = np.random.default_rng(4)
    spots = rng.uniform(0.5, 1.5, size=(1000, 3))
    h = 1e-6
    payoff, gradient = mc.simulate_bachelier_basket(spots, W, 1.0, COV, T, seed=5)
    for j in range(3):
        bump = np.zeros(3)
        bump[j] = h
        up, _ = mc.simulate_bachelier_basket(spots + bump, W, 1.0, COV, T, seed=5)
        down, _ = mc.simulate_bachelier_basket(spots - bump, W, 1.0, COV, T, seed=5)
        away = (payoff > 1e-4) | ((up == 0) & (down == 0))
        np.testing.assert_allclose(
            ((up - down) / (2 * h))[away], gradient[away, j], rtol=1e-6, atol=1e-8
        )


def test_same_seed_same_draws_whatever_the_spots():
    a, _ = mc.simulate_black_scholes(np.full(5, 100.0), K, VOL, T, seed=9)
    b, _ = mc.simulate_black_scholes(
        np.full(5, 100.0), K, VOL, T, seed=np.random.default_rng(9)
    )
    np.testing.assert_array_equal(a, b)
    # With a tiny strike every path ends in the money and the payoff is S_T: doubling
    # the spot doubles every path, draw by draw.
    low, _ = mc.simulate_black_scholes(np.full(5, 100.0), 1e-9, VOL, T, seed=9)
    high, _ = mc.simulate_black_scholes(np.full(5, 200.0), 1e-9, VOL, T, seed=9)
    np.testing.assert_allclose(high + 1e-9, 2 * (low + 1e-9), rtol=1e-14)
    x1, _ = mc.simulate_bachelier_basket(np.ones((4, 3)), W, 0.0, COV, T, seed=2)
    x2, _ = mc.simulate_bachelier_basket(np.ones((4, 3)), W, 0.0, COV, T, seed=2)
    np.testing.assert_array_equal(x1, x2)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: mc.black_scholes(100.0, K, 0.0, T), "vol must be positive"),
        (lambda: mc.black_scholes(100.0, K, VOL, -1.0), "maturity must be positive"),
        (lambda: mc.black_scholes(-5.0, K, VOL, T), "spot must be positive"),
        (
            lambda: mc.simulate_black_scholes(np.ones((2, 2)), K, VOL, T, 0),
            r"spots must have shape \(n,\)",
        ),
        (
            lambda: mc.bachelier_basket(np.ones(3), W, 1.0, np.eye(2), T),
            r"cov must have shape \(3, 3\)",
        ),
        (
            lambda: mc.bachelier_basket(
                np.ones(3), W, 1.0, np.array([[1, 2, 0], [0, 1, 0], [0, 0, 1.0]]), T
            ),
            "cov must be symmetric",
        ),
        (
            lambda: mc.bachelier_basket(
                np.ones(3), W, 1.0, np.diag([1.0, -1.0, 1.0]), T
            ),
            "positive semi-definite",
        ),
        (
            lambda: mc.bachelier_basket(np.ones(2), W, 1.0, COV, T),
            "spots must have 3 columns",
        ),
        (
            lambda: mc.simulate_bachelier_basket(np.ones(3), W, 1.0, COV, T, 0),
            r"spots must have shape \(n, 3\)",
        ),
        (
            lambda: mc.simulate_bachelier_basket(np.ones((2, 3)), W, 1.0, COV, 0.0, 0),
            "maturity must be positive",
        ),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_seed_must_be_an_int_or_a_generator():
    with pytest.raises(
        TypeError, match="seed must be an int or a numpy.random.Generator, got float"
    ):
        mc.simulate_black_scholes(np.ones(2), K, VOL, T, seed=1.5)
    with pytest.raises(TypeError, match="seed must be an int .* got str '3'"):
        mc.simulate_bachelier_basket(np.ones((2, 3)), W, 1.0, COV, T, seed="3")


@pytest.mark.parametrize("seed", [-1, np.int64(-5), np.array(-2)])
def test_negative_seeds_are_named(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer, got -"):
        mc.simulate_black_scholes(np.ones(2), K, VOL, T, seed=seed)
    with pytest.raises(ValueError, match="seed must be a non-negative integer, got -"):
        mc.simulate_bachelier_basket(np.ones((2, 3)), W, 1.0, COV, T, seed=seed)


def test_zero_d_arrays_are_scalars_everywhere():
    """Strike, vol, maturity and seed accept 0-d arrays, as numbers."""
    as_0d = np.array
    expected = mc.black_scholes(100.0, K, VOL, T)
    value = mc.black_scholes(as_0d(100.0), as_0d(K), as_0d(VOL), as_0d(T))
    np.testing.assert_array_equal(value.price, expected.price)
    a = mc.simulate_black_scholes(np.ones(3), as_0d(K), as_0d(VOL), as_0d(T), 4)
    b = mc.simulate_black_scholes(np.ones(3), K, VOL, T, as_0d(4))
    np.testing.assert_array_equal(a[0], b[0])
    c = mc.bachelier_basket(np.ones(3), W, as_0d(1.0), COV, as_0d(T))
    np.testing.assert_array_equal(
        c.price, mc.bachelier_basket(np.ones(3), W, 1, COV, T).price
    )
    d = mc.simulate_bachelier_basket(np.ones((2, 3)), W, as_0d(0), COV, as_0d(1), 7)
    e = mc.simulate_bachelier_basket(np.ones((2, 3)), W, 0.0, COV, 1.0, as_0d(7))
    np.testing.assert_array_equal(d[0], e[0])
    # Arrays of several values and non-numbers stay refused, naming the argument.
    with pytest.raises(TypeError, match="strike must be a real number, got ndarray"):
        mc.black_scholes(100.0, np.array([K, K]), VOL, T)
    with pytest.raises(TypeError, match="vol must be a real number, got str"):
        mc.black_scholes(100.0, K, "0.2", T)
    with pytest.raises(ValueError, match="maturity must be finite, got nan"):
        mc.black_scholes(100.0, K, VOL, np.array(np.nan))


# --- Covariance: one check, relative to the scale of cov -----------------------


@pytest.mark.parametrize(
    "function",
    [
        lambda cov: mc.bachelier_basket(np.ones(2), [1.0, 1.0], 1.0, cov, 1.0),
        lambda cov: mc.simulate_bachelier_basket(
            np.ones((4, 2)), [1.0, 1.0], 1.0, cov, 1.0, 0
        ),
    ],
)
def test_a_small_covariance_is_judged_by_its_own_scale(function):
    # An eigenvalue of -5e-11 against a largest of 5e-11 in magnitude is not
    # rounding: both functions refuse it (it used to pass an absolute check,
    # then fail with "math domain error", or be clipped silently).
    with pytest.raises(ValueError, match="cov must be positive semi-definite"):
        function(np.diag([1e-12, -5e-11]))
    with pytest.raises(ValueError, match="cov must be symmetric"):
        function(np.array([[1e-12, 1e-13], [0.0, 1e-12]]))
    # The same matrices scaled up are refused too; a PSD matrix of any scale
    # passes, and one whose negative eigenvalue is rounding-sized is accepted.
    with pytest.raises(ValueError, match="cov must be positive semi-definite"):
        function(np.diag([1.0, -50.0]))
    for scale in (1e-12, 1.0, 1e12):
        function(scale * np.array([[2.0, 1.0], [1.0, 2.0]]))
    function(np.diag([1.0, -1e-15]))


def test_a_rounding_sized_negative_eigenvalue_is_set_to_zero():
    # cov = v v^T built in floating point: rank one, its zero eigenvalue may
    # come out slightly negative; the simulation uses it as 0.
    v = np.array([0.3, 0.7, 0.1])
    cov = np.outer(v, v)
    payoff, _ = mc.simulate_bachelier_basket(np.ones((5, 3)), W, 0.0, cov, T, 1)
    assert np.all(np.isfinite(payoff))


# --- Black-Scholes at extreme volatility -------------------------------------


@pytest.mark.parametrize("sd", [1e100, 1e154, 1e155, 1e200, 1e300])
def test_black_scholes_tends_to_the_spot_as_volatility_grows(sd):
    # vol sqrt(T) above ~1e154 used to overflow when squared: price 0 or negative.
    spots = np.array([50.0, 100.0, 150.0])
    value = mc.black_scholes(spots, K, sd, 1.0)
    np.testing.assert_allclose(value.price, spots, rtol=1e-12)
    np.testing.assert_array_equal(value.delta, 1.0)
    assert np.all(value.gamma >= 0)


def test_black_scholes_prices_stay_within_no_arbitrage_bounds():
    spots = np.geomspace(1e-3, 1e5, 401)
    for sd in np.geomspace(1e-8, 1e300, 60):
        price = mc.black_scholes(spots, K, float(sd), 1.0).price
        assert np.all(price >= np.maximum(spots - K, 0.0)) and np.all(price <= spots)


def test_black_scholes_refuses_a_total_volatility_that_underflows():
    with pytest.raises(ValueError, match="vol \\* sqrt\\(maturity\\) underflows to 0"):
        mc.black_scholes(100.0, K, 1e-300, 1e-300)
