"""relunet.training: the twin network's derivative is relunet's Jacobian; determinism;
folding; the NumPy backend's schedule, batches and initialisation; TensorFlow absent.
"""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import relunet as rn
from relunet import montecarlo as mc
from relunet.keras import layers_from_keras
from relunet.training import (
    ONE_CYCLE_POINTS,
    cosine_decay,
    fold_normalisation,
    input_gradient,
    minibatches,
    one_cycle,
    train_twin,
)
from relunet.twin import glorot_uniform

pytestmark = pytest.mark.oracle


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    spots = rng.uniform(60, 140, size=(512, 2))
    payoff, gradient = mc.simulate_bachelier_basket(
        spots, np.array([0.6, 0.4]), 100.0, 25.0 * np.eye(2), 1.0, seed=1
    )
    return spots, payoff, gradient


@pytest.fixture(scope="module")
def twin(data):
    spots, payoff, gradient = data
    return train_twin(
        spots,
        payoff,
        gradient,
        hidden=(8, 8),
        steps=150,
        batch_size=128,
        seed=3,
        backend="tensorflow",
    )


def test_relunet_jacobian_is_exactly_the_derivative_the_training_step_uses(twin, data):
    x_n = twin.normalise(data[0][:64])
    _, tape_gradient = input_gradient(twin.model, tf.constant(x_n))
    ours = rn.jacobian(x_n, layers_from_keras(twin.model, dtype=np.float64))[:, 0, :]
    np.testing.assert_allclose(ours, tape_gradient.numpy(), rtol=1e-12, atol=1e-15)


def test_folded_layers_predict_in_original_units(twin, data):
    x = data[0][:64]
    y_model = (
        twin.model(tf.constant(twin.normalise(x))).numpy()[:, 0] * twin.y_std
        + twin.y_mean
    )
    np.testing.assert_allclose(twin.predict(x), y_model, rtol=1e-12, atol=1e-12)
    _, g_n = input_gradient(twin.model, tf.constant(twin.normalise(x)))
    np.testing.assert_allclose(
        twin.gradient(x), g_n.numpy() * twin.y_std / twin.x_std, rtol=1e-11, atol=1e-14
    )


@pytest.mark.parametrize("backend", ["numpy", "tensorflow"])
def test_same_seed_same_network(data, backend):
    spots, payoff, gradient = data
    kwargs = {"hidden": (4,), "steps": 20, "seed": 5, "backend": backend}
    a = train_twin(spots, payoff, gradient, **kwargs)
    b = train_twin(spots, payoff, gradient, **kwargs)
    for la, lb in zip(a.layers, b.layers):
        np.testing.assert_array_equal(la.W, lb.W)
        np.testing.assert_array_equal(la.b, lb.b)
    np.testing.assert_array_equal(a.losses, b.losses)


def test_training_lowers_the_loss(twin, data):
    assert twin.losses[-10:].mean() < 0.5 * twin.losses[:10].mean()
    ours = train_twin(*data, hidden=(8, 8), steps=150, batch_size=128, seed=3)
    assert ours.model is None
    assert ours.losses[-10:].mean() < 0.5 * ours.losses[:10].mean()


def test_fold_normalisation_by_hand():
    layers = [
        rn.Dense([[2.0, -1.0]], [0.5], "softplus"),
        rn.Dense([[3.0]], [1.0], "linear"),
    ]
    x_mean, x_std, y_mean, y_std = np.array([1.0, 2.0]), np.array([2.0, 4.0]), 10.0, 5.0
    folded = fold_normalisation(layers, x_mean, x_std, y_mean, y_std)
    x = np.array([[3.0, -1.0], [0.0, 0.5]])
    expected = y_mean + y_std * rn.forward((x - x_mean) / x_std, layers)
    np.testing.assert_allclose(rn.forward(x, folded), expected, rtol=1e-14)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"y": np.ones(3)}, r"y must have shape \(4,\)"),
        ({"dydx": np.ones((4, 3))}, r"dydx must have shape \(4, 2\)"),
        ({"activation": "tanh"}, "activation must be 'softplus' or 'relu'"),
        ({"steps": 0}, "steps must be a positive integer"),
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"steps": 5, "epochs": 2}, "give steps or epochs, not both"),
        ({"schedule": "linear"}, "schedule must be 'cosine' or 'one_cycle'"),
        ({"hidden": ()}, "hidden must be a non-empty tuple"),
        (
            {"initial_layers": glorot_uniform(2, (3,), "softplus", 0)},
            r"initial_layers must have widths \[2, 20, 20, 1\]",
        ),
        (
            {"initial_layers": glorot_uniform(2, (20, 20), "relu", 0)},
            r"activations \['softplus', 'softplus', 'linear'\]",
        ),
    ],
)
def test_bad_input_is_named(kwargs, message):
    arguments = {
        "x": np.arange(8.0).reshape(4, 2),
        "y": np.arange(4.0),
        "dydx": None,
    } | kwargs
    with pytest.raises(ValueError, match=message):
        train_twin(
            arguments.pop("x"), arguments.pop("y"), arguments.pop("dydx"), **arguments
        )


def test_cosine_decay_is_the_schedule_the_compiled_training_step_uses():
    """Keras' CosineDecay evaluated as train_twin's tf.function evaluates it."""
    for steps in (7, 150, 1000):
        schedule = keras.optimizers.schedules.CosineDecay(
            0.01, decay_steps=steps, alpha=0.01
        )
        step = tf.Variable(0, dtype=tf.int64)
        rate = tf.function(lambda: schedule(step))
        keras_rates = []
        for t in range(steps):
            step.assign(t)
            keras_rates.append(float(rate()))
        ours = cosine_decay(0.01, steps)
        assert ours.dtype == np.float64 and ours.shape == (steps,)
        # The same float32 arithmetic; the cosine (|cos| <= 1) may differ in its
        # last bit, which moves the rate by at most 0.01 * 0.495 * 2**-24, plus
        # one rounding of the rate.
        np.testing.assert_allclose(ours, keras_rates, rtol=2**-24, atol=0.01 * 2**-24)
        assert np.mean(ours == keras_rates) > 0.98
    assert cosine_decay(1.0, 4)[0] == 1.0


def test_one_cycle_interpolates_the_notebooks_points():
    rates = one_cycle(0.1, 1000)
    assert rates.shape == (1000,) and rates.dtype == np.float64
    assert np.all(rates == rates.astype(np.float32))  # held as float32
    # The peak at a fifth of the training, a tenth of it at 60%, by hand.
    assert rates[200] == np.float32(0.1) and rates.argmax() == 200
    assert rates[600] == np.float32(0.01)
    assert rates[0] == np.float32(1e-8)
    halfway = 0.5 * (ONE_CYCLE_POINTS[0][1] + ONE_CYCLE_POINTS[1][1])
    assert rates[100] == np.float32(0.1 * halfway)
    assert np.all(np.diff(rates[:201]) > 0) and np.all(np.diff(rates[200:]) < 0)


def test_epochs_count_whole_passes_and_progress_shows_a_bar(data, capsys):
    spots, payoff, gradient = data  # 512 samples: 4 batches of 128 per epoch
    net = train_twin(
        spots,
        payoff,
        gradient,
        hidden=(4, 4, 4, 4),
        epochs=3,
        batch_size=128,
        schedule="one_cycle",
        learning_rate=0.1,
        progress=True,
    )
    assert net.losses.shape == (12,) and len(net.layers) == 5
    bar = capsys.readouterr().err
    assert "train_twin" in bar and "12/12" in bar and "loss=" in bar
    quiet = train_twin(spots, payoff, gradient, hidden=(4,), epochs=1, batch_size=600)
    assert quiet.losses.shape == (1,)  # the whole set is one batch
    assert capsys.readouterr().err == ""
    with pytest.raises(TypeError, match="progress must be True or False"):
        train_twin(spots, payoff, gradient, steps=1, progress="yes")
    with pytest.raises(TypeError, match="epochs must be a positive integer"):
        train_twin(spots, payoff, gradient, epochs=2.0)


def test_minibatches_visit_every_sample_once_per_pass():
    batches = list(minibatches(10, 4, 5, seed=2))
    assert [len(rows) for rows in batches] == [4] * 5
    first, second = np.concatenate(batches[:2]), np.concatenate(batches[2:4])
    assert len(set(first)) == len(set(second)) == 8  # 2 rows left over per pass
    assert not np.array_equal(first, second)  # reshuffled
    again = list(minibatches(10, 4, 5, seed=2))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    assert all(len(rows) == 3 for rows in minibatches(3, 256, 4, seed=0))


def test_glorot_uniform_follows_keras_defaults():
    layers = glorot_uniform(3, (40, 50), "relu", seed=1)
    assert [layer.activation for layer in layers] == ["relu", "relu", "linear"]
    assert [layer.W.shape for layer in layers] == [(40, 3), (50, 40), (1, 50)]
    for layer in layers:
        limit = np.sqrt(6 / (layer.n_in + layer.n_out))
        assert np.all(np.abs(layer.W) <= limit) and np.all(layer.b == 0)
    big = glorot_uniform(200, (300,), "relu", seed=1)[0].W
    limit = np.sqrt(6 / 500)
    assert np.abs(big).max() > 0.99 * limit
    assert np.var(big) == pytest.approx(limit**2 / 3, rel=0.02)
    same = glorot_uniform(3, (40, 50), "relu", seed=1)
    other = glorot_uniform(3, (40, 50), "relu", seed=2)
    assert np.array_equal(same[0].W, layers[0].W)
    assert not np.array_equal(other[0].W, layers[0].W)


def test_initial_layers_are_where_training_starts(data):
    spots, payoff, gradient = data
    start = glorot_uniform(2, (6,), "softplus", seed=9)
    net = train_twin(
        spots, payoff, gradient, hidden=(6,), steps=1, seed=4, initial_layers=start
    )
    rows = next(minibatches(len(spots), 256, 1, seed=4))
    x_n = net.normalise(spots[rows])
    dydx_n = gradient[rows] * net.x_std / net.y_std
    lambda_j = 1 / np.sqrt(np.mean((gradient * net.x_std / net.y_std) ** 2, axis=0))
    expected, _ = rn.training.differential_loss(
        start, x_n, (payoff[rows] - net.y_mean) / net.y_std, dydx_n, lambda_j, 1 / 3
    )
    assert net.losses[0] == pytest.approx(expected, rel=1e-12)


def test_numpy_backend_works_without_tensorflow():
    """relunet imports and trains with TensorFlow, Keras and JAX made unimportable."""
    script = textwrap.dedent(
        """
        import sys

        class Absent:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("tensorflow", "keras", "jax"):
                    raise ImportError(f"{name} is not installed")

        sys.meta_path.insert(0, Absent())
        import numpy as np
        import relunet
        from relunet.training import train_twin

        x = np.linspace(-1, 1, 64)[:, None]
        net = train_twin(x, x[:, 0] ** 2, 2 * x, hidden=(5,), steps=30)
        assert net.model is None and np.isfinite(net.losses).all()
        assert not {"tensorflow", "keras", "jax"} & set(sys.modules)
        try:
            train_twin(x, x[:, 0] ** 2, 2 * x, steps=1, backend="tensorflow")
        except ImportError:
            print("numpy backend only")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "numpy backend only"
