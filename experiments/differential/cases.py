"""One case of each recorded experiment: data, training, test errors (chapter 10).

Every function takes plain numbers and returns a dict of plain numbers, so
that the runner can hand cases to worker processes and write the results as
JSON. Errors are root mean squares over the test set, times 100 as the
notebooks print them (prices in units of the spot, 1).
"""

from __future__ import annotations

import math
import time

import numpy as np

import relunet as rn
from differential.settings import (
    BASKET,
    BLACK_SCHOLES,
    CANDIDATES,
    HEDGING,
    PAPER,
    paper_batch_size,
)
from relunet import hedging as hd
from relunet import montecarlo as mc
from relunet.regression import DifferentialPCA
from relunet.training import train_twin

METHODS = ("standard", "differential")


def seed_of(*parts: int) -> int:
    """A seed for one repetition of one case, from small integers."""
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


def train(x, y, dydx, method: str, config: dict, seed: int):
    """``train_twin`` with ``config`` (a dict of its arguments, with the
    notebooks' mini-batch rule when ``paper_batch``); returns the network and
    the seconds it took."""
    arguments = {k: v for k, v in config.items() if k != "paper_batch"}
    if config.get("paper_batch"):
        arguments["batch_size"] = paper_batch_size(x.shape[0])
    start = time.perf_counter()
    net = train_twin(
        x, y, dydx if method == "differential" else None, seed=seed, **arguments
    )
    return net, time.perf_counter() - start


def train_paper(x, y, dydx, size, method, seed_parts):
    """``train`` at the notebooks' settings on the first ``size`` samples, seeded by
    ``seed_of(*seed_parts, size)``."""
    return train(
        x[:size],
        y[:size],
        dydx[:size],
        method,
        {**PAPER, "paper_batch": True},
        seed_of(*seed_parts, size),
    )


def rmse(a, b) -> float:
    return 100.0 * math.sqrt(float(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def black_scholes_case(repetition: int, sizes=None, keep_curve=False) -> list[dict]:
    """Both methods at every size (or at ``sizes``), on one nested training set.

    With ``keep_curve``, repetition 0 also keeps the predicted values and
    deltas at the test spots (the chapter's picture).
    """
    s = BLACK_SCHOLES
    sizes = sizes or s["sizes"]
    x, y, dydx = mc.two_date_black_scholes(
        max(s["sizes"]),  # the largest set, of which every size is the start
        strike=s["strike"],
        vol=s["vol"],
        t1=s["t1"],
        t2=s["t2"],
        seed=seed_of(1, repetition),
    )
    test = mc.black_scholes_test_spots()
    truth = mc.black_scholes(test[:, 0], s["strike"], s["vol"], s["t2"] - s["t1"])
    rows = []
    for size in sizes:
        for method in METHODS:
            net, seconds = train_paper(x, y, dydx, size, method, (2, repetition))
            value, delta = net.predict(test), net.gradient(test)[:, 0]
            row = {
                "repetition": repetition,
                "size": size,
                "method": method,
                "value_rmse": rmse(value, truth.price),
                "delta_rmse": rmse(delta, truth.delta),
                "seconds": seconds,
            }
            if keep_curve and repetition == 0:
                row["value"], row["delta"] = value.tolist(), delta.tolist()
            rows.append(row)
    return rows


def basket_case(dimension: int, repetition: int, sizes=None, keep_curve=False):
    """Both methods at every size of ``dimension`` (or at ``sizes``), on one nested
    training set; with ``keep_curve``, repetition 0 keeps 1,024 test points'
    basket values, predictions and first deltas at the smallest size.
    """
    s = BASKET
    sizes = sizes or s["sizes"][dimension]
    basket = mc.random_basket(dimension, seed=dimension)
    tau = s["t2"] - s["t1"]
    x, y, dydx = mc.two_date_bachelier_basket(
        max(s["sizes"][dimension]),  # every size is the start of the largest set
        basket,
        strike=s["strike"],
        t1=s["t1"],
        t2=s["t2"],
        seed=seed_of(3, dimension, repetition),
    )
    test = mc.bachelier_test_spots(
        s["test_size"], dimension, seed=seed_of(4, dimension)
    )
    truth = mc.bachelier_basket(test, basket.weights, s["strike"], basket.cov, tau)
    rows = []
    for size in sizes:
        for method in METHODS:
            net, seconds = train_paper(
                x, y, dydx, size, method, (5, dimension, repetition)
            )
            value, gradient = net.predict(test), net.gradient(test)
            row = {
                "dimension": dimension,
                "repetition": repetition,
                "size": size,
                "method": method,
                "value_rmse": rmse(value, truth.price),
                # the notebooks' delta: to the first asset
                "delta_rmse": rmse(gradient[:, 0], truth.delta[:, 0]),
                # every component: the root mean square of the gradient's error
                "gradient_rmse": rmse(gradient, truth.delta),
                "seconds": seconds,
            }
            if keep_curve and repetition == 0 and size == min(sizes):
                keep = slice(0, 1024)
                row["basket"] = (test[keep] @ basket.weights).tolist()
                row["value"] = value[keep].tolist()
                row["delta"] = gradient[keep, 0].tolist()
            rows.append(row)
    return rows


def candidate_case(name: str, dimension: int, repetition: int, size: int) -> list:
    """One candidate default of train_twin on the basket, both methods."""
    s = BASKET
    basket = mc.random_basket(dimension, seed=dimension)
    x, y, dydx = mc.two_date_bachelier_basket(
        size, basket, strike=s["strike"], seed=seed_of(6, dimension, repetition, size)
    )
    test = mc.bachelier_test_spots(
        s["test_size"], dimension, seed=seed_of(4, dimension)
    )
    truth = mc.bachelier_basket(
        test, basket.weights, s["strike"], basket.cov, s["t2"] - s["t1"]
    )
    rows = []
    for method in METHODS:
        net, seconds = train(
            x, y, dydx, method, CANDIDATES[name], seed_of(7, dimension, repetition)
        )
        rows.append(
            {
                "candidate": name,
                "dimension": dimension,
                "size": size,
                "repetition": repetition,
                "method": method,
                "value_rmse": rmse(net.predict(test), truth.price),
                "gradient_rmse": rmse(net.gradient(test), truth.delta),
                "seconds": seconds,
            }
        )
    return rows


def gamma_case(size: int, repetition: int) -> list:
    """Black-Scholes gamma from the twin network (``relunet.hessian``), train_twin's
    defaults, both methods; with the curve on the test spots for repetition 0."""
    s = BLACK_SCHOLES
    x, y, dydx = mc.two_date_black_scholes(size, seed=2000 + repetition)
    test = mc.black_scholes_test_spots()
    truth = mc.black_scholes(test[:, 0], s["strike"], s["vol"], s["t2"] - s["t1"])
    rows = []
    for method in METHODS:
        net, seconds = train(x, y, dydx, method, {}, repetition)
        gamma = rn.hessian(test, net.layers)[:, 0, 0, 0]
        row = {
            "size": size,
            "repetition": repetition,
            "method": method,
            "gamma_rmse": rmse(gamma, truth.gamma),
            "gamma_scale": rmse(truth.gamma, 0.0),
            "seconds": seconds,
        }
        if repetition == 0:
            row["gamma"] = gamma.tolist()
        rows.append(row)
    return rows


# --- The axes that matter (chapter 11) --------------------------------------------


def spread_basket():
    """Chapter 11's basket and strike: ten assets of one sector (volatility 0.2,
    correlation 0.8, the first two 0.99), a call on the spread of the first two
    plus 0.02 of every asset, struck at its value today (every spot at 1)."""
    d = 10
    correlation = np.full((d, d), 0.8)
    np.fill_diagonal(correlation, 1.0)
    correlation[0, 1] = correlation[1, 0] = 0.99
    weights = np.full(d, 0.02)
    weights[:2] += [1.0, -1.0]
    basket = mc.Basket(weights=weights, vols=np.full(d, 0.2), correlation=correlation)
    return basket, float(weights.sum())


def axes_case(size: int, repetition: int) -> list:
    """train_twin (its defaults), both methods, on all inputs and on the one axis
    of differential PCA; the test errors on chapter 11's test states."""
    basket, strike = spread_basket()
    x, y, z = mc.two_date_bachelier_basket(
        size, basket, strike=strike, seed=1000 * repetition + size
    )
    test_x, _, _ = mc.two_date_bachelier_basket(
        4096, basket, strike=strike, vol_multiplier=1.0, seed=999
    )
    test_price = mc.bachelier_basket(test_x, basket.weights, strike, basket.cov, 1.0)
    test_price = test_price.price
    dpca = DifferentialPCA(relevance=0.99).fit(x, z)
    inputs = {
        "all inputs": (x, z, test_x),
        "differential PCA axis": (
            dpca.transform(x),
            dpca.transform_gradient(z),
            dpca.transform(test_x),
        ),
    }
    rows = []
    for name, (xr, zr, test_r) in inputs.items():
        for method in METHODS:
            net, seconds = train(xr, y, zr, method, {}, repetition)
            prediction = net.predict(test_r)
            rows.append(
                {
                    "size": size,
                    "repetition": repetition,
                    "inputs": name,
                    "method": method,
                    "value_rmse": rmse(prediction, test_price),
                    "price_spread": 100 * float(test_price.std()),
                    # a network stuck at a constant would decide a mean of five
                    "collapsed": bool(prediction.std() < 0.1 * test_price.std()),
                    "seconds": seconds,
                }
            )
    return rows


# --- Hedging -------------------------------------------------------------------


def hedging_model(dimension: int):
    """The market of the hedging experiment: closed forms and simulators.

    Dimension 1 is Black-Scholes; above, the Bachelier basket of that
    dimension (seed = the dimension), every asset starting at 1.
    """
    h = HEDGING
    K = h["strike"]
    if dimension == 1:
        vol = h["vol"]
        return {
            "closed": lambda S, tau: mc.black_scholes(S[:, 0], K, vol, tau),
            "delta": lambda S, tau: mc.black_scholes(S, K, vol, tau).delta,
            "labels": lambda S, tau, seed: hd.simulate_black_scholes_surface(
                S[:, 0], tau, K, vol, seed
            ),
            "states": lambda t, Z: np.exp(
                -0.5 * (1.5 * vol) ** 2 * t + 1.5 * vol * np.sqrt(t) * Z
            ),
            "paths": lambda n, dates, seed: hd.black_scholes_paths(
                n, dates, 1.0, vol, h["maturity"], seed
            ),
            "payoff": lambda S: np.maximum(S[:, 0] - K, 0.0),
        }
    basket = mc.random_basket(dimension, seed=dimension)
    w, cov = basket.weights, basket.cov
    root = np.linalg.cholesky(cov)
    return {
        "closed": lambda S, tau: mc.bachelier_basket(S, w, K, cov, tau),
        "delta": lambda S, tau: mc.bachelier_basket(S, w, K, cov, tau).delta,
        "labels": lambda S, tau, seed: hd.simulate_bachelier_surface(
            S, tau, w, K, cov, seed
        ),
        "states": lambda t, Z: 1.0 + 1.5 * np.sqrt(t)[:, None] * Z @ root.T,
        "paths": lambda n, dates, seed: hd.bachelier_paths(
            n, dates, np.ones(dimension), cov, h["maturity"], seed
        ),
        "payoff": lambda S: np.maximum(S @ w - K, 0.0),
    }


def hedging_case(
    dimension: int, repetition: int, size=None, dates=None, n_paths=None
) -> list:
    """Train both methods on (spots, time to maturity); hedge with each delta.

    The training states at time ``t = T - tau`` are drawn as the paths would
    reach them with 1.5 times the volatility, over at least a tenth of the
    year, so that every date's spots are covered. Returns one row per method
    and number of dates (with the closed-form delta as a third method): the
    P&L's mean and standard deviation, and the test error of the learned
    delta along the hedging paths.
    """
    h = HEDGING
    size, dates = size or h["training_size"], dates or h["dates"]
    if any(max(dates) % n for n in dates):
        raise ValueError(f"every number of dates must divide the largest: {dates}")
    model = hedging_model(dimension)
    rng = np.random.default_rng(seed_of(8, dimension, repetition))
    tau = rng.uniform(h["shortest"], h["maturity"], size)
    Z = rng.standard_normal((size, dimension))
    t = np.maximum(h["maturity"] - tau, 0.1)
    S = model["states"](t, Z[:, 0] if dimension == 1 else Z)
    S = S[:, None] if dimension == 1 else S
    payoff, gradient = model["labels"](S, tau, rng)
    x = np.column_stack([S, tau])
    nets = {}
    for method in METHODS:
        nets[method], _ = train(
            x,
            payoff,
            gradient,
            method,
            {**PAPER, "paper_batch": True},
            seed_of(9, dimension, repetition),
        )
    price = float(model["closed"](np.ones((1, dimension)), h["maturity"]).price[0])
    n_paths = n_paths or h["paths"]
    paths = model["paths"](n_paths, max(dates), seed_of(10, dimension, repetition))
    deltas = {"closed form": model["delta"]}
    for method, net in nets.items():
        deltas[method] = lambda S, tau, net=net: net.gradient(
            np.column_stack([S, np.full(S.shape[0], tau)])
        )[:, :dimension]
    rows = []
    for n_dates in dates:
        sub = paths[:, :: max(dates) // n_dates]
        for method, delta in deltas.items():
            pnl = hd.hedge_pnl(sub, delta, h["maturity"], price, model["payoff"])
            error = _delta_error(sub, delta, model["delta"], h["maturity"])
            rows.append(
                {
                    "dimension": dimension,
                    "repetition": repetition,
                    "dates": n_dates,
                    "method": method,
                    "pnl_mean": float(pnl.mean()),
                    "pnl_std": float(pnl.std()),
                    "delta_rmse": error,
                }
            )
    return rows


def _delta_error(paths, delta, closed, maturity) -> float:
    """RMSE x 100 of a delta against the closed form at every date of the paths."""
    n_dates = paths.shape[1] - 1
    errors = [
        delta(paths[:, k], maturity * (n_dates - k) / n_dates)
        - closed(paths[:, k], maturity * (n_dates - k) / n_dates)
        for k in range(n_dates)
    ]
    return rmse(np.stack(errors), 0.0)
