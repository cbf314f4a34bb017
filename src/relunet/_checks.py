"""Input validation shared by the public functions.

Every public function of :mod:`relunet` checks its arguments here, so that
bad input fails early with a message naming what was expected and what came.
Nothing is broadcast silently.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_float_array(value, name: str) -> np.ndarray:
    """Return ``value`` as a floating-point array, or raise a clear error.

    Integer input is promoted to float64; floating input keeps its dtype
    (float32 stays float32). Booleans, complex numbers, strings and objects
    are refused with a ``TypeError``; NaN or infinity with a ``ValueError``.

    Parameters
    ----------
    value : array_like
        The data to convert.
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    ndarray
        A floating-point array with the same shape as ``value``.
    """
    if value is None:
        raise TypeError(f"{name} must be an array of real numbers, got None")
    if isinstance(value, np.ndarray):
        array = value
    else:
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as exc:  # ragged nested sequences
            raise TypeError(
                f"{name} must be a numeric array; could not convert "
                f"{type(value).__name__}: {exc}"
            ) from None
    kind = array.dtype.kind
    if kind in "iu":
        array = array.astype(np.float64)
    elif kind != "f":
        raise TypeError(
            f"{name} must hold real numbers (integer or floating dtype), "
            f"got dtype {array.dtype}"
        )
    if not np.isfinite(array).all():
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(
            f"{name} must be finite, got {bad} NaN or infinite "
            f"value(s) in an array of shape {array.shape}"
        )
    return array


def check_ndim(
    array: np.ndarray, name: str, allowed: tuple[int, ...], meaning: str
) -> None:
    """Raise ``ValueError`` unless ``array.ndim`` is one of ``allowed``."""
    if array.ndim not in allowed:
        raise ValueError(
            f"{name} must have shape {meaning}, got an array of shape "
            f"{array.shape} (ndim {array.ndim})"
        )


def as_at_zero(at_zero) -> float:
    """Validate the value chosen for ReLU'(0): a real number in [0, 1].

    A Python or NumPy scalar, or a 0-d array of integer or floating dtype.
    """
    if (
        isinstance(at_zero, np.ndarray)
        and at_zero.ndim == 0
        and at_zero.dtype.kind in "iuf"
    ):
        at_zero = at_zero.item()
    if isinstance(at_zero, (bool, np.bool_)) or not isinstance(at_zero, numbers.Real):
        raise TypeError(
            f"at_zero must be a real number in [0, 1], got "
            f"{type(at_zero).__name__} {at_zero!r}"
        )
    value = float(at_zero)
    if not 0.0 <= value <= 1.0:
        raise ValueError(
            "at_zero must lie in [0, 1] (the subdifferential of ReLU at 0), "
            f"got {value!r}"
        )
    return value


def as_integer(value, name: str, low: int = 1) -> int:
    """Validate an integer ``>= low`` (0 or 1): a Python or NumPy integer, or a
    0-d integer array.

    Booleans, floats and strings are refused with a ``TypeError``, integers
    below ``low`` with a ``ValueError``, both naming the argument.
    """
    expected = "a non-negative integer" if low == 0 else "a positive integer"
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iu":
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be {expected}, got {type(value).__name__} {value!r}"
        )
    if value < low:
        raise ValueError(f"{name} must be {expected}, got {int(value)}")
    return int(value)


def as_seed(seed, name: str = "seed") -> int:
    """Validate a seed for ``numpy.random.default_rng``: a non-negative integer
    (see :func:`as_integer`)."""
    return as_integer(seed, name, low=0)


def as_real(value, name: str) -> float:
    """Validate a real scalar: a Python or NumPy number, or a 0-d array.

    Booleans, strings, complex numbers and arrays of several values are
    refused with a ``TypeError`` naming the argument; NaN and infinity with a
    ``ValueError``.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number, got {type(value).__name__} {value!r}"
        )
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value
