"""The benchmark run the book quotes, shipped with the package (chapter 6).

``make bench`` (``bench/run.py``) writes ``relunet/_data/benchmark.json``; chapter 6
reads it through :func:`recorded_benchmark`, so that a chapter opened on its own
(Colab, Binder, a downloaded notebook) needs no file beside it.
"""

from __future__ import annotations

import json
from importlib import resources


def recorded_benchmark() -> dict:
    """The recorded benchmark: environment, rates, cases, goals and rounds.

    Returns
    -------
    dict
        The contents of ``relunet/_data/benchmark.json`` (see ``bench/README.md``).
    """
    text = (
        resources.files("relunet")
        .joinpath("_data", "benchmark.json")
        .read_text(encoding="utf-8")
    )
    return json.loads(text)
