"""The recorded runs the book quotes, shipped with the package.

``make bench`` (``bench/run.py``) writes ``relunet/_data/benchmark.json``, which
chapters 6, 7 and 9 read through :func:`recorded_benchmark`; ``make experiments``
(``experiments/run.py``) writes ``relunet/_data/experiments.json``, which chapters 10
and 11 read through :func:`recorded_experiments`. A chapter opened on its own (Colab,
Binder, a downloaded notebook) needs no file beside it.
"""

from __future__ import annotations

import json
from importlib import resources


def _read(name: str) -> dict:
    text = resources.files("relunet").joinpath("_data", name).read_text("utf-8")
    return json.loads(text)


def recorded_experiments() -> dict:
    """The recorded experiments of chapters 10 and 11: settings, errors and hedges.

    Returns
    -------
    dict
        The contents of ``relunet/_data/experiments.json``: one list of rows
        per experiment (``black_scholes``, ``basket``, ``candidates``,
        ``hedging``, ``axes``, ``gamma``; see ``experiments/differential/cases.py``
        for their fields), ``settings``, and ``runs``, the environment of each.
    """
    return _read("experiments.json")


def recorded_benchmark() -> dict:
    """The recorded benchmark: environment, rates, cases, goals and rounds.

    Returns
    -------
    dict
        The contents of ``relunet/_data/benchmark.json`` (see ``bench/README.md``).
    """
    return _read("benchmark.json")
