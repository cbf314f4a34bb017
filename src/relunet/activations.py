"""The ReLU activation and its derivative (chapter 1 and chapter 2)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_at_zero, as_float_array


def relu(z: ArrayLike) -> np.ndarray:
    """Rectified linear unit, applied element-wise.

    Parameters
    ----------
    z : array_like, any shape
        Pre-activations.

    Returns
    -------
    ndarray, same shape as ``z``
        ``max(z, 0)`` element-wise, in the floating dtype of ``z``
        (integers are promoted to float64).

    Notes
    -----
    .. math:: f(z) = \\max(z, 0)

    At ``z = 0`` both branches agree, so the value is unambiguous; only the
    derivative needs a convention (see :func:`relu_derivative`).
    """
    z = as_float_array(z, "z")
    return np.maximum(z, 0).astype(z.dtype, copy=False)


def relu_derivative(z: ArrayLike, at_zero: float = 0.0) -> np.ndarray:
    """Derivative of ReLU with respect to its input, element-wise.

    Parameters
    ----------
    z : array_like, any shape
        Pre-activations (the input of ReLU, not its output).
    at_zero : float, default 0.0
        The value used where ``z == 0`` exactly, where ReLU has a kink and no
        derivative. Any value in [0, 1] is a valid subgradient. The default 0
        is what TensorFlow's ``tf.nn.relu``, PyTorch and JAX return.

    Returns
    -------
    ndarray, same shape and dtype as ``z``
        1 where ``z > 0``, 0 where ``z < 0`` and ``at_zero`` where ``z == 0``.

    Notes
    -----
    .. math::

       f'(z) = \\begin{cases} 1 & z > 0 \\\\ \\text{at\\_zero} & z = 0
       \\\\ 0 & z < 0 \\end{cases}

    Derived in chapter 2; the convention is fixed in the notation page.
    """
    z = as_float_array(z, "z")
    return relu_slope(z, as_at_zero(at_zero))


def relu_slope(z: np.ndarray, at_zero: float) -> np.ndarray:
    """ReLU'(z) for a validated floating array and a validated ``at_zero``.

    The unchecked core of :func:`relu_derivative`, for pre-activations made
    inside a network: they may overflow to infinity or NaN, which the
    public function would refuse as input. A NaN gets slope 0, as the
    comparison ``z > 0`` gives.
    """
    derivative = (z > 0).astype(z.dtype)
    if at_zero != 0.0:
        derivative[z == 0] = at_zero
    return derivative
