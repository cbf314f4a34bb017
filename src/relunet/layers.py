"""The dense layer NN(x) = f(W x + b) (chapter 1)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_float_array, check_ndim

#: The activations a :class:`Dense` layer accepts.
ACTIVATIONS = ("relu", "linear", "softplus")


@dataclass(frozen=True, eq=False, repr=False)
class Dense:
    """An immutable fully connected layer ``f(W x + b)``.

    Parameters
    ----------
    W : array_like, shape (n_out, n_in)
        Weights, one row per unit, as in the book's equations (Keras stores
        the transpose, its ``kernel`` of shape (n_in, n_out)).
    b : array_like, shape (n_out,)
        Biases, one per unit.
    activation : {"relu", "linear", "softplus"}, default "relu"
        The element-wise function ``f``: ``max(z, 0)``, ``z``, or
        ``log(1 + exp(z))`` (chapter 7).

    Raises
    ------
    TypeError
        If ``W`` or ``b`` is not real numeric data, or ``activation`` is not
        a string.
    ValueError
        If ``W`` is not 2-D, ``b`` is not 1-D of length ``n_out``, a value is
        not finite, or ``activation`` is unknown.

    Notes
    -----
    .. math:: z = W x + b, \\qquad NN(x) = f(z)

    ``W`` and ``b`` are copied into read-only arrays of one floating dtype
    (integers become float64; float32 with float32 stays float32), so a
    layer cannot change after it is built.
    """

    W: np.ndarray
    b: np.ndarray
    activation: str = "relu"

    def __post_init__(self) -> None:
        if not isinstance(self.activation, str):
            raise TypeError(
                f"activation must be one of {ACTIVATIONS}, got "
                f"{type(self.activation).__name__} {self.activation!r}"
            )
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {ACTIVATIONS}, got {self.activation!r}"
            )
        W = as_float_array(self.W, "W")
        b = as_float_array(self.b, "b")
        check_ndim(W, "W", (2,), "(n_out, n_in)")
        check_ndim(b, "b", (1,), f"(n_out,) = ({W.shape[0]},)")
        if b.shape[0] != W.shape[0]:
            raise ValueError(
                f"b must have shape (n_out,) = ({W.shape[0]},) to match W of "
                f"shape {W.shape}, got shape {b.shape}"
            )
        if W.shape[0] == 0 or W.shape[1] == 0:
            raise ValueError(
                f"W must have at least one row and one column, got shape {W.shape}"
            )
        dtype = np.result_type(W, b)
        W = np.array(W, dtype=dtype, copy=True)
        b = np.array(b, dtype=dtype, copy=True)
        W.flags.writeable = False
        b.flags.writeable = False
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "b", b)

    @property
    def n_in(self) -> int:
        """Number of inputs, ``W.shape[1]``."""
        return self.W.shape[1]

    @property
    def n_out(self) -> int:
        """Number of units (outputs), ``W.shape[0]``."""
        return self.W.shape[0]

    @property
    def dtype(self) -> np.dtype:
        """Floating dtype of ``W`` and ``b``."""
        return self.W.dtype

    def __repr__(self) -> str:
        return (
            f"Dense(n_in={self.n_in}, n_out={self.n_out}, "
            f"activation={self.activation!r}, dtype={self.dtype})"
        )


def as_layers(layers: Dense | ArrayLike) -> tuple[Dense, ...]:
    """Return ``layers`` as a non-empty tuple of chained :class:`Dense` layers.

    Parameters
    ----------
    layers : Dense or sequence of Dense
        One layer, or layers in the order they are applied.

    Returns
    -------
    tuple of Dense
        Where layer ``k`` has ``n_in`` equal to layer ``k - 1``'s ``n_out``.
    """
    if isinstance(layers, Dense):
        return (layers,)
    if not isinstance(layers, (list, tuple)):
        raise TypeError(
            f"layers must be a Dense layer or a list or tuple of them, got "
            f"{type(layers).__name__}"
        )
    if len(layers) == 0:
        raise ValueError(
            "layers must hold at least one Dense layer, got an empty sequence"
        )
    for k, layer in enumerate(layers):
        if not isinstance(layer, Dense):
            raise TypeError(
                f"layers[{k}] must be a Dense layer, got {type(layer).__name__}"
            )
    for k in range(1, len(layers)):
        if layers[k].n_in != layers[k - 1].n_out:
            hint = ""
            if layers[k].n_out == layers[k - 1].n_out:
                hint = (
                    "; W looks transposed: if it is a Keras kernel of shape "
                    "(n_in, n_out), pass kernel.T"
                )
            raise ValueError(
                f"layers[{k}] must take n_in = {layers[k - 1].n_out} inputs "
                f"(the n_out of layers[{k - 1}]), got W of shape "
                f"{layers[k].W.shape}{hint}"
            )
    return tuple(layers)
