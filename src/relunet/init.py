"""Random networks for experiments: He initialisation (chapters 4 and 5)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from relunet._checks import as_seed
from relunet.layers import Dense


def he_normal(
    widths: Sequence[int],
    seed: int,
    weight_gain: float = 1.0,
    bias_std: float = 0.0,
    output_activation: str = "linear",
    dtype=np.float64,
) -> list[Dense]:
    """A random network with He-normal weights.

    Parameters
    ----------
    widths : sequence of int
        ``(n_0, n_1, ..., n_L)``: input size, then the width of each layer.
    seed : int
        A non-negative seed of ``numpy.random.default_rng``: the same seed,
        the same network.
    weight_gain : float, default 1.0
        Multiplies the standard deviation ``sqrt(2 / n_{l-1})`` of He et al.
        (2015); values far from 1 make deep products vanish or explode
        (chapter 4).
    bias_std : float, default 0.0
        Standard deviation of the normal biases.
    output_activation : {"linear", "relu"}, default "linear"
        Activation of the last layer; every other layer is ReLU.
    dtype : numpy dtype, default float64

    Returns
    -------
    list of Dense
    """
    if isinstance(widths, (str, bytes)) or not isinstance(
        widths, Sequence | np.ndarray
    ):
        raise TypeError(
            "widths must be a sequence (n_0, n_1, ..., n_L) of positive integers, "
            f"got {type(widths).__name__} {widths!r}"
        )
    widths = list(widths)
    if len(widths) < 2 or not all(
        isinstance(n, (int, np.integer))
        and not isinstance(n, (bool, np.bool_))
        and n >= 1
        for n in widths
    ):
        raise ValueError(
            f"widths must be (n_0, n_1, ..., n_L) of positive integers, got {widths!r}"
        )
    widths = [int(n) for n in widths]
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise TypeError(
            "dtype must be a floating dtype (float32 or float64), got "
            f"{np.dtype(dtype)}"
        )
    if not (
        np.isfinite(weight_gain)
        and weight_gain > 0
        and np.isfinite(bias_std)
        and bias_std >= 0
    ):
        raise ValueError(
            f"weight_gain must be > 0 and bias_std >= 0, got {weight_gain!r} and "
            f"{bias_std!r}"
        )
    rng = np.random.default_rng(as_seed(seed))
    layers = []
    for k, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        W = rng.normal(scale=weight_gain * np.sqrt(2.0 / n_in), size=(n_out, n_in))
        b = rng.normal(scale=bias_std, size=n_out) if bias_std > 0 else np.zeros(n_out)
        activation = output_activation if k == len(widths) - 2 else "relu"
        layers.append(Dense(W.astype(dtype), b.astype(dtype), activation))
    return layers
