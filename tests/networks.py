"""Random networks for the tests: shapes from hypothesis, values from a seed."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import relunet as rn


def random_network(
    rng: np.random.Generator,
    widths: list[int],
    activations: list[str],
    dtype=np.float64,
    integer: bool = False,
) -> list[rn.Dense]:
    """Layers with ``widths[0]`` inputs and ``widths[k + 1]`` units in layer k.

    With ``integer=True`` weights and biases are small integers, so every
    pre-activation is computed exactly (whatever the summation order) and
    many of them are exactly 0: the kink, reached on purpose.
    """
    layers = []
    for n_in, n_out, activation in zip(widths[:-1], widths[1:], activations):
        if integer:
            W = rng.integers(-2, 3, size=(n_out, n_in)).astype(dtype)
            b = rng.integers(-1, 2, size=n_out).astype(dtype)
        else:
            W = rng.normal(scale=1 / np.sqrt(n_in), size=(n_out, n_in)).astype(dtype)
            b = rng.normal(scale=0.5, size=n_out).astype(dtype)
        layers.append(rn.Dense(W, b, activation))
    return layers


@st.composite
def network_shapes(
    draw,
    max_layers: int = 4,
    max_width: int = 6,
    max_batch: int = 5,
    hidden: tuple[str, ...] = ("relu", "linear"),
    last: tuple[str, ...] | None = None,
):
    """Draw (widths, activations, batch, seed) for a random network.

    Every layer's activation is drawn from ``hidden``, or, when ``last`` is
    given, the output layer's from ``last``.
    """
    depth = draw(st.integers(1, max_layers))
    widths = draw(
        st.lists(st.integers(1, max_width), min_size=depth + 1, max_size=depth + 1)
    )
    inner = depth if last is None else depth - 1
    activations = draw(
        st.lists(st.sampled_from(list(hidden)), min_size=inner, max_size=inner)
    )
    if last is not None:
        activations.append(draw(st.sampled_from(list(last))))
    batch = draw(st.integers(1, max_batch))
    seed = draw(st.integers(0, 2**32 - 1))
    return widths, activations, batch, seed


def integer_case(shape, integer: bool = True):
    """A network and a batch of small-integer inputs for a drawn shape.

    Returns ``(rng, layers, x)``; with ``integer`` the weights are small
    integers too, so that pre-activations are exact and often exactly 0.
    """
    widths, activations, batch, seed = shape
    rng = np.random.default_rng(seed)
    layers = random_network(rng, widths, activations, integer=integer)
    x = rng.integers(-2, 3, size=(batch, widths[0])).astype(np.float64)
    return rng, layers, x


def random_case(shape):
    """``(rng, layers, x)`` for a drawn ``(widths, activations, batch, seed)``.

    Normal weights (``random_network``) and a batch of normal inputs.
    """
    widths, activations, batch, seed = shape
    rng = np.random.default_rng(seed)
    layers = random_network(rng, widths, activations)
    return rng, layers, rng.normal(size=(batch, widths[0]))
