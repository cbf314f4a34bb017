"""The differential training step: relunet's NumPy step against TF's and JAX's.

One step of ``train_twin`` on one batch: the loss of values and input
derivatives (chapter 9), its gradient with respect to every weight, and
Keras 3's Adam update, in three programs:

- ``relunet``: :func:`relunet.twin.twin_loss_and_gradients` and the Adam
  update on one parameter vector, as ``relunet.training._train_numpy`` runs
  them (:class:`NumpyStep`);
- ``tf_step``: the ``tf.function`` that ``train_twin(backend="tensorflow")``
  runs, nested tapes (:func:`relunet.training.tensorflow_loss`) on the
  Keras model of :func:`relunet.training.keras_twin` and Keras' Adam;
- ``jax_step``: the same loss as a JAX function of one sample (``grad`` of
  the network inside ``value_and_grad`` of the loss), the same Adam, in
  one ``jax.jit`` program.

Loss and gradients of the three agree (same weights, same batch) before
anything is timed. Each library runs on one thread (``python bench/run.py
--training`` sets that before they load); the cores each call kept busy are
measured and recorded. Beside the step, relunet's loss and gradient alone
(``relunet_gradient``) is timed: the rest of its step is Adam's update.
"""

from __future__ import annotations

import datetime

import jax
import jax.numpy as jnp
import numpy as np
import tensorflow as tf

import relunet as rn
from relunet import training
from relunet.twin import activation_parts, twin_loss_and_gradients

from .goals import every_case
from .measure import STATISTIC, measure, threads

jax.config.update("jax_enable_x64", True)

HIDDEN = (20, 20, 20, 20)
ACTIVATION = "softplus"
N_INS = (1, 7, 20)
BATCHES = (256, 1024)
LEARNING_RATE, STEPS = 1e-3, 1000  # train_twin's schedule for STEPS steps
PEERS = ("tf_step", "jax_step")
#: (figure, comparison, bound): the goals, on every case.
GOALS = [
    ("speed_up_over_tf_step", ">=", 3.0),
    ("speed_up_over_jax_step", ">=", 1.0),
]
TOLERANCE = 1e-10  # relative agreement of loss and gradients, float64
#: Shorter samples than the Jacobians' (about 5 to 30 calls): on one thread,
#: a sample that no other process interrupted is then likely among the
#: rounds, and each sample's cores busy says whether it was.
SAMPLE_SECONDS = 0.02


def case_name(n_in: int, batch: int) -> str:
    return f"4x20 softplus, n_in {n_in}, batch {batch}"


def case_inputs():
    """Every case as (name, layers, (x, y, dydx, lambda_j, alpha)), fixed seeds.

    Glorot-uniform weights as ``train_twin`` draws them, biases N(0, 0.1^2)
    (so that no gradient is exactly zero), normal inputs and labels,
    ``lambda_j`` in [0.3, 3] and ``alpha = 1 / (1 + n_in)`` (``lam = 1``).
    """
    for n_in in N_INS:
        for batch in BATCHES:
            rng = np.random.default_rng([n_in, batch])
            layers = [
                rn.Dense(layer.W, rng.normal(0, 0.1, layer.n_out), layer.activation)
                for layer in training.glorot_uniform(n_in, HIDDEN, ACTIVATION, n_in)
            ]
            x = rng.normal(size=(batch, n_in))
            data = (
                x,
                rng.normal(size=batch),
                rng.normal(size=(batch, n_in)),
                rng.uniform(0.3, 3.0, size=n_in),
                1.0 / (1.0 + n_in),
            )
            yield case_name(n_in, batch), layers, data


class NumpyStep:
    """relunet's step: ``_train_numpy``'s loop body, one call per step."""

    def __init__(self, layers, data, steps: int = STEPS):
        x, y, dydx, lambda_j, self.alpha = data
        self.batch = (x, y, dydx, lambda_j**2)
        self.theta = np.concatenate(
            [p.ravel() for layer in layers for p in (layer.W, layer.b)]
        ).astype(np.float64)
        shapes = [p.shape for layer in layers for p in (layer.W, layer.b)]
        ends = np.cumsum([np.prod(shape, dtype=int) for shape in shapes])
        params = [
            part.reshape(shape)
            for part, shape in zip(np.split(self.theta, ends[:-1]), shapes)
        ]
        self.Ws, self.bs = params[0::2], params[1::2]
        self.activations = [layer.activation for layer in layers[:-1]]
        self.m, self.v = np.zeros_like(self.theta), np.zeros_like(self.theta)
        self.rates = training.cosine_decay(LEARNING_RATE, steps)
        self.t = 0

    def loss_and_gradients(self):
        return twin_loss_and_gradients(
            self.Ws, self.bs, self.activations, *self.batch, self.alpha
        )

    def parameters(self) -> np.ndarray:
        return self.theta.copy()

    def __call__(self) -> float:
        loss, grads = self.loss_and_gradients()
        g = np.concatenate([part.ravel() for pair in grads for part in pair])
        lr = self.rates[min(self.t, len(self.rates) - 1)]
        self.t += 1
        t, m, v = self.t, self.m, self.v
        rate = (
            lr
            * np.sqrt(1 - training.BETA_2_POWER_BASE**t)
            / (1 - training.BETA_1_POWER_BASE**t)
        )
        m += (g - m) * (1 - training.BETA_1)
        v += (g * g - v) * (1 - training.BETA_2)
        self.theta -= m * rate / (np.sqrt(v) + training.EPSILON)
        return loss


class TensorflowStep:
    """The ``tf.function`` step of ``train_twin(backend="tensorflow")``."""

    def __init__(self, layers, data):
        import keras

        x, y, dydx, lambda_j, alpha = data
        self.model = training.keras_twin(x.shape[1], HIDDEN, ACTIVATION, layers)
        schedule = keras.optimizers.schedules.CosineDecay(
            LEARNING_RATE, decay_steps=STEPS, alpha=0.01
        )
        optimizer = keras.optimizers.Adam(learning_rate=schedule)
        weights_j = tf.constant(lambda_j**2, tf.float64)
        self.batch = tuple(tf.constant(a) for a in (x, y, dydx))
        self.loss = lambda xb, yb, dyb: training.tensorflow_loss(
            self.model, xb, yb, dyb, weights_j, alpha
        )
        variables = self.model.trainable_variables

        @tf.function(reduce_retracing=True)
        def train_step(xb, yb, dyb):
            with tf.GradientTape() as tape:
                loss = self.loss(xb, yb, dyb)
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss

        self.train_step = train_step

    def loss_and_gradients(self):
        with tf.GradientTape() as tape:
            loss = self.loss(*self.batch)
        grads = tape.gradient(loss, self.model.trainable_variables)
        return float(loss), [
            (k.numpy().T, b.numpy()) for k, b in zip(*[iter(grads)] * 2)
        ]

    def parameters(self) -> np.ndarray:
        variables = self.model.trainable_variables
        return np.concatenate(
            [v.numpy().T.ravel() if v.ndim == 2 else v.numpy() for v in variables]
        )

    def __call__(self) -> float:
        return float(self.train_step(*self.batch))  # train_twin reads each loss


def jax_loss(params, x, y, dydx, weights_j, alpha):
    """The differential loss in JAX: the network of one sample and its ``grad``."""

    def network(x_i, params):
        a = x_i
        for W, b in params[:-1]:
            a = jax.nn.softplus(W @ a + b)
        W, b = params[-1]
        return (W @ a + b)[0]

    values = jax.vmap(network, (0, None))(x, params)
    gradients = jax.vmap(jax.grad(network), (0, None))(x, params)
    return alpha * jnp.mean((values - y) ** 2) + (1 - alpha) * jnp.mean(
        weights_j * (gradients - dydx) ** 2
    )


class JaxStep:
    """One ``jax.jit`` program: loss, gradient and the same Adam update."""

    def __init__(self, layers, data):
        x, y, dydx, lambda_j, alpha = data
        self.batch = tuple(jnp.asarray(a) for a in (x, y, dydx, lambda_j**2))
        self.alpha = alpha
        params = [(jnp.asarray(layer.W), jnp.asarray(layer.b)) for layer in layers]
        zeros = jax.tree.map(jnp.zeros_like, params)
        self.state = (params, zeros, zeros, jnp.asarray(0))
        rates = jnp.asarray(training.cosine_decay(LEARNING_RATE, STEPS))
        beta_1, beta_2 = training.BETA_1, training.BETA_2
        powers = training.BETA_1_POWER_BASE, training.BETA_2_POWER_BASE

        def step(state, x, y, dydx, weights_j):
            params, m, v, t = state
            loss, g = jax.value_and_grad(jax_loss)(params, x, y, dydx, weights_j, alpha)
            lr = rates[jnp.minimum(t, STEPS - 1)]
            t = t + 1
            rate = lr * jnp.sqrt(1 - powers[1] ** t) / (1 - powers[0] ** t)
            m = jax.tree.map(lambda m, g: m + (g - m) * (1 - beta_1), m, g)
            v = jax.tree.map(lambda v, g: v + (g * g - v) * (1 - beta_2), v, g)
            params = jax.tree.map(
                lambda p, m, v: p - m * rate / (jnp.sqrt(v) + training.EPSILON),
                params,
                m,
                v,
            )
            return loss, (params, m, v, t)

        self.step = jax.jit(step)

    def loss_and_gradients(self):
        gradient = jax.jit(jax.value_and_grad(jax_loss), static_argnums=5)
        loss, grads = gradient(self.state[0], *self.batch, self.alpha)
        return float(loss), [(np.asarray(W), np.asarray(b)) for W, b in grads]

    def parameters(self) -> np.ndarray:
        return np.concatenate([np.ravel(p) for pair in self.state[0] for p in pair])

    def __call__(self) -> float:
        loss, self.state = self.step(self.state, *self.batch)
        return float(loss)  # waits for the result, as train_twin's loop would


STEP_CLASSES = {"relunet": NumpyStep, "tf_step": TensorflowStep, "jax_step": JaxStep}


def relative(ours, theirs) -> float:
    """max |ours - theirs| / max |theirs|."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    return float(np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs)))


def check_agreement(steps: dict, updates: int = 3) -> dict:
    """Each peer against relunet, from the same weights and batch: loss and
    every gradient, then the change of the weights over ``updates`` steps.

    Returns the largest relative difference of each peer (below TOLERANCE,
    or AssertionError) for the gradient and for the steps.
    """
    loss, grads = steps["relunet"].loss_and_gradients()
    start = steps["relunet"].parameters()
    found = {}
    for name in PEERS:
        peer_loss, peer_grads = steps[name].loss_and_gradients()
        worst = relative(peer_loss, loss)
        for (dW, db), (peer_dW, peer_db) in zip(grads, peer_grads, strict=True):
            worst = max(worst, relative(peer_dW, dW), relative(peer_db, db))
        found[f"{name}_gradient"] = worst
    refuse(found)  # before any step changes the weights
    for step in steps.values():
        for _ in range(updates):
            step()
    moved = steps["relunet"].parameters() - start
    for name in PEERS:
        peer_moved = steps[name].parameters() - start
        found[f"{name}_steps"] = relative(peer_moved, moved)
    refuse(found)
    return found


def refuse(found: dict) -> None:
    for key, worst in found.items():
        if not worst < TOLERANCE:
            raise AssertionError(f"{key}: relative difference {worst:.2e}")


def relunet_parts(layers, data) -> dict:
    """Two parts of relunet's gradient, as calls timed beside it: the
    activations (``activation_parts`` of each hidden layer, at the case's
    pre-activations) and the matrix products (every product of
    ``twin_loss_and_gradients``, at its shapes, on arrays made beforehand)."""
    x, batch = data[0], data[0].shape[0]
    Ws = [layer.W for layer in layers]
    zs, a = [], x
    for layer in layers[:-1]:
        zs.append(a @ layer.W.T + layer.b)
        a = activation_parts(zs[-1], layer.activation)[0]
    rng = np.random.default_rng(0)
    widths = [layers[0].n_in] + [layer.n_out for layer in layers]
    arrays = [rng.normal(size=(batch, n)) for n in widths]  # one per width
    ones = np.ones(batch)
    products = []
    for l in range(len(Ws) - 1):  # Ws[l]: widths[l] -> widths[l + 1]
        lower, upper, above = arrays[l], arrays[l + 1], arrays[l + 2]
        Wt = np.ascontiguousarray(Ws[l].T)
        products += [
            (lower, Wt),  # z_l
            (upper, Ws[l]),  # g_l
            (upper.T, lower),  # the derivative term's dW_l
            (lower, Wt),  # its adjoint of f'(z_l) g_l
            (above, Ws[l + 1]),  # the adjoint of z_l
            (upper.T, lower),  # dW_l
            (ones, upper),  # db_l
        ]
    products += [
        (arrays[-2], Ws[-1][0]),
        (ones, arrays[-2]),
        (arrays[-1].T, arrays[-2]),
    ]

    def run_products():
        for left, right in products:
            left @ right

    return {
        "relunet_activations": lambda: [activation_parts(z, "softplus") for z in zs],
        "relunet_products": run_products,
    }


def run_case(name, layers, data, rounds) -> dict:
    steps = {key: cls(layers, data) for key, cls in STEP_CLASSES.items()}
    agreement = check_agreement(steps)
    gradient = NumpyStep(layers, data).loss_and_gradients
    parts = relunet_parts(layers, data)
    candidates = {**steps, "relunet_gradient": gradient, **parts}
    timings = measure(candidates, rounds, SAMPLE_SECONDS)
    x = data[0]
    case = {
        "name": name,
        "dtype": "float64",
        "batch": int(x.shape[0]),
        "widths": [layers[0].n_in] + [layer.n_out for layer in layers],
        "activation": ACTIVATION,
        "agreement_relative": agreement,
        "timings": timings,
    }
    case["figures"] = figures(case)
    print(f"{name}: done", flush=True)
    return case


def figures(case: dict) -> dict:
    """Speed-ups of relunet's step over each peer's (fastest samples; beside
    them, the same from the least CPU time per call, which on one thread
    other processes cannot inflate)."""
    t = {name: v[STATISTIC] for name, v in case["timings"].items()}
    out = {"relunet_s": t["relunet"]}
    out.update({f"speed_up_over_{p}": t[p] / t["relunet"] for p in PEERS})
    out["adam_update_share"] = 1 - t["relunet_gradient"] / t["relunet"]
    cpu = {name: v["cpu_min_s"] for name, v in case["timings"].items()}
    out.update({f"cpu_speed_up_over_{p}": cpu[p] / cpu["relunet"] for p in PEERS})
    for part in ("activations", "products"):
        out[f"{part}_share_of_gradient"] = t[f"relunet_{part}"] / t["relunet_gradient"]
    return out


def goal_rows(cases: list[dict]) -> list[dict]:
    return every_case(cases, GOALS)


def timed(rounds: int) -> dict:
    """Every case, checked and timed: the record's ``training_step`` entry.

    Runs in a process of its own (``python bench/run.py --training``), whose
    libraries were set to one thread before they loaded; TensorFlow's pools
    are fixed here too, before its first operation.
    """
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
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
