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


# --- The experiments of Huge and Savine (2020) ---------------------------------------

STRIKE, TAU = 1.1, 1.0  # the defaults: strike 1.1, t1 = 1, t2 = 2
BASKET = mc.random_basket(4, seed=21)


@pytest.mark.parametrize("d", [1, 2, 7, 30])
def test_random_correlation_is_a_correlation_matrix(d):
    c = mc.random_correlation(d, seed=5)
    assert c.shape == (d, d) and c.dtype == np.float64
    np.testing.assert_array_equal(c, c.T)
    np.testing.assert_array_equal(np.diag(c), 1.0)
    assert np.linalg.eigvalsh(c).min() > -1e-12 and np.all(np.abs(c) <= 1.0)
    np.testing.assert_array_equal(c, mc.random_correlation(d, seed=5))
    np.testing.assert_array_equal(
        c, mc.random_correlation(d, seed=np.random.default_rng(5))
    )
    # The recipe: R uniform on [-1, 1), shape (2d, d); R^T R scaled to unit diagonal.
    R = np.random.default_rng(5).uniform(-1, 1, size=(2 * d, d))
    C = R.T @ R
    np.testing.assert_allclose(
        c, C / np.sqrt(np.outer(np.diag(C), np.diag(C))), rtol=1e-13, atol=1e-15
    )
    if d > 1:
        assert not np.array_equal(c, mc.random_correlation(d, seed=6))


@pytest.mark.parametrize("d, basket_vol", [(1, 0.2), (3, 0.2), (10, 0.2), (10, 0.35)])
def test_random_basket_has_the_basket_volatility_asked_for(d, basket_vol):
    basket = mc.random_basket(d, seed=8, basket_vol=basket_vol)
    w, v, c = basket.weights, basket.vols, basket.correlation
    assert w.shape == v.shape == (d,) and c.shape == basket.cov.shape == (d, d)
    assert math.sqrt(w @ np.diag(v) @ c @ np.diag(v) @ w) == pytest.approx(
        basket_vol, rel=1e-14
    )
    assert basket.basket_vol == pytest.approx(basket_vol, rel=1e-14)
    assert w.sum() == pytest.approx(1.0, abs=1e-14) and np.all(v > 0)
    np.testing.assert_allclose(basket.cov, np.diag(v) @ c @ np.diag(v), rtol=1e-15)
    np.testing.assert_array_equal(basket.cov, basket.cov.T)
    # The draws, in order: correlation, weights on [1, 10), vols on [5, 50), rescaled.
    rng = np.random.default_rng(8)
    np.testing.assert_array_equal(c, mc.random_correlation(d, rng))
    raw_w, raw_v = rng.uniform(1, 10, size=d), rng.uniform(5, 50, size=d)
    np.testing.assert_allclose(w, raw_w / raw_w.sum(), rtol=1e-15)
    np.testing.assert_allclose(v / v[0], raw_v / raw_v[0], rtol=1e-14)
    if d == 1:
        np.testing.assert_array_equal(c, [[1.0]])
        np.testing.assert_array_equal(w, [1.0])
        assert v[0] == pytest.approx(basket_vol, rel=1e-15)


def test_a_basket_is_frozen_and_read_only():
    basket = mc.Basket(weights=[0.5, 0.5], vols=[0.1, 0.3], correlation=np.eye(2))
    np.testing.assert_array_equal(basket.cov, np.diag([0.1 * 0.1, 0.3 * 0.3]))
    with pytest.raises(AttributeError):
        basket.weights = np.ones(2)
    with pytest.raises(ValueError, match="read-only"):
        basket.cov[0, 0] = 1.0
    weights = np.array([0.5, 0.5])
    basket = mc.Basket(weights=weights, vols=[0.1, 0.3], correlation=np.eye(2))
    weights[0] = 2.0  # the caller's array stays theirs, writeable, and copied
    assert basket.weights[0] == 0.5


def _bs_targets(x):
    return mc.black_scholes(x[:, 0], STRIKE, 0.2, TAU)


def _bachelier_targets(x):
    return mc.bachelier_basket(x, BASKET.weights, STRIKE, BASKET.cov, TAU)


def _simulate(model, n, antithetic, seed):
    """Inputs, labels and closed-form targets at the states x."""
    if model == "black_scholes":
        x, y, dydx = mc.two_date_black_scholes(n, antithetic=antithetic, seed=seed)
        target = _bs_targets(x)
        return x, y, dydx, target.price, target.delta[:, None]
    x, y, dydx = mc.two_date_bachelier_basket(
        n, BASKET, antithetic=antithetic, seed=seed
    )
    target = _bachelier_targets(x)
    return x, y, dydx, target.price, target.delta


def _within_4_standard_errors(residual):
    """Column means within 4 standard errors of 0 (plus rounding, for a constant)."""
    n = residual.shape[0]
    return np.all(
        np.abs(residual.mean(axis=0)) <= 4 * residual.std(axis=0) / math.sqrt(n) + 1e-15
    )


@pytest.mark.parametrize("antithetic", [False, True])
@pytest.mark.parametrize("model", ["black_scholes", "bachelier"])
def test_two_date_labels_are_unbiased_for_the_closed_forms(model, antithetic):
    # E[payoff - price(S1)] = 0 and E[derivative - delta(S1)] = 0, since both
    # labels are unbiased given S1; a wrong volatility, maturity or multiplier in
    # the step to T2 shifts these means by many standard errors.
    x, y, dydx, price, delta = _simulate(model, 200_000, antithetic, seed=31)
    assert _within_4_standard_errors(y - price)
    assert _within_4_standard_errors(dydx - delta)
    assert 0.2 < np.mean(y > 0) < 0.8  # the kink is well inside the sample


@pytest.mark.parametrize("antithetic", [False, True])
def test_two_date_labels_are_unbiased_given_the_state(antithetic):
    # Many paths from one state S1, through the private steps to T2.
    n, rng = 100_000, np.random.default_rng(32)
    L = mc._square_root(BASKET.cov)
    for s1 in (0.7, 1.05, 1.5):
        payoff, delta = mc._black_scholes_step(
            np.full(n, s1), rng.standard_normal(n), STRIKE, 0.2, TAU, antithetic
        )
        value = mc.black_scholes(s1, STRIKE, 0.2, TAU)
        assert _within_4_standard_errors(payoff - value.price)
        assert _within_4_standard_errors(delta - value.delta)
        state = np.full((n, 4), s1)
        payoff, gradient = mc._bachelier_step(
            state,
            rng.standard_normal((n, 4)),
            L,
            BASKET.weights,
            STRIKE,
            TAU,
            antithetic,
        )
        value = _bachelier_targets(state[:1])
        assert _within_4_standard_errors(payoff - value.price[0])
        assert _within_4_standard_errors(gradient - value.delta[0])


@pytest.mark.parametrize("model", ["black_scholes", "bachelier"])
def test_antithetic_labels_have_a_smaller_variance(model):
    # The same seed gives the same states; given the state, a call's payoff and
    # derivative are monotone in Z1, so averaging over Z1 and -Z1 does better
    # than two independent paths: less than half the variance of one.
    plain = _simulate(model, 50_000, False, seed=33)
    paired = _simulate(model, 50_000, True, seed=33)
    np.testing.assert_array_equal(plain[0], paired[0])
    for label, target in ((1, 3), (2, 4)):
        residual_plain = plain[label] - plain[target]
        residual_paired = paired[label] - paired[target]
        assert np.all(residual_paired.var(axis=0) < 0.5 * residual_plain.var(axis=0))


@pytest.mark.parametrize("antithetic", [False, True])
def test_two_date_labels_are_the_stated_paths(antithetic):
    # The seed's (2, n) or (2, n, d) normals, Z0 then Z1, through the formulas.
    n, m, vol = 1000, 1.5, 0.2
    x, y, dydx = mc.two_date_black_scholes(n, antithetic=antithetic, seed=34)
    Z0, Z1 = np.random.default_rng(34).standard_normal((2, n))
    S1 = np.exp(-0.5 * (vol * m) ** 2 + vol * m * Z0)
    np.testing.assert_allclose(x[:, 0], S1, rtol=1e-14)
    legs = [S1 * np.exp(-0.5 * vol**2 + vol * Z) for Z in (Z1, -Z1)]
    legs = legs if antithetic else legs[:1]
    payoff = np.mean([np.maximum(S2 - STRIKE, 0) for S2 in legs], axis=0)
    delta = np.mean([(S2 > STRIKE) * S2 / S1 for S2 in legs], axis=0)
    np.testing.assert_allclose(y, payoff, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(dydx[:, 0], delta, rtol=1e-13)

    x, y, dydx = mc.two_date_bachelier_basket(n, BASKET, antithetic=antithetic, seed=35)
    Z0, Z1 = np.random.default_rng(35).standard_normal((2, n, 4))
    eigenvalues, eigenvectors = np.linalg.eigh(BASKET.cov)
    L = eigenvectors * np.sqrt(eigenvalues)
    S1 = 1.0 + m * Z0 @ L.T
    np.testing.assert_allclose(x, S1, rtol=1e-14, atol=1e-15)
    legs = [S1 + Z @ L.T for Z in (Z1, -Z1)]
    legs = legs if antithetic else legs[:1]
    w = BASKET.weights
    payoff = np.mean([np.maximum(S2 @ w - STRIKE, 0) for S2 in legs], axis=0)
    gradient = np.mean([(S2 @ w > STRIKE)[:, None] * w for S2 in legs], axis=0)
    np.testing.assert_allclose(y, payoff, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dydx, gradient, rtol=1e-15)


@pytest.mark.parametrize("antithetic", [False, True])
def test_two_date_derivatives_are_bump_and_revalue(antithetic):
    # Bumping S1 and revaluing with the same Z1 differentiates along the path.
    n, h = 2000, 1e-6
    rng = np.random.default_rng(36)
    S1, Z1 = np.exp(0.3 * rng.standard_normal(n)), rng.standard_normal(n)
    step = lambda s: mc._black_scholes_step(s, Z1, STRIKE, 0.2, TAU, antithetic)
    _, delta = step(S1)
    central = (step(S1 + h)[0] - step(S1 - h)[0]) / (2 * h)
    S2 = S1 * np.exp(-0.02 + 0.2 * np.abs(Z1)[None] * np.array([[1.0], [-1.0]]))
    away = np.all(np.abs(S2 - STRIKE) > 1e-3, axis=0)  # no bump crosses the kink
    np.testing.assert_allclose(central[away], delta[away], rtol=1e-7, atol=1e-9)
    assert away.mean() > 0.98 and 0.1 < np.mean(delta[away] > 0) < 0.9

    S1 = rng.uniform(0.5, 1.5, size=(n, 4))
    Z1 = rng.standard_normal((n, 4))
    L = mc._square_root(BASKET.cov)
    step = lambda s: mc._bachelier_step(
        s, Z1, L, BASKET.weights, STRIKE, TAU, antithetic
    )
    _, gradient = step(S1)
    increment = Z1 @ L.T @ BASKET.weights
    baskets = S1 @ BASKET.weights + np.array([[1.0], [-1.0]]) * increment
    away = np.all(np.abs(baskets - STRIKE) > 1e-3, axis=0)
    for j in range(4):
        bump = np.zeros(4)
        bump[j] = h
        central = (step(S1 + bump)[0] - step(S1 - bump)[0]) / (2 * h)
        np.testing.assert_allclose(
            central[away], gradient[away, j], rtol=1e-7, atol=1e-9
        )
    assert away.mean() > 0.98 and 0.1 < np.mean(gradient[away, 0] > 0) < 0.9


@pytest.mark.parametrize("n, d", [(1, 1), (5, 1), (7, 3)])
def test_two_date_shapes_and_dtypes(n, d):
    x, y, dydx = mc.two_date_black_scholes(n, seed=0)
    assert (x.shape, y.shape, dydx.shape) == ((n, 1), (n,), (n, 1))
    basket = mc.random_basket(d, seed=0)
    xb, yb, dydxb = mc.two_date_bachelier_basket(n, basket, seed=0)
    assert (xb.shape, yb.shape, dydxb.shape) == ((n, d), (n,), (n, d))
    spots = mc.bachelier_test_spots(n, d, seed=0)
    assert spots.shape == (n, d) and mc.black_scholes_test_spots(n).shape == (n, 1)
    for array in (x, y, dydx, xb, yb, dydxb, spots):
        assert array.dtype == np.float64
    # The targets at the states take them as they come.
    assert _bs_targets(x).price.shape == (n,)
    value = mc.bachelier_basket(xb, basket.weights, 1.1, basket.cov, 1.0)
    assert value.price.shape == (n,) and value.delta.shape == (n, d)


def test_two_date_same_seed_same_arrays():
    for simulate in (
        lambda seed: mc.two_date_black_scholes(50, seed=seed),
        lambda seed: mc.two_date_bachelier_basket(50, BASKET, seed=seed),
        lambda seed: (mc.bachelier_test_spots(50, 3, seed),),
    ):
        for a, b in zip(simulate(3), simulate(np.random.default_rng(3))):
            np.testing.assert_array_equal(a, b)
        assert not np.array_equal(simulate(3)[0], simulate(4)[0])
    # A negative spot and strike are fine under normal dynamics.
    x, _, _ = mc.two_date_bachelier_basket(5, BASKET, spot=-1.0, strike=-1.0, seed=0)
    assert np.all(np.isfinite(x))


def test_black_scholes_test_spots_are_an_even_grid():
    spots = mc.black_scholes_test_spots()
    np.testing.assert_array_equal(spots[:, 0], np.linspace(0.35, 1.65, 100))
    assert spots[0, 0] == 0.35 and spots[-1, 0] == 1.65
    np.testing.assert_array_equal(mc.black_scholes_test_spots(1, 0.5, 2.0), [[0.5]])


@pytest.mark.parametrize("lower, upper", [(0.5, 1.5), (0.35, 1.65), (0.1, 0.7)])
def test_bachelier_test_spot_range(lower, upper):
    assert mc._bachelier_test_range(1, lower, upper) == (lower, upper)
    for d in (2, 5, 100):
        a = 1 + 0.5 * math.sqrt((d - 1) * (upper - lower) / 12)
        low, high = mc._bachelier_test_range(d, lower, upper)
        assert low == pytest.approx(1 - (1 - lower) * a, rel=1e-14)
        assert high == pytest.approx(1 + (upper - 1) * a, rel=1e-14)
        assert high - low > upper - lower
    spots = mc.bachelier_test_spots(20_000, 1, seed=1, lower=lower, upper=upper)
    assert lower <= spots.min() < lower + 1e-3 and upper - 1e-3 < spots.max() < upper
    low, high = mc._bachelier_test_range(5, lower, upper)
    np.testing.assert_array_equal(
        mc.bachelier_test_spots(10, 5, 2, lower, upper),
        np.random.default_rng(2).uniform(low, high, size=(10, 5)),
    )


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: mc.random_correlation(0, 0), ValueError, "d must be a positive"),
        (
            lambda: mc.random_correlation(2.0, 0),
            TypeError,
            "d must be a positive .* float",
        ),
        (
            lambda: mc.random_correlation(True, 0),
            TypeError,
            "d must be a positive .* bool",
        ),
        (lambda: mc.random_correlation(2, 1.5), TypeError, "seed must be an int"),
        (
            lambda: mc.random_basket(3, 0, basket_vol=0.0),
            ValueError,
            "basket_vol must be positive",
        ),
        (
            lambda: mc.random_basket(-1, 0),
            ValueError,
            "d must be a positive integer, got -1",
        ),
        (
            lambda: mc.two_date_black_scholes(0, seed=0),
            ValueError,
            "n must be a positive integer, got 0",
        ),
        (
            lambda: mc.two_date_black_scholes(10.0, seed=0),
            TypeError,
            "n must be a positive integer, got float",
        ),
        (
            lambda: mc.two_date_black_scholes(5, spot=0.0, seed=0),
            ValueError,
            "spot must be positive",
        ),
        (
            lambda: mc.two_date_black_scholes(5, strike=-1.0, seed=0),
            ValueError,
            "strike must be positive",
        ),
        (
            lambda: mc.two_date_black_scholes(5, vol=0.0, seed=0),
            ValueError,
            "vol must be positive",
        ),
        (
            lambda: mc.two_date_black_scholes(5, t1=0.0, seed=0),
            ValueError,
            "t1 must be positive",
        ),
        (
            lambda: mc.two_date_black_scholes(5, t2=1.0, seed=0),
            ValueError,
            "t2 must be greater than t1, got t1 = 1.0 and t2 = 1.0",
        ),
        (
            lambda: mc.two_date_black_scholes(5, t1=3.0, seed=0),
            ValueError,
            "t2 must be greater than t1",
        ),
        (
            lambda: mc.two_date_black_scholes(5, vol_multiplier=0.0, seed=0),
            ValueError,
            "vol_multiplier must be positive",
        ),
        (
            lambda: mc.two_date_black_scholes(5, antithetic=1, seed=0),
            TypeError,
            "antithetic must be a bool, got int",
        ),
        (
            lambda: mc.two_date_black_scholes(5, seed="0"),
            TypeError,
            "seed must be an int",
        ),
        (
            lambda: mc.two_date_bachelier_basket(0, BASKET, seed=0),
            ValueError,
            "n must be a positive integer",
        ),
        (
            lambda: mc.two_date_bachelier_basket(5, BASKET.cov, seed=0),
            TypeError,
            "basket must be a Basket, got ndarray",
        ),
        (
            lambda: mc.two_date_bachelier_basket(5, BASKET, spot=np.nan, seed=0),
            ValueError,
            "spot must be finite",
        ),
        (
            lambda: mc.two_date_bachelier_basket(5, BASKET, strike="1", seed=0),
            TypeError,
            "strike must be a real number",
        ),
        (
            lambda: mc.two_date_bachelier_basket(5, BASKET, t1=-1.0, seed=0),
            ValueError,
            "t1 must be positive",
        ),
        (
            lambda: mc.two_date_bachelier_basket(5, BASKET, t2=0.5, seed=0),
            ValueError,
            "t2 must be greater than t1",
        ),
        (
            lambda: mc.two_date_bachelier_basket(
                5, BASKET, vol_multiplier=-1.0, seed=0
            ),
            ValueError,
            "vol_multiplier must be positive",
        ),
        (
            lambda: mc.two_date_bachelier_basket(5, BASKET, antithetic="no", seed=0),
            TypeError,
            "antithetic must be a bool, got str",
        ),
        (
            lambda: mc.black_scholes_test_spots(0),
            ValueError,
            "n must be a positive integer",
        ),
        (
            lambda: mc.black_scholes_test_spots(10, lower=0.0),
            ValueError,
            "lower must be positive",
        ),
        (
            lambda: mc.black_scholes_test_spots(10, 1.0, 1.0),
            ValueError,
            "upper must be greater than lower",
        ),
        (
            lambda: mc.bachelier_test_spots(10, 0, 0),
            ValueError,
            "d must be a positive integer",
        ),
        (
            lambda: mc.bachelier_test_spots(1.5, 2, 0),
            TypeError,
            "n must be a positive integer",
        ),
        (
            lambda: mc.bachelier_test_spots(10, 2, 0, 1.5, 0.5),
            ValueError,
            "upper must be greater than lower",
        ),
        (
            lambda: mc.bachelier_test_spots(10, 2, -1),
            ValueError,
            "seed must be a non-negative",
        ),
        (
            lambda: mc.Basket([[1.0]], [0.2], [[1.0]]),
            ValueError,
            r"weights must have shape \(d,\)",
        ),
        (
            lambda: mc.Basket([], [], np.ones((0, 0))),
            ValueError,
            "weights must hold at least one asset",
        ),
        (
            lambda: mc.Basket([0.5, 0.5], [0.2], np.eye(2)),
            ValueError,
            r"vols must have shape \(2,\)",
        ),
        (
            lambda: mc.Basket([0.5, 0.5], [0.2, -0.1], np.eye(2)),
            ValueError,
            "vols must be non-negative",
        ),
        (
            lambda: mc.Basket([0.5, 0.5], [0.2, 0.1], np.eye(3)),
            ValueError,
            r"correlation must have shape \(2, 2\)",
        ),
        (
            lambda: mc.Basket([0.5, 0.5], [0.2, 0.1], 2 * np.eye(2)),
            ValueError,
            "correlation must have a unit diagonal",
        ),
        (
            lambda: mc.Basket([0.5, 0.5], [0.2, 0.1], [[1.0, 0.5], [0.4, 1.0]]),
            ValueError,
            "correlation must be symmetric",
        ),
        (
            lambda: mc.Basket([0.5, 0.5], [0.2, 0.1], [[1.0, 2.0], [2.0, 1.0]]),
            ValueError,
            "correlation must be positive semi-definite",
        ),
        (
            lambda: mc.Basket([0.5, 0.5], ["a", "b"], np.eye(2)),
            TypeError,
            "vols must hold real numbers",
        ),
    ],
)
def test_two_date_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
