"""The settings of the recorded experiments (chapter 10), in one place.

Huge and Savine's companion notebooks (DifferentialMLTF2.ipynb, the version
they maintain) train 4 hidden layers of 20 softplus units for 100 epochs of
``max(256, n // 16)`` examples per mini-batch, with Adam and a one-cycle
learning rate peaking at 0.1; Black-Scholes at 1,024 and 8,192 examples; the
Bachelier basket in dimension 1 (1,024 and 8,192) and 7 and 20 (4,096,
8,192 and 16,384), tested on 4,096 random spots. The book adds dimension 30
and sizes up to 131,072 (the differential PCA notebook's size).

What the book does differently, on purpose (chapter 10 says so and why):
float64 instead of float32; Glorot-uniform weights instead of TensorFlow's
``variance_scaling_initializer`` (a truncated normal of variance
``1 / fan_in``); mini-batches reshuffled every epoch instead of taken in a
fixed order; the learning rate interpolated every step instead of every
epoch; each basket's correlation, weights and volatilities drawn once per
dimension (seed = the dimension) instead of at every run, so that the spread
over repetitions is the spread of the training, not of the problem; the
training sets of one repetition nested, as theirs are (the first ``n`` of
one simulation).
"""

from __future__ import annotations

from relunet.training import default_batch_size

#: Independent repetitions of every case: data and initialisation both change.
REPETITIONS = 5

#: The notebooks' network and training.
PAPER = {
    "hidden": (20, 20, 20, 20),
    "epochs": 100,
    "schedule": "one_cycle",
    "learning_rate": 0.1,
}


#: The notebooks' mini-batch, 16 per epoch of at least 256 examples: the rule
#: train_twin now takes by default.
paper_batch_size = default_batch_size


#: Black-Scholes: spot 1, strike 1.1, volatility 0.2, states at t1 = 1 drawn
#: with 1.5 times the volatility, payoffs at t2 = 2; 100 test spots on
#: [0.35, 1.65].
BLACK_SCHOLES = {"strike": 1.1, "vol": 0.2, "t1": 1.0, "t2": 2.0, "sizes": (1024, 8192)}

#: The basket: the same dates, strike and multiplier, basket volatility 0.2.
BASKET = {
    "strike": 1.1,
    "t1": 1.0,
    "t2": 2.0,
    "test_size": 4096,
    "sizes": {
        1: (1024, 8192),
        7: (4096, 8192, 16384, 65536),
        20: (4096, 8192, 16384, 65536),
        30: (4096, 16384, 65536, 131072),
    },
}

#: Candidate defaults for train_twin, compared on the basket (dimensions 7 and
#: 20; 1,024, 8,192 and 65,536 examples) by test error and time. The first is
#: train_twin's defaults before this experiment; with "100 epochs" the
#: mini-batch follows the notebooks' rule, otherwise it is 256.
CANDIDATES = {
    "2x20, 2000 steps, cosine": {"hidden": (20, 20), "steps": 2000, "batch_size": 256},
    "4x20, 2000 steps, cosine": {"hidden": (20,) * 4, "steps": 2000, "batch_size": 256},
    "4x20, 8000 steps, cosine": {"hidden": (20,) * 4, "steps": 8000, "batch_size": 256},
    "2x20, 100 epochs, cosine": {
        "hidden": (20, 20),
        "epochs": 100,
        "paper_batch": True,
    },
    "2x20, 100 epochs, one-cycle": {
        "hidden": (20, 20),
        "epochs": 100,
        "schedule": "one_cycle",
        "learning_rate": 0.1,
        "paper_batch": True,
    },
    "4x20, 100 epochs, one-cycle": {**PAPER, "paper_batch": True},
    "4x20, 2000 steps, one-cycle": {
        "hidden": (20,) * 4,
        "steps": 2000,
        "batch_size": 256,
        "schedule": "one_cycle",
        "learning_rate": 0.1,
    },
}
CANDIDATE_DIMENSIONS, CANDIDATE_SIZES = (7, 20), (1024, 8192, 65536)

#: Gamma (chapter 10): train_twin's defaults on the Black-Scholes sets.
GAMMA_SIZES = (1024, 8192)

#: Chapter 11: twin networks on the spread basket, on all inputs and on the
#: one axis of differential PCA, train_twin's defaults.
AXES_SIZES = (1024, 4096)

#: Hedging: a call struck at 1.1 on assets starting at 1, maturity 1,
#: rebalanced 4, 13, 52 and 260 times (quarterly, every four weeks, weekly,
#: every business day: each divides the last); networks of (spots, time to maturity)
#: trained on states drawn around the paths and times in [0.003, 1] (the
#: daily hedge's last date is 1/260 = 0.00385 before maturity).
HEDGING = {
    "strike": 1.1,
    "vol": 0.2,
    "maturity": 1.0,
    "dates": (4, 13, 52, 260),
    "paths": 10_000,
    "training_size": 8192,
    "dimensions": (1, 7),
    "shortest": 0.003,
}


def record() -> dict:
    """The settings above as JSON data, written beside the results."""
    return {
        "repetitions": REPETITIONS,
        "paper": {**PAPER, "batch": "max(256, n // 16)"},
        "black_scholes": BLACK_SCHOLES,
        "basket": {**BASKET, "sizes": {str(d): s for d, s in BASKET["sizes"].items()}},
        "candidates": CANDIDATES,
        "candidate_dimensions": CANDIDATE_DIMENSIONS,
        "candidate_sizes": CANDIDATE_SIZES,
        "hedging": HEDGING,
        "axes_sizes": AXES_SIZES,
        "gamma_sizes": GAMMA_SIZES,
    }
