"""forward, preactivations and jacobian on cases worked by hand."""

import numpy as np
import pytest

import relunet as rn

# The worked example of the book's first chapter (from the seed notebook).
W_SEED = [[1, 2, 3], [3, 4, 6]]
B_SEED = [1, 3]
X_SEED = [1, 2, 3]


def test_seed_example_forward():
    layer = rn.Dense(W_SEED, B_SEED)
    # z_1 = 1*1 + 2*2 + 3*3 + 1 = 15, z_2 = 3*1 + 4*2 + 6*3 + 3 = 32
    np.testing.assert_array_equal(rn.preactivations(X_SEED, layer)[0], [15.0, 32.0])
    np.testing.assert_array_equal(rn.forward(X_SEED, layer), [15.0, 32.0])


def test_seed_example_jacobian_is_W_when_all_units_are_active():
    layer = rn.Dense(W_SEED, B_SEED)
    np.testing.assert_array_equal(rn.jacobian(X_SEED, layer), W_SEED)


def test_inactive_unit_zeroes_its_row():
    # z = [1 - 2 + 0, 3 - 4 + 0] + [0, 0] -> unit 2 has z = -1 < 0
    layer = rn.Dense([[1, 2, 3], [3, 4, 6]], [0, 0])
    x = [1, -1, 0]
    np.testing.assert_array_equal(rn.preactivations(x, layer)[0], [-1.0, -1.0])
    layer = rn.Dense([[1, 2, 3], [3, 4, 6]], [2, 0])
    np.testing.assert_array_equal(rn.forward(x, layer), [1.0, 0.0])
    np.testing.assert_array_equal(rn.jacobian(x, layer), [[1, 2, 3], [0, 0, 0]])


def test_kink_uses_at_zero():
    layer = rn.Dense([[1.0, 1.0]], [0.0])
    x = [1.0, -1.0]  # z = 0 exactly
    np.testing.assert_array_equal(rn.jacobian(x, layer), [[0.0, 0.0]])
    np.testing.assert_array_equal(rn.jacobian(x, layer, at_zero=1.0), [[1.0, 1.0]])
    np.testing.assert_array_equal(rn.jacobian(x, layer, at_zero=0.5), [[0.5, 0.5]])


def test_two_layer_chain_rule_by_hand():
    # Layer 1: z1 = [x1 + x2, x1 - x2], relu. Layer 2: y = 2 a1 - 3 a2, linear.
    first = rn.Dense([[1, 1], [1, -1]], [0, 0])
    second = rn.Dense([[2, -3]], [0], activation="linear")
    x = [2.0, 1.0]  # z1 = [3, 1], both active: J = [2, -3] @ [[1, 1], [1, -1]]
    np.testing.assert_array_equal(rn.forward(x, [first, second]), [3.0])
    np.testing.assert_array_equal(rn.jacobian(x, [first, second]), [[-1.0, 5.0]])
    x = [1.0, 2.0]  # z1 = [3, -1]: the second unit is off, J = 2 * [1, 1]
    np.testing.assert_array_equal(rn.forward(x, [first, second]), [6.0])
    np.testing.assert_array_equal(rn.jacobian(x, [first, second]), [[2.0, 2.0]])


def test_linear_layer_jacobian_is_W_for_every_sample():
    layer = rn.Dense(
        [[1.0, -2.0], [0.5, 3.0], [0.0, 1.0]], [0.0, 0.0, -100.0], "linear"
    )
    x = np.array([[1.0, 2.0], [-5.0, 0.0]])
    J = rn.jacobian(x, layer)
    assert J.shape == (2, 3, 2)
    np.testing.assert_array_equal(J, np.stack([layer.W, layer.W]))
    assert J.flags.writeable and J.flags.c_contiguous


def test_batch_rows_are_samples():
    layer = rn.Dense(W_SEED, B_SEED)
    x = np.array([X_SEED, [-1, -1, -1]])
    np.testing.assert_array_equal(rn.forward(x, layer), [[15.0, 32.0], [0.0, 0.0]])
    J = rn.jacobian(x, layer)
    assert J.shape == (2, 2, 3)
    np.testing.assert_array_equal(J[0], W_SEED)
    np.testing.assert_array_equal(J[1], np.zeros((2, 3)))


@pytest.mark.parametrize(
    "x_dtype, w_dtype, expected",
    [
        (np.float32, np.float32, np.float32),
        (np.int64, np.float32, np.float64),
        (np.float32, np.float64, np.float64),
        (np.int32, np.int64, np.float64),
    ],
)
def test_dtypes(x_dtype, w_dtype, expected):
    layer = rn.Dense(np.ones((2, 3), dtype=w_dtype), np.zeros(2, dtype=w_dtype))
    x = np.ones(3, dtype=x_dtype)
    assert rn.forward(x, layer).dtype == expected
    assert rn.jacobian(x, layer).dtype == expected


def test_dense_is_immutable():
    W = np.ones((2, 3))
    layer = rn.Dense(W, np.zeros(2))
    W[0, 0] = 5.0  # the layer holds a copy
    assert layer.W[0, 0] == 1.0
    with pytest.raises(ValueError):
        layer.W[0, 0] = 2.0
    with pytest.raises(AttributeError):
        layer.activation = "linear"


def test_dense_repr_and_sizes():
    layer = rn.Dense(
        np.ones((2, 3), dtype=np.float32), np.zeros(2, dtype=np.float32), "linear"
    )
    assert (layer.n_in, layer.n_out, layer.dtype) == (3, 2, np.float32)
    assert repr(layer) == "Dense(n_in=3, n_out=2, activation='linear', dtype=float32)"


def test_preactivations_of_every_layer():
    first = rn.Dense([[1, 1], [1, -1]], [0, 0])
    second = rn.Dense([[2, -3]], [1], activation="linear")
    zs = rn.preactivations([1.0, 2.0], [first, second])
    assert [z.shape for z in zs] == [(2,), (1,)]
    np.testing.assert_array_equal(zs[0], [3.0, -1.0])
    np.testing.assert_array_equal(zs[1], [7.0])
