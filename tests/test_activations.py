"""relu and relu_derivative on hand-checked values."""

import numpy as np
import pytest

import relunet as rn


def test_relu_values():
    z = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    np.testing.assert_array_equal(rn.relu(z), [0.0, 0.0, 0.0, 0.5, 3.0])


def test_relu_promotes_integers_and_keeps_float32():
    assert rn.relu([-1, 2]).dtype == np.float64
    np.testing.assert_array_equal(rn.relu([-1, 2]), [0.0, 2.0])
    assert rn.relu(np.array([-1, 2], dtype=np.float32)).dtype == np.float32


def test_relu_derivative_default_is_zero_at_the_kink():
    z = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(rn.relu_derivative(z), [0.0, 0.0, 1.0])


@pytest.mark.parametrize("at_zero", [0.0, 0.5, 1.0])
def test_relu_derivative_at_zero_only_changes_exact_zeros(at_zero):
    z = np.array([[-1e-300, 0.0], [1e-300, -0.0]])
    np.testing.assert_array_equal(
        rn.relu_derivative(z, at_zero=at_zero), [[0.0, at_zero], [1.0, at_zero]]
    )


def test_relu_derivative_keeps_shape_and_dtype():
    z = np.zeros((2, 3, 4), dtype=np.float32)
    d = rn.relu_derivative(z, at_zero=1)
    assert d.shape == (2, 3, 4) and d.dtype == np.float32
    assert np.all(d == 1)


def test_relu_derivative_of_a_scalar():
    assert rn.relu_derivative(3.0).shape == ()
    assert float(rn.relu_derivative(3.0)) == 1.0
