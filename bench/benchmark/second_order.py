"""Second order: ``rn.hessian`` and ``rn.hvp`` against JAX and TensorFlow.

Networks with softplus hidden layers and one linear output, float64. For
every sample, the Hessian of the output with respect to the input, and its
product with a direction ``v``:

- relunet: ``rn.hessian(x, layers)`` and ``rn.hvp(x, layers, v)``;
- JAX, one sample's network ``f``, vmapped and jitted: ``jax.hessian(f)``,
  ``jacfwd(jacrev(f))`` written out (what ``jax.hessian`` is defined as),
  and for the product ``jvp(grad(f))`` (forward over reverse);
- TensorFlow, nested tapes in a ``tf.function``, as a graph and with XLA:
  ``batch_jacobian`` of the input gradient (the Hessian), and the gradient
  of ``grad f . v`` (reverse over reverse, the product).

Every candidate is checked against relunet (relative 1e-10) before timing.
The libraries run on their defaults (both cores); the cores each call kept
busy are measured and recorded.

The arithmetic reference of each relunet function is its own matrix products
and nothing else: the products it runs (every one goes through
``relunet.second_order._product``) are captured with their operands on one
call, then replayed, the same shapes and memory layouts, without the
activations, masks, sums and copies between them; it is timed in the same
rounds.
"""

from __future__ import annotations

import datetime

import jax
import jax.numpy as jnp
import numpy as np
import tensorflow as tf

import relunet as rn
from relunet import second_order as relunet_second_order

from .goals import every_case
from .measure import STATISTIC, measure, threads

jax.config.update("jax_enable_x64", True)

#: name: (widths, batch)
CASES = {
    "8-64-64-1": ([8, 64, 64, 1], 256),
    "32-64-64-1": ([32, 64, 64, 1], 256),
    "64-256-256-1": ([64, 256, 256, 1], 64),
    "128-64-64-1": ([128, 64, 64, 1], 64),
}
HESSIAN_PEERS = (
    "jax_hessian",
    "jax_jacfwd_jacrev",
    "tf_hessian_graph",
    "tf_hessian_xla",
)
HVP_PEERS = ("jax_hvp", "tf_hvp_graph", "tf_hvp_xla")
GOALS = [  # (figure, comparison, bound), on every case
    ("hessian_speed_up_over_best_peer", ">=", 2.0),
    ("hvp_speed_up_over_best_peer", ">=", 2.0),
    ("hessian_time_over_products", "<=", 2.0),
    ("hvp_time_over_products", "<=", 2.0),
]
TOLERANCE = 1e-10


def case_inputs():
    """Every case as (name, layers, x, v), from fixed seeds: He-normal weights,
    biases N(0, 0.1^2), softplus hidden layers, a linear output."""
    for name, (widths, batch) in CASES.items():
        he = rn.he_normal(widths, seed=widths[0], bias_std=0.1)
        layers = [
            rn.Dense(layer.W, layer.b, "linear" if k == len(he) - 1 else "softplus")
            for k, layer in enumerate(he)
        ]
        rng = np.random.default_rng(widths[0])
        x = rng.normal(size=(batch, widths[0]))
        yield name, layers, x, rng.normal(size=x.shape)


def jax_network(layers):
    """The network as a JAX function of one sample, returning its one output."""
    params = [(jnp.asarray(layer.W), jnp.asarray(layer.b)) for layer in layers]

    def f(x):
        a = x
        for W, b in params[:-1]:
            a = jax.nn.softplus(W @ a + b)
        W, b = params[-1]
        return (W @ a + b)[0]

    return f


def tf_network(layers):
    """The network as TensorFlow operations on a batch, shape (batch,)."""
    params = [(tf.constant(layer.W), tf.constant(layer.b)) for layer in layers]

    def f(x):
        a = x
        for W, b in params[:-1]:
            a = tf.nn.softplus(tf.matmul(a, W, transpose_b=True) + b)
        W, b = params[-1]
        return (tf.matmul(a, W, transpose_b=True) + b)[:, 0]

    return f


def peer_functions(layers) -> dict:
    """Every peer as a function of (x) for the Hessian, (x, v) for the product."""
    f, g = jax_network(layers), tf_network(layers)

    def tf_hessian(x):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = g(x)
            gradient = inner.gradient(y, x)
        return outer.batch_jacobian(gradient, x)

    def tf_hvp(x, v):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = g(x)
            along = tf.reduce_sum(inner.gradient(y, x) * v)
        return outer.gradient(along, x)

    def jvp_of_grad(x, v):
        return jax.jvp(jax.grad(f), (x,), (v,))[1]

    return {
        "jax_hessian": jax.jit(jax.vmap(jax.hessian(f))),
        "jax_jacfwd_jacrev": jax.jit(jax.vmap(jax.jacfwd(jax.jacrev(f)))),
        "tf_hessian_graph": tf.function(tf_hessian),
        "tf_hessian_xla": tf.function(tf_hessian, jit_compile=True),
        "jax_hvp": jax.jit(jax.vmap(jvp_of_grad)),
        "tf_hvp_graph": tf.function(tf_hvp),
        "tf_hvp_xla": tf.function(tf_hvp, jit_compile=True),
    }


def products_of(call) -> tuple:
    """The matrix products one run of ``call`` makes, as (a, b) operand pairs
    (views and broadcasts as they were passed, so the replay has their
    layouts)."""
    captured = []
    product = relunet_second_order._product

    def capture(a, b):
        captured.append((a, b))
        return product(a, b)

    relunet_second_order._product = capture
    try:
        call()
    finally:
        relunet_second_order._product = product
    return tuple(captured)


def replay(products: tuple):
    """A call that runs the captured products alone: the arithmetic reference."""

    def run():
        for a, b in products:
            np.matmul(a, b)

    return run


def candidate_calls(layers, x, v) -> dict:
    """relunet, its arithmetic references and every peer as calls without
    arguments (JAX's wait for their result); relunet's and the peers' return
    (batch, n_in, n_in) or (batch, n_in)."""
    functions = peer_functions(layers)
    xj, vj, xt, vt = jnp.asarray(x), jnp.asarray(v), tf.constant(x), tf.constant(v)
    calls = {
        "relunet_hessian": lambda: rn.hessian(x, layers)[:, 0],
        "relunet_hvp": lambda: rn.hvp(x, layers, v)[:, 0],
    }
    for quantity in ("hessian", "hvp"):
        products = products_of(calls[f"relunet_{quantity}"])
        calls[f"products_{quantity}"] = replay(products)
    for name, function in functions.items():
        hvp = name in HVP_PEERS
        if name.startswith("jax"):
            args = (xj, vj) if hvp else (xj,)
            calls[name] = lambda f=function, a=args: f(*a).block_until_ready()
        else:
            args = (xt, vt) if hvp else (xt,)
            calls[name] = lambda f=function, a=args: f(*a)
    return calls


def check_agreement(calls: dict) -> dict:
    """Every peer's result against relunet's: the largest difference relative
    to relunet's largest entry, below TOLERANCE (or AssertionError)."""
    expected = {"hessian": calls["relunet_hessian"](), "hvp": calls["relunet_hvp"]()}
    found = {}
    for name in HESSIAN_PEERS + HVP_PEERS:
        ours = expected["hvp" if name in HVP_PEERS else "hessian"]
        theirs = np.asarray(calls[name]())
        if theirs.shape != ours.shape:
            raise AssertionError(f"{name}: shape {theirs.shape}, want {ours.shape}")
        found[name] = float(np.max(np.abs(theirs - ours)) / np.max(np.abs(ours)))
        if not found[name] < TOLERANCE:
            raise AssertionError(f"{name}: relative difference {found[name]:.2e}")
    return found


def figures(case: dict) -> dict:
    """Speed-ups of relunet over the best peer of each quantity (fastest samples)."""
    t = {name: v[STATISTIC] for name, v in case["timings"].items()}
    out = {}
    for quantity, peers in (("hessian", HESSIAN_PEERS), ("hvp", HVP_PEERS)):
        best = min(peers, key=t.get)
        ours = t[f"relunet_{quantity}"]
        out[f"{quantity}_relunet_s"] = ours
        out[f"{quantity}_best_peer"] = best
        out[f"{quantity}_best_peer_s"] = t[best]
        out[f"{quantity}_speed_up_over_best_peer"] = t[best] / ours
        out[f"{quantity}_products_s"] = t[f"products_{quantity}"]
        out[f"{quantity}_time_over_products"] = ours / t[f"products_{quantity}"]
    return out


def goal_rows(cases: list[dict]) -> list[dict]:
    return every_case(cases, GOALS)


def work(layers, x, v) -> dict:
    """Multiply-adds per sample: relunet's by its cost model (the mode
    ``rn.hessian`` chooses; ``rn.hvp``'s forward over reverse), each JAX
    peer's from XLA's cost analysis of its compiled program (flops over two
    and the batch; elementwise operations included). Nothing is timed."""
    mode = rn.choose_hessian_mode(layers)
    out = {
        "relunet_hessian_mode": mode,
        "relunet_hessian": rn.hessian_cost(layers, mode).multiply_adds,
        "relunet_hvp": rn.hvp_cost(layers, "forward-over-reverse").multiply_adds,
    }
    functions = peer_functions(layers)
    for name in ("jax_hessian", "jax_jacfwd_jacrev", "jax_hvp"):
        args = (x, v) if name in HVP_PEERS else (x,)
        cost = functions[name].lower(*map(jnp.asarray, args)).compile()
        cost = cost.cost_analysis()
        cost = cost[0] if isinstance(cost, list) else cost
        out[name] = float(cost["flops"]) / 2 / x.shape[0]
    return out


def run_case(name, layers, x, v, rounds) -> dict:
    calls = candidate_calls(layers, x, v)
    agreement = check_agreement(calls)
    case = {
        "name": name,
        "dtype": "float64",
        "batch": int(x.shape[0]),
        "widths": [layers[0].n_in] + [layer.n_out for layer in layers],
        "agreement_relative": agreement,
        "multiply_adds_per_sample": work(layers, x, v),
        "timings": measure(calls, rounds),
    }
    case["figures"] = figures(case)
    print(f"{name}: done", flush=True)
    return case


def timed(rounds: int) -> dict:
    """Every case, checked and timed: the record's ``second_order`` entry."""
    cases = [run_case(*case, rounds) for case in case_inputs()]
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M"
        ),
        "rounds": rounds,
        "threads": threads(),
        "cases": cases,
        "goals": goal_rows(cases),
    }
