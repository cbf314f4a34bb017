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


def softplus(z: ArrayLike) -> np.ndarray:
    """Softplus, a smooth ReLU, applied element-wise (chapter 7).

    Parameters
    ----------
    z : array_like, any shape
        Pre-activations.

    Returns
    -------
    ndarray, same shape as ``z``
        ``log(1 + exp(z))`` in the floating dtype of ``z`` (integers are
        promoted to float64).

    Notes
    -----
    .. math:: f(z) = \\log(1 + e^z) = \\max(z, 0) + \\log(1 + e^{-|z|})

    The second form never overflows: ``softplus(800.0)`` is ``800.0`` and
    ``softplus(-800.0)`` is ``0.0`` (the exact value, about ``e^{-800}``,
    is below the smallest float64). Its derivative is the logistic sigmoid
    (:func:`softplus_derivative`), its second derivative ``s (1 - s)``.
    """
    z = as_float_array(z, "z")
    return softplus_unchecked(z)


def softplus_derivative(z: ArrayLike) -> np.ndarray:
    """Derivative of softplus: the logistic sigmoid ``1 / (1 + exp(-z))``.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape and dtype as ``z``
        Values in [0, 1]; computed as ``exp(-softplus(-z))``, which neither
        overflows nor loses the small values for large negative ``z``.
    """
    z = as_float_array(z, "z")
    return sigmoid_unchecked(z)


def softplus_second_derivative(z: ArrayLike) -> np.ndarray:
    """Second derivative of softplus: ``s (1 - s)`` with ``s`` the sigmoid.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape and dtype as ``z``
        Values in (0, 1/4], largest at ``z = 0``; computed as
        ``exp(-softplus(z) - softplus(-z))``, without the cancellation of
        ``1 - s`` for large ``z``.
    """
    z = as_float_array(z, "z")
    return curvature_unchecked(z, "softplus")


# --- Unchecked cores, for arrays made inside a network ------------------------


# exp(-|z|) underflows to 0 for large |z|: that is the correctly rounded
# result, not an error, so underflow is not reported.


def softplus_unchecked(z: np.ndarray) -> np.ndarray:
    """``log(1 + exp(z))`` for a floating array, dtype kept."""
    with np.errstate(under="ignore"):
        return np.logaddexp(z.dtype.type(0), z)


def sigmoid_unchecked(z: np.ndarray) -> np.ndarray:
    """The logistic sigmoid for a floating array, dtype kept."""
    with np.errstate(under="ignore"):
        return np.exp(-np.logaddexp(z.dtype.type(0), -z))


def activate(
    z: np.ndarray, activation: str, out: np.ndarray | None = None
) -> np.ndarray:
    """``f(z)`` for one of :data:`relunet.ACTIVATIONS`."""
    if activation == "relu":
        return np.maximum(z, 0, out=out)
    if activation == "softplus":
        with np.errstate(under="ignore"):
            return np.logaddexp(z.dtype.type(0), z, out=out)
    return z


def slope_unchecked(z: np.ndarray, activation: str, at_zero: float) -> np.ndarray:
    """``f'(z)``: the ReLU mask (with ``at_zero``), the sigmoid, or ones."""
    if activation == "relu":
        return relu_slope(z, at_zero)
    if activation == "softplus":
        return sigmoid_unchecked(z)
    return np.ones_like(z)


def curvature_unchecked(z: np.ndarray, activation: str) -> np.ndarray:
    """``f''(z)``: ``s (1 - s)`` for softplus; 0 for ReLU (away from its kink) and
    linear.
    """
    if activation == "softplus":
        zero = z.dtype.type(0)
        with np.errstate(under="ignore"):
            return np.exp(-np.logaddexp(zero, z) - np.logaddexp(zero, -z))
    return np.zeros_like(z)
