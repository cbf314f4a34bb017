"""finite_difference_jacobian: accuracy, the kink, shapes and steps."""

import numpy as np
import pytest

import relunet as rn


def test_matches_a_smooth_function():
    def f(x):
        return np.stack([np.sin(x[..., 0]) * x[..., 1], x[..., 0] ** 2], axis=-1)

    x = np.array([0.3, -1.2])
    expected = [[np.cos(0.3) * -1.2, np.sin(0.3)], [0.6, 0.0]]
    np.testing.assert_allclose(rn.finite_difference_jacobian(f, x), expected, atol=1e-9)


def test_batch_layout_matches_single_inputs():
    layer = rn.Dense([[1.0, -2.0, 0.5], [0.0, 1.0, 1.0]], [0.1, -0.2])
    x = np.array([[1.0, 0.2, 0.3], [-1.0, 2.0, 0.0], [0.5, 0.5, 0.5]])
    J = rn.finite_difference_jacobian(lambda v: rn.forward(v, layer), x)
    assert J.shape == (3, 2, 3)
    for s in range(3):
        np.testing.assert_allclose(
            J[s],
            rn.finite_difference_jacobian(lambda v: rn.forward(v, layer), x[s]),
            atol=1e-12,
        )


def test_gives_one_half_at_the_kink():
    layer = rn.Dense([[1.0]], [0.0])
    J = rn.finite_difference_jacobian(lambda v: rn.forward(v, layer), np.array([0.0]))
    np.testing.assert_allclose(J, [[0.5]], rtol=1e-12)


def test_default_step_is_cube_root_of_machine_epsilon():
    assert rn.default_step(np.float64) == pytest.approx(6.055454e-06, rel=1e-6)
    assert rn.default_step(np.float32) == pytest.approx(4.921566e-03, rel=1e-6)


def test_float32_input_gives_float32_jacobian():
    layer = rn.Dense(
        np.eye(2, dtype=np.float32), np.zeros(2, dtype=np.float32), "linear"
    )
    J = rn.finite_difference_jacobian(
        lambda v: rn.forward(v, layer), np.ones(2, np.float32)
    )
    assert J.dtype == np.float32
    np.testing.assert_allclose(J, np.eye(2), rtol=1e-3)
