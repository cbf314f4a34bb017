"""Forward pass, pre-activations and activation patterns (chapters 1 and 4).

Shapes follow the notation page: a single input ``x`` has shape (n_in,); a
batch has one sample per row, shape (batch, n_in), as in Keras.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from relunet._checks import as_float_array, check_ndim
from relunet.activations import activate
from relunet.layers import Dense, as_layers


def prepare(x: ArrayLike, layers) -> tuple[np.ndarray, tuple[Dense, ...], np.dtype]:
    """Validate ``x`` against ``layers``.

    Returns
    -------
    x2 : ndarray, shape (batch, n_in)
        ``x`` as a 2-D array in the common dtype (a single input is a batch
        of one).
    chain : tuple of Dense
        The validated layers.
    dtype : numpy dtype
        The common floating dtype of ``x`` and every layer's weights.
    """
    chain = as_layers(layers)
    x = as_float_array(x, "x")
    n_in = chain[0].n_in
    check_ndim(x, "x", (1, 2), f"({n_in},) or (batch, {n_in})")
    if x.shape[-1] != n_in:
        expected = f"({n_in},)" if x.ndim == 1 else f"(batch, {n_in})"
        hint = ""
        if x.shape[-1] == chain[0].n_out:
            hint = (
                "; if W was given in Keras' layout (n_in, n_out), pass its "
                "transpose: W = kernel.T"
            )
        raise ValueError(
            f"x must have shape {expected} to match the first layer's W of "
            f"shape {chain[0].W.shape}, got shape {x.shape}{hint}"
        )
    dtype = np.result_type(x, *(layer.W for layer in chain))
    return np.atleast_2d(x).astype(dtype, copy=False), chain, dtype


def weights(chain: Sequence[Dense], dtype) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(W, b)`` of every layer in ``dtype`` (no copy when it already is)."""
    return [
        (layer.W.astype(dtype, copy=False), layer.b.astype(dtype, copy=False))
        for layer in chain
    ]


def trace(x2: np.ndarray, chain: Sequence[Dense], dtype) -> list[np.ndarray]:
    """Pre-activations ``Z_l`` of shape (batch, n_l) for validated 2-D input."""
    zs = []
    a = x2
    for l, ((W, b), layer) in enumerate(zip(weights(chain, dtype), chain), start=1):
        z = a @ W.T
        z += b
        zs.append(z)
        if l < len(chain):  # the output's activation is not needed here
            a = activate(z, layer.activation)
    return zs


def preactivations(x: ArrayLike, layers: Dense | Sequence[Dense]) -> list[np.ndarray]:
    """Pre-activations ``z_l = W_l a_{l-1} + b_l`` of every layer.

    Parameters
    ----------
    x : array_like, shape (n_in,) or (batch, n_in)
        One input, or a batch of inputs as rows.
    layers : Dense or sequence of Dense
        The network, first layer first.

    Returns
    -------
    list of ndarray
        ``z_l`` of shape (n_l,) for a single input, (batch, n_l) for a batch,
        one array per layer.

    Notes
    -----
    .. math:: a_0 = x, \\quad z_l = W_l a_{l-1} + b_l, \\quad a_l = f_l(z_l)

    For a batch of rows the same is ``Z_l = A_{l-1} W_l^T + b_l``.
    """
    x2, chain, dtype = prepare(x, layers)
    zs = trace(x2, chain, dtype)
    return [z[0] for z in zs] if np.ndim(x) == 1 else zs


def forward(x: ArrayLike, layers: Dense | Sequence[Dense]) -> np.ndarray:
    """Output ``NN(x)`` of the network.

    Parameters
    ----------
    x : array_like, shape (n_in,) or (batch, n_in)
        One input, or a batch of inputs as rows.
    layers : Dense or sequence of Dense
        The network, first layer first.

    Returns
    -------
    ndarray, shape (n_out,) or (batch, n_out)
        The last layer's activations, in the common floating dtype of ``x``
        and the weights.

    Notes
    -----
    .. math:: NN(x) = f_L(W_L \\cdots f_1(W_1 x + b_1) \\cdots + b_L)
    """
    x2, chain, dtype = prepare(x, layers)
    z = trace(x2, chain, dtype)[-1]
    y = activate(z, chain[-1].activation)
    return y[0] if np.ndim(x) == 1 else y


def activation_pattern(x: ArrayLike, layers: Dense | Sequence[Dense]) -> np.ndarray:
    """Which ReLU units are active (``z > 0``) at ``x``.

    Parameters
    ----------
    x : array_like, shape (n_in,) or (batch, n_in)
        One input, or a batch of inputs as rows.
    layers : Dense or sequence of Dense
        The network, first layer first.

    Returns
    -------
    ndarray of bool, shape (n_relu,) or (batch, n_relu)
        The units of every ReLU layer, first layer first, concatenated;
        ``n_relu`` is the total number of ReLU units (linear and softplus
        layers have no pattern). A unit exactly at its kink (``z == 0``) counts as
        inactive,
        as ReLU'(0) = 0 does.

    Notes
    -----
    On the set of inputs that share one pattern the network is affine
    (chapter 4): ``NN(x + d) = NN(x) + J(x) d`` while the pattern holds.
    """
    x2, chain, dtype = prepare(x, layers)
    zs = trace(x2, chain, dtype)
    masks = [z > 0 for z, layer in zip(zs, chain) if layer.activation == "relu"]
    pattern = (
        np.concatenate(masks, axis=1) if masks else np.zeros((x2.shape[0], 0), bool)
    )
    return pattern[0] if np.ndim(x) == 1 else pattern
