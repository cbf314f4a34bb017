"""relunet.regression: differential regression and differential PCA, against
independent formulations (normal equations, finite differences, SVD)."""

import math
import warnings

import numpy as np
import pytest

from relunet.regression import PCA, DifferentialPCA, DifferentialRegression
from relunet.regression import _features as features


def cubic(x):
    """A polynomial of total degree 3 in two inputs, and its gradient."""
    a, b = x[:, 0], x[:, 1]
    y = 1.5 - 2 * a + 0.5 * b + a * a * b - 0.3 * b**3 + 0.7 * a * b
    dydx = np.c_[-2 + 2 * a * b + 0.7 * b, 0.5 + a * a - 0.9 * b * b + 0.7 * a]
    return y, dydx


def sample(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal([1.0, -2.0], [0.5, 3.0], size=(n, 2))
    y, dydx = cubic(x)
    return x, y + 0.1 * rng.standard_normal(n), dydx + 0.1 * rng.normal(size=x.shape)


@pytest.mark.parametrize("alpha", [0.0, 1.0, 2.5])
def test_coefficients_solve_the_normal_equations(alpha):
    x, y, dydx = sample()
    model = DifferentialRegression(degree=3, alpha=alpha).fit(x, y, dydx)
    # The same problem written out by hand: monomials a^p b^q, p + q <= 3, of the
    # standardised inputs, and their derivatives p a^(p-1) b^q, q a^p b^(q-1).
    xs, ys = x.std(axis=0), y.std()
    a, b = ((x - x.mean(axis=0)) / xs).T
    yn, gn = (y - y.mean()) / ys, dydx * xs / ys
    pq = [(p, q) for p in range(4) for q in range(4) if p + q <= 3]
    phi = np.array([a**p * b**q for p, q in pq]).T
    da = np.array([p * a ** max(p - 1, 0) * b**q for p, q in pq]).T
    db = np.array([q * a**p * b ** max(q - 1, 0) for p, q in pq]).T
    lam2 = 1 / np.mean(gn**2, axis=0)
    lhs = phi.T @ phi + alpha * (lam2[0] * da.T @ da + lam2[1] * db.T @ db)
    rhs = phi.T @ yn + alpha * (lam2[0] * da.T @ gn[:, 0] + lam2[1] * db.T @ gn[:, 1])
    expected = dict(zip(pq, np.linalg.solve(lhs, rhs)))
    got = {tuple(p): c for p, c in zip(model.powers_.tolist(), model.coef_)}
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-8, abs=1e-10)
    if alpha == 0:
        assert model.lambda_ is None
    else:
        np.testing.assert_allclose(model.lambda_, np.sqrt(lam2), rtol=1e-12)


def test_without_derivative_labels_is_classic_least_squares():
    x, y, dydx = sample()
    plain = DifferentialRegression(degree=3).fit(x, y)
    ignored = DifferentialRegression(degree=3, alpha=0).fit(x, y, dydx)
    np.testing.assert_allclose(plain.coef_, ignored.coef_, rtol=1e-12, atol=1e-14)
    differential = DifferentialRegression(degree=3).fit(x, y, dydx)
    assert np.max(np.abs(differential.coef_ - plain.coef_)) > 1e-4


@pytest.mark.parametrize("n_in", [1, 3])
def test_gradient_matches_central_differences(n_in):
    rng = np.random.default_rng(n_in)
    x = rng.normal(2.0, [1.0, 5.0, 0.2][:n_in], size=(50, n_in))
    y = np.exp(0.3 * x[:, 0]) + np.sum(np.sin(x), axis=1)
    dydx = np.cos(x)
    dydx[:, 0] += 0.3 * np.exp(0.3 * x[:, 0])
    model = DifferentialRegression(degree=4).fit(x, y, dydx)
    points = rng.normal(2.0, 1.0, size=(7, n_in))
    gradient = model.gradient(points)
    assert gradient.shape == (7, n_in)
    for j in range(n_in):
        h = 1e-5 * model.x_std_[j]
        bump = np.zeros(n_in)
        bump[j] = h
        central = (model.predict(points + bump) - model.predict(points - bump)) / (
            2 * h
        )
        np.testing.assert_allclose(gradient[:, j], central, rtol=1e-6, atol=1e-8)


def test_exact_recovery_of_a_polynomial():
    rng = np.random.default_rng(3)
    x = rng.normal([1.0, -2.0], [0.5, 3.0], size=(30, 2))
    y, dydx = cubic(x)
    model = DifferentialRegression(degree=3).fit(x, y, dydx)
    new = np.vstack([rng.normal(0.0, 3.0, size=(20, 2)), model.x_mean_, [0.0, 0.0]])
    expected_y, expected_dydx = cubic(new)
    scale = np.max(np.abs(expected_y))
    np.testing.assert_allclose(
        model.predict(new), expected_y, rtol=0, atol=1e-9 * scale
    )
    np.testing.assert_allclose(
        model.gradient(new), expected_dydx, rtol=0, atol=1e-9 * scale
    )


def test_feature_derivatives_are_exact_at_zero():
    powers = np.array([[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2], [3, 0]])
    x_n = np.array([[0.0, 0.0], [0.0, 2.0], [-1.5, 0.0]])
    phi, dphi = features(x_n, powers, derivatives=True)
    assert np.all(np.isfinite(dphi))
    # At the origin only the linear monomials have a derivative, 1.
    np.testing.assert_array_equal(phi[0], [1, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(dphi[0, 0], [0, 1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(dphi[1, 0], [0, 0, 1, 0, 0, 0, 0])
    # At (0, 2): d/da of a b is b = 2; at (-1.5, 0): d/da of a^3 is 3 a^2.
    np.testing.assert_array_equal(dphi[0, 1], [0, 1, 0, 0, 2, 0, 0])
    np.testing.assert_array_equal(dphi[1, 1], [0, 0, 1, 0, 0, 4, 0])
    np.testing.assert_array_equal(dphi[0, 2], [0, 1, 0, -3, 0, 0, 6.75])
    np.testing.assert_array_equal(dphi[1, 2], [0, 0, 1, 0, -1.5, 0, 0])


def smooth(x):
    a, b = x[:, 0], x[:, 1]
    y = np.sin(a) + 0.5 * a * b - 0.25 * b * b
    return y, np.c_[np.cos(a) + 0.5 * b, 0.5 * a - 0.5 * b]


@pytest.mark.parametrize("seed", range(5))
def test_derivative_labels_beat_values_alone_on_noisy_labels(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, size=(60, 2))
    y, dydx = smooth(x)
    y = y + rng.normal(scale=0.5, size=y.shape)  # zero-mean noise, like payoffs
    dydx = dydx + rng.normal(scale=0.5, size=dydx.shape)
    x_test = np.random.default_rng(99).uniform(-1.5, 1.5, size=(400, 2))
    truth = smooth(x_test)[0]
    classic = DifferentialRegression(degree=4).fit(x, y)
    differential = DifferentialRegression(degree=4).fit(x, y, dydx)
    rmse_classic = np.sqrt(np.mean((classic.predict(x_test) - truth) ** 2))
    rmse_differential = np.sqrt(np.mean((differential.predict(x_test) - truth) ** 2))
    assert rmse_differential < 0.8 * rmse_classic


@pytest.mark.parametrize("n_in, degree", [(1, 0), (1, 5), (2, 3), (3, 5), (5, 2)])
def test_number_of_features(n_in, degree):
    x = np.random.default_rng(0).normal(size=(100, n_in))
    model = DifferentialRegression(degree=degree).fit(x, x.sum(axis=1) ** 2)
    count = math.comb(n_in + degree, degree)
    assert model.powers_.shape == (count, n_in) and model.coef_.shape == (count,)
    assert len({tuple(p) for p in model.powers_.tolist()}) == count
    assert model.powers_.min() >= 0 and model.powers_.sum(axis=1).max() <= degree
    assert model.powers_[0].tolist() == [0] * n_in  # the constant


def rotation(seed=5):
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(4, 4)))
    return q * np.sign(np.diag(r))


def one_direction_sample(n=500):
    """x with covariance Q diag(10, 5, 1, 0.1) Q^T; y = f(u . x), u = Q[:, 3]."""
    q = rotation()
    x = np.random.default_rng(6).normal(size=(n, 4)) * np.sqrt([10, 5, 1, 0.1]) @ q.T
    u = q[:, 3]
    t = x @ u
    dydx = (np.cos(t) + 2 * t)[:, None] * u  # y = sin(t) + t^2
    return x, dydx, q


def test_differential_pca_finds_the_axis_that_matters():
    x, dydx, q = one_direction_sample()
    u = q[:, 3]
    dpca = DifferentialPCA().fit(x, dydx)
    assert abs(dpca.components_[0] @ u) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(np.abs(dpca.components_[0]), np.abs(u), atol=1e-10)
    assert dpca.relevance_[0] == pytest.approx(1.0, abs=1e-12)
    assert dpca.relevance_.sum() == pytest.approx(1.0, abs=1e-14)
    assert DifferentialPCA(relevance=0.99).fit(x, dydx).components_.shape == (1, 4)
    # The other eigenvalues are rounding errors: one axis explains it all.
    assert DifferentialPCA(relevance=1.0).fit(x, dydx).components_.shape == (1, 4)
    pca = PCA().fit(x)
    assert abs(pca.components_[0] @ q[:, 0]) > 0.99  # the largest variance
    assert abs(pca.components_[0] @ u) < 0.05
    assert pca.relevance_[3] < 0.01  # ... and u the least relevant to PCA


def known_spectrum(n=200, eigenvalues=(0.9, 0.085, 0.01, 0.005)):
    """dydx whose second moment is Q diag(eigenvalues) Q^T exactly."""
    z, _ = np.linalg.qr(np.random.default_rng(7).normal(size=(n, 4)))
    q = rotation(8)
    x = np.random.default_rng(9).normal(size=(n, 4))
    return x, np.sqrt(n) * z * np.sqrt(eigenvalues) @ q.T, q


@pytest.mark.parametrize(
    "relevance, k", [(0.5, 1), (0.9, 1), (0.95, 2), (0.985, 2), (0.99, 3), (1.0, 4)]
)
def test_relevance_picks_the_fewest_components(relevance, k):
    x, dydx, q = known_spectrum()
    dpca = DifferentialPCA(relevance=relevance).fit(x, dydx)
    assert dpca.components_.shape == (k, 4) and dpca.relevance_.shape == (k,)
    np.testing.assert_allclose(
        dpca.eigenvalues_, [0.9, 0.085, 0.01, 0.005][:k], rtol=1e-10
    )
    np.testing.assert_allclose(
        np.abs(dpca.components_ @ q[:, :k]), np.eye(k), atol=1e-10
    )
    assert DifferentialPCA(n_components=k).fit(x, dydx).components_.shape == (k, 4)


def test_differential_pca_against_the_svd_of_the_derivatives():
    x, dydx, _ = one_direction_sample()
    dydx = dydx + np.random.default_rng(1).normal(
        scale=[0.3, 0.1, 0.2, 0.05], size=x.shape
    )
    dpca = DifferentialPCA().fit(x, dydx)
    _, s, vt = np.linalg.svd(dydx / np.sqrt(len(x)))
    np.testing.assert_allclose(dpca.eigenvalues_, s**2, rtol=1e-10)
    np.testing.assert_allclose(
        np.abs(np.sum(dpca.components_ * vt, axis=1)), 1.0, rtol=0, atol=1e-10
    )
    np.testing.assert_allclose(dpca.relevance_, s**2 / np.sum(s**2), rtol=1e-10)


@pytest.mark.parametrize("model", [PCA(), DifferentialPCA()])
def test_components_are_orthonormal_with_signs_fixed_and_round_trip(model):
    x, dydx, _ = known_spectrum()
    x = x * [3.0, 1.0, 0.5, 2.0] + [1.0, -1.0, 0.0, 5.0]
    model.fit(x) if isinstance(model, PCA) else model.fit(x, dydx)
    c = model.components_
    np.testing.assert_allclose(c @ c.T, np.eye(4), atol=1e-12)
    assert np.all(c[np.arange(4), np.argmax(np.abs(c), axis=1)] > 0)
    np.testing.assert_allclose(model.mean_, x.mean(axis=0), rtol=1e-14)
    z = model.transform(x)
    assert z.shape == (200, 4)
    np.testing.assert_allclose(model.inverse_transform(z), x, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", ["PCA", "DifferentialPCA"])
def test_transform_gradient_is_the_chain_rule(kind):
    # y = w . x: in reduced coordinates y(mean + z C) = w . mean + (C w) . z.
    x, dydx, _ = known_spectrum()
    w = np.array([1.0, -2.0, 0.5, 3.0])
    if kind == "PCA":
        dpca = PCA(n_components=2).fit(x)
    else:
        dpca = DifferentialPCA(n_components=2).fit(x, dydx)
    reduced = dpca.transform_gradient(np.tile(w, (5, 1)))
    assert reduced.shape == (5, 2)
    z = np.random.default_rng(2).normal(size=(5, 2))
    h = 1e-6
    for k in range(2):
        bump = np.zeros(2)
        bump[k] = h
        up, down = (dpca.inverse_transform(z + s * bump) @ w for s in (1, -1))
        np.testing.assert_allclose(reduced[:, k], (up - down) / (2 * h), rtol=1e-7)


def test_pca_against_numpy_covariance_and_svd():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 3)) @ np.array([[2, 0, 0], [1, 1, 0], [0.5, -1, 0.3]])
    pca = PCA().fit(x)
    expected = np.linalg.eigvalsh(np.cov(x.T, bias=True))[::-1]
    np.testing.assert_allclose(pca.eigenvalues_, expected, rtol=1e-10)
    np.testing.assert_allclose(pca.relevance_, expected / expected.sum(), rtol=1e-10)
    _, s, vt = np.linalg.svd(x - x.mean(axis=0))
    np.testing.assert_allclose(s**2 / len(x), expected, rtol=1e-10)
    np.testing.assert_allclose(
        np.abs(np.sum(pca.components_ * vt, axis=1)), 1.0, rtol=0, atol=1e-10
    )
    two = PCA(n_components=2).fit(x)
    np.testing.assert_allclose(two.transform(x), pca.transform(x)[:, :2], atol=1e-12)


X, Y = sample()[:2]
DYDX = sample()[2]
FITTED = DifferentialRegression(degree=2).fit(X, Y, DYDX)
AXES = DifferentialPCA(n_components=1).fit(X, DYDX)


def with_column(array, j, value):
    array = array.copy()
    array[:, j] = value
    return array


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: FITTED.fit(X, Y, DYDX[:, :1]), ValueError, r"\(40, 2\) to match x"),
        (lambda: FITTED.fit(X, Y[:-1]), ValueError, r"y must have shape \(40,\)"),
        (lambda: FITTED.fit(X[:, 0], Y), ValueError, r"x must have shape \(n, n_in\)"),
        (lambda: FITTED.predict(X[:, :1]), ValueError, r"\(n, 2\) to match the fitted"),
        (lambda: FITTED.gradient(X[0]), ValueError, r"x must have shape"),
        (
            lambda: FITTED.fit(with_column(X, 0, np.nan), Y),
            ValueError,
            "x must be finite",
        ),
        (lambda: FITTED.fit(X, Y, DYDX * np.inf), ValueError, "dydx must be finite"),
        (lambda: FITTED.fit(X.astype(str), Y), TypeError, "x must hold real numbers"),
        (lambda: DifferentialRegression(degree=2.0), TypeError, "degree must be"),
        (lambda: DifferentialRegression(degree=True), TypeError, "degree must be"),
        (lambda: DifferentialRegression(degree=-1), ValueError, "non-negative"),
        (lambda: DifferentialRegression(alpha=-0.5), ValueError, "alpha must be"),
        (lambda: DifferentialRegression(alpha=np.nan), ValueError, "alpha must be"),
        (lambda: DifferentialRegression(alpha="1"), TypeError, "alpha must be"),
        (lambda: DifferentialRegression().predict(X), RuntimeError, "not fitted"),
        (lambda: DifferentialRegression().gradient(X), RuntimeError, "not fitted"),
        (
            lambda: FITTED.fit(with_column(X, 1, 3.0), Y),
            ValueError,
            r"column\(s\) \[1\]",
        ),
        (lambda: FITTED.fit(X, np.ones(40)), ValueError, "y must vary"),
        (
            lambda: FITTED.fit(X, Y, with_column(DYDX, 0, 0.0)),
            ValueError,
            r"dydx column\(s\) \[0\] are all zero",
        ),
        (lambda: DifferentialPCA(n_components=0), ValueError, "n_components must be"),
        (lambda: DifferentialPCA(n_components=1.5), TypeError, "n_components must be"),
        (lambda: DifferentialPCA(5).fit(X, DYDX), ValueError, r"1\.\.n_in = 1\.\.2"),
        (lambda: PCA(relevance=0), ValueError, r"relevance must lie in \(0, 1\]"),
        (lambda: PCA(relevance=1.01), ValueError, r"relevance must lie in \(0, 1\]"),
        (lambda: PCA(1, relevance=0.9), ValueError, "not both"),
        (lambda: DifferentialPCA().fit(X, DYDX[:-1]), ValueError, r"\(40, 2\)"),
        (lambda: DifferentialPCA().fit(X, 0 * DYDX), ValueError, "dydx is zero"),
        (lambda: PCA().fit(np.ones((5, 2))), ValueError, "variance is zero"),
        (lambda: PCA().transform(X), RuntimeError, "not fitted"),
        (lambda: DifferentialPCA().transform_gradient(X), RuntimeError, "not fitted"),
        (lambda: AXES.transform(X[:, :1]), ValueError, r"\(n, 2\)"),
        (lambda: AXES.inverse_transform(X), ValueError, r"\(n, k\) = \(n, 1\)"),
        (lambda: AXES.transform_gradient(X[:, :1]), ValueError, r"\(n, 2\)"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_all_zero_derivative_column_is_fine_without_derivatives():
    zero = with_column(DYDX, 0, 0.0)
    model = DifferentialRegression(degree=2, alpha=0).fit(X, Y, zero)
    assert model.lambda_ is None and np.all(np.isfinite(model.coef_))


def test_a_rank_deficient_fit_warns():
    x = np.random.default_rng(0).normal(size=(10, 5))
    with pytest.warns(RuntimeWarning, match="rank deficient"):
        DifferentialRegression(degree=3).fit(x, x.sum(axis=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DifferentialRegression(degree=1).fit(x, x.sum(axis=1))  # 6 monomials
