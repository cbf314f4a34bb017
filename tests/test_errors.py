"""Bad input: one test per kind, asserting the error type and its message."""

import re

import numpy as np
import pytest

import relunet as rn

LAYER = rn.Dense([[1.0, 2.0, 3.0], [3.0, 4.0, 6.0]], [1.0, 3.0])


def raises(kind, *fragments):
    """pytest.raises that also checks the message contains every fragment."""
    pattern = ".*".join(re.escape(f) for f in fragments)
    return pytest.raises(kind, match=re.compile(pattern, re.S))


# --- Dense -----------------------------------------------------------------


def test_W_must_be_2d():
    with raises(ValueError, "W must have shape (n_out, n_in)", "shape (3,)"):
        rn.Dense([1.0, 2.0, 3.0], [0.0])


def test_b_must_be_1d():
    with raises(ValueError, "b must have shape (n_out,) = (2,)", "shape (2, 1)"):
        rn.Dense(np.ones((2, 3)), np.zeros((2, 1)))


def test_b_length_must_match_W():
    with raises(
        ValueError,
        "b must have shape (n_out,) = (2,)",
        "W of shape (2, 3)",
        "got shape (3,)",
    ):
        rn.Dense(np.ones((2, 3)), np.zeros(3))


def test_W_must_not_be_empty():
    with raises(ValueError, "at least one row and one column", "(0, 3)"):
        rn.Dense(np.ones((0, 3)), np.zeros(0))


def test_unknown_activation():
    with raises(
        ValueError,
        "activation must be one of ('relu', 'linear', 'softplus')",
        "'sigmoid'",
    ):
        rn.Dense(np.ones((2, 3)), np.zeros(2), activation="sigmoid")


def test_activation_must_be_a_string():
    with raises(TypeError, "activation must be one of", "NoneType None"):
        rn.Dense(np.ones((2, 3)), np.zeros(2), activation=None)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights(bad):
    W = np.ones((2, 3))
    W[1, 2] = bad
    with raises(ValueError, "W must be finite", "1 NaN or infinite", "shape (2, 3)"):
        rn.Dense(W, np.zeros(2))


@pytest.mark.parametrize(
    "bad, dtype",
    [
        (np.array([["a", "b"]]), "<U1"),
        (np.array([[1 + 2j, 0j]]), "complex128"),
        (np.array([[True, False]]), "bool"),
        (np.array([[object(), 1]], dtype=object), "object"),
    ],
)
def test_non_numeric_weights(bad, dtype):
    with raises(TypeError, "W must hold real numbers", f"got dtype {dtype}"):
        rn.Dense(bad, np.zeros(1))


def test_ragged_weights():
    with raises(TypeError, "W must be a numeric array", "list"):
        rn.Dense([[1.0, 2.0], [3.0]], [0.0, 0.0])


# --- x and layers --------------------------------------------------------------


@pytest.mark.parametrize("function", [rn.forward, rn.jacobian, rn.preactivations])
def test_x_with_wrong_ndim(function):
    with raises(
        ValueError, "x must have shape (3,) or (batch, 3)", "shape (1, 2, 3) (ndim 3)"
    ):
        function(np.ones((1, 2, 3)), LAYER)
    with raises(
        ValueError, "x must have shape (3,) or (batch, 3)", "shape () (ndim 0)"
    ):
        function(1.0, LAYER)


@pytest.mark.parametrize("function", [rn.forward, rn.jacobian, rn.preactivations])
def test_x_with_wrong_width(function):
    with raises(
        ValueError, "x must have shape (3,)", "W of shape (2, 3)", "got shape (4,)"
    ):
        function(np.ones(4), LAYER)
    with raises(ValueError, "x must have shape (batch, 3)", "got shape (5, 2)"):
        function(np.ones((5, 2)), LAYER)


def test_x_transposed_is_refused_not_broadcast():
    # The seed stores samples as columns, shape (n_in, batch); relunet wants rows.
    with raises(ValueError, "x must have shape (batch, 3)", "got shape (3, 4)"):
        rn.forward(np.ones((3, 4)), LAYER)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_x(bad):
    with raises(ValueError, "x must be finite", "shape (3,)"):
        rn.jacobian([1.0, bad, 0.0], LAYER)


def test_non_numeric_x():
    with raises(TypeError, "x must hold real numbers", "got dtype <U1"):
        rn.forward(["1", "2", "3"], LAYER)


def test_layers_that_do_not_chain():
    second = rn.Dense(np.ones((1, 3)), np.zeros(1))
    with raises(
        ValueError,
        "layers[1] must take n_in = 2 inputs",
        "layers[0]",
        "W of shape (1, 3)",
    ):
        rn.forward(np.ones(3), [LAYER, second])


def test_layers_must_be_dense():
    with raises(TypeError, "layers[1] must be a Dense layer, got ndarray"):
        rn.forward(np.ones(3), [LAYER, np.ones((2, 2))])
    with raises(
        TypeError, "layers must be a Dense layer or a list or tuple of them, got dict"
    ):
        rn.forward(np.ones(3), {"a": LAYER})


def test_layers_must_not_be_empty():
    with raises(ValueError, "at least one Dense layer, got an empty sequence"):
        rn.jacobian(np.ones(3), [])


# --- at_zero, eps, f ---------------------------------------------------------------


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_at_zero_out_of_range(bad):
    with raises(ValueError, "at_zero must lie in [0, 1]", repr(bad)):
        rn.jacobian(np.ones(3), LAYER, at_zero=bad)
    with raises(ValueError, "at_zero must lie in [0, 1]"):
        rn.relu_derivative(np.zeros(2), at_zero=bad)


@pytest.mark.parametrize("bad", ["0.5", None, True])
def test_at_zero_not_a_number(bad):
    with raises(TypeError, "at_zero must be a real number in [0, 1]"):
        rn.jacobian(np.ones(3), LAYER, at_zero=bad)


def test_at_zero_nan():
    with raises(ValueError, "at_zero must lie in [0, 1]", "nan"):
        rn.relu_derivative(np.zeros(2), at_zero=float("nan"))


@pytest.mark.parametrize("bad", [0.0, -1e-3, np.inf])
def test_finite_difference_step_must_be_positive(bad):
    with raises(ValueError, "eps must be a positive finite number"):
        rn.finite_difference_jacobian(lambda v: v, np.ones(2), eps=bad)


def test_finite_difference_f_must_be_callable():
    with raises(TypeError, "f must be callable, got ndarray"):
        rn.finite_difference_jacobian(np.ones(2), np.ones(2))


def test_finite_difference_f_output_layout():
    with raises(
        ValueError,
        "f must map x of shape (2,) to an output of shape (n_out,)",
        "got shape ()",
    ):
        rn.finite_difference_jacobian(lambda v: float(np.sum(v)), np.ones(2))
    with raises(ValueError, "(batch, n_out) = (3, n_out)", "got shape (3,)"):
        rn.finite_difference_jacobian(lambda v: np.sum(v, axis=1), np.ones((3, 2)))


def test_finite_difference_x_ndim():
    with raises(ValueError, "x must have shape (n_in,) or (batch, n_in)", "(2, 2, 2)"):
        rn.finite_difference_jacobian(lambda v: v, np.ones((2, 2, 2)))


def test_relu_non_numeric():
    with raises(TypeError, "z must hold real numbers", "got dtype object"):
        rn.relu(np.array([None, 1.0], dtype=object))


# --- Defects found by the review, kept fixed -------------------------------------


def test_x_none_is_named():
    with raises(TypeError, "x must be an array of real numbers, got None"):
        rn.forward(None, LAYER)


def test_keras_layout_gets_a_transpose_hint():
    kernel = LAYER.W.T  # Keras' (n_in, n_out) = (3, 2)
    with raises(ValueError, "x must have shape (2,)", "W = kernel.T"):
        rn.forward(np.ones(3), rn.Dense(kernel, np.zeros(3)))
    # A second layer of 2 units on the first layer's 2 outputs, given as a
    # (n_in, n_out) kernel of a layer that takes 2 inputs: W of shape (2, 2)
    # fits either way; one of shape (3, 2) is caught.
    kernel_2 = np.ones((2, 3))  # Keras' layout of a layer with 2 inputs and 3 units
    with raises(
        ValueError,
        "layers[1] must take n_in = 2",
        "got W of shape (2, 3)",
        "pass kernel.T",
    ):
        rn.forward(np.ones(3), [LAYER, rn.Dense(kernel_2, np.zeros(2))])


@pytest.mark.parametrize("widths", [[2.5, 3], [2, 3.0], [True, 3], ["2", 3]])
def test_he_normal_refuses_non_integer_widths(widths):
    with raises(ValueError, "widths must be (n_0, n_1, ..., n_L) of positive integers"):
        rn.he_normal(widths, seed=0)


def test_he_normal_refuses_an_integer_dtype():
    with raises(TypeError, "dtype must be a floating dtype", "int64"):
        rn.he_normal([2, 3], seed=0, dtype=np.int64)


@pytest.mark.parametrize("value", [np.array(0.5), np.array(1), np.float32(0.5)])
def test_at_zero_accepts_zero_d_arrays_and_numpy_scalars(value):
    expected = rn.relu_derivative(np.array([-1.0, 0.0, 2.0]), at_zero=float(value))
    np.testing.assert_array_equal(
        rn.relu_derivative(np.array([-1.0, 0.0, 2.0]), at_zero=value), expected
    )
    rn.jacobian(np.ones(3), LAYER, at_zero=value)


def test_at_zero_refuses_arrays_of_several_values():
    with raises(TypeError, "at_zero must be a real number in [0, 1]", "ndarray"):
        rn.jacobian(np.ones(3), LAYER, at_zero=np.array([0.5, 0.5]))


# --- Seeds and widths of he_normal ----------------------------------------------


@pytest.mark.parametrize("widths", [5, "23", None])
def test_he_normal_refuses_widths_that_are_not_a_sequence(widths):
    with raises(TypeError, "widths must be a sequence (n_0, n_1, ..., n_L)"):
        rn.he_normal(widths, seed=0)


def test_he_normal_names_a_bad_seed():
    with raises(ValueError, "seed must be a non-negative integer, got -1"):
        rn.he_normal([2, 3], seed=-1)
    with raises(TypeError, "seed must be a non-negative integer, got float 1.5"):
        rn.he_normal([2, 3], seed=1.5)
    same = rn.he_normal([2, 3], seed=np.array(4))[0].W
    np.testing.assert_array_equal(same, rn.he_normal([2, 3], seed=4)[0].W)


# --- train_twin's arguments -----------------------------------------------------


def _train(**change):
    """train_twin on a small valid problem, with some arguments changed."""
    from relunet.training import train_twin

    x = np.linspace(-1.0, 1.0, 8).reshape(4, 2)
    arguments = {"x": x, "y": x.sum(axis=1), "dydx": np.ones_like(x), "steps": 1}
    arguments |= change
    return train_twin(arguments.pop("x"), arguments.pop("y"), **arguments)


def test_train_twin_refuses_an_all_zero_derivative_column():
    dydx = np.ones((4, 2))
    dydx[:, 1] = 0.0
    with raises(
        ValueError, "dydx column(s) [1] are all zero", "cannot be normalised", "lam=0"
    ):
        _train(dydx=dydx)
    assert np.isfinite(_train(dydx=dydx, lam=0.0).losses).all()


def test_train_twin_refuses_an_input_constant_up_to_rounding():
    x = np.linspace(-1.0, 1.0, 8).reshape(4, 2)
    x[:, 1] = 0.1 + np.array([0.0, 1.0, 0.0, 1.0]) * 1e-17  # 0.1 with rounding noise
    assert 0 < x[:, 1].std() < 1e-12 * 0.1
    with raises(ValueError, "must vary", "input column(s) [1]", "below 1e-12"):
        _train(x=x, y=x[:, 0] ** 2 + 1.0, dydx=np.ones_like(x))


def test_train_twin_names_tiny_derivative_labels_without_calling_them_zero():
    dydx = np.ones((4, 2))
    dydx[:, 1] = 1e-200  # not zero, but lambda_j^2 = 1 / RMS^2 would be infinite
    with raises(ValueError, "dydx column(s) [1] have an RMS", "does not fit"):
        _train(dydx=dydx)


@pytest.mark.parametrize(
    "change, kind, fragments",
    [
        (
            {"x": np.ones((0, 2)), "y": np.ones(0), "dydx": None},
            ValueError,
            ("x must hold at least one sample", "(0, 2)"),
        ),
        (
            {"hidden": 20},
            TypeError,
            ("hidden must be a tuple of positive integers", "(20,)", "got int 20"),
        ),
        (
            {"hidden": (True,)},
            TypeError,
            ("hidden must be a tuple of positive integers", "True of type bool"),
        ),
        (
            {"hidden": (4, 0)},
            ValueError,
            ("hidden must be a non-empty tuple", "(4, 0)"),
        ),
        ({"lam": "a"}, TypeError, ("lam must be a real number >= 0, got str 'a'",)),
        ({"lam": -1.0}, ValueError, ("lam must be a finite number >= 0, got -1.0",)),
        (
            {"learning_rate": 0.0},
            ValueError,
            ("learning_rate must be a finite number > 0",),
        ),
        ({"seed": -1}, ValueError, ("seed must be a non-negative integer", "got -1")),
        (
            {"seed": 1.5},
            TypeError,
            ("seed must be a non-negative integer", "float 1.5"),
        ),
        (
            {"seed": True},
            TypeError,
            ("seed must be a non-negative integer", "bool True"),
        ),
        (
            {"seed": 2**32},
            ValueError,
            ("seed must be a non-negative integer below 2**32",),
        ),
        (
            {"steps": 2.0},
            TypeError,
            ("steps must be a positive integer, got float 2.0",),
        ),
        (
            {"backend": "jax"},
            ValueError,
            ("backend must be 'numpy' or 'tensorflow', got 'jax'",),
        ),
    ],
)
def test_train_twin_names_the_bad_argument(change, kind, fragments):
    with raises(kind, *fragments):
        _train(**change)
