"""The Jacobian cases: one ReLU layer at three sizes, four deep networks.

:func:`case_inputs` builds every case from fixed seeds; :func:`timed_cases`
checks every candidate against ``rn.jacobian`` and times relunet (each
order, for deep networks), the peers and the case's reference together.
"""

from __future__ import annotations

import numpy as np

import relunet as rn

from .measure import measure, peak_extra_memory
from .peers import check_agreement, peer_calls
from .references import (
    case_work,
    rate_model_s,
    unmasked_chain,
    write_bandwidth,
    write_reference,
)

BATCH = 256

SINGLE_SIZES = {"tiny": (32, 4, 2), "mid": (256, 64, 64), "largest": (1024, 256, 256)}
DEEP_CASES = {  # name: widths (n_0, ..., n_L), relunet's mode
    "deep, 1 output": ([64, 256, 256, 256, 256, 1], "auto"),
    "deep, 64 outputs": ([64, 256, 256, 256, 256, 64], "auto"),
    "tall": ([2, 256, 256, 256, 256, 256], "auto"),
    "hourglass": ([256, 256, 4, 256, 256], "optimal"),
}


def run_case(name, layers, x, relunet_calls, reference, rounds, rates, mode):
    dtype = x.dtype
    expected = rn.jacobian(x, layers)
    peers = peer_calls(layers, x)
    check_agreement({**relunet_calls, **peers}, expected)
    timings = measure({**relunet_calls, **peers, **reference}, rounds)
    work = case_work(layers, x.shape[0], mode, dtype)
    work["write_bytes_per_s"] = write_bandwidth(work["output_bytes"], rounds)
    result = {
        "name": name,
        "dtype": np.dtype(dtype).name,
        "batch": int(x.shape[0]),
        "widths": [layers[0].n_in] + [layer.n_out for layer in layers],
        "mode": mode,
        "timings": timings,
        "work": work,
        "rate_model_s": rate_model_s(work, rates, dtype),
        "peak_extra_memory_over_output": peak_extra_memory(
            lambda: rn.jacobian(x, layers, mode=mode), expected.nbytes
        ),
    }
    if len(layers) > 1:
        result["auto_mode"] = rn.choose_mode(layers)
        result["best_bracketing"] = rn.best_bracketing(layers)[1]
        result["multiply_adds_per_sample"] = {
            m: rn.jacobian_cost(layers, m) for m in ("forward", "reverse", "optimal")
        }
    print(f"{name} {result['dtype']}: done", flush=True)
    return result


def case_inputs():
    """Every case as (name, layers, x, relunet's mode), built from fixed seeds."""
    for dtype in (np.float32, np.float64):
        for size, (batch, n_in, n_out) in SINGLE_SIZES.items():
            rng = np.random.default_rng(batch + n_in)
            layer = rn.Dense(
                rng.normal(size=(n_out, n_in)).astype(dtype),
                rng.normal(size=n_out).astype(dtype),
            )
            x = rng.normal(size=(batch, n_in)).astype(dtype)
            yield f"one layer, {size} ({batch}x{n_in}->{n_out})", [layer], x, "auto"
    for name, (widths, mode) in DEEP_CASES.items():
        dtype = np.float32
        layers = rn.he_normal(widths, seed=len(name), bias_std=0.1, dtype=dtype)
        rng = np.random.default_rng(widths[-1])
        yield name, layers, rng.normal(size=(BATCH, widths[0])).astype(dtype), mode


def timed_cases(rounds: int, rates: dict) -> list[dict]:
    cases = []
    for name, layers, x, mode in case_inputs():
        if len(layers) == 1:
            relunet_calls = {"relunet": lambda x=x, l=layers[0]: rn.jacobian(x, l)}
            shape = (x.shape[0], layers[0].n_out, layers[0].n_in)
            reference = {"write_reference": write_reference(shape, x.dtype)}
        else:
            modes = ["auto", "forward", "reverse"] + (
                ["optimal"] if mode == "optimal" else []
            )
            relunet_calls = {
                f"relunet_{m}": lambda m=m, x=x, layers=layers: rn.jacobian(
                    x, layers, mode=m
                )
                for m in modes
            }
            reference = {"unmasked_chain": unmasked_chain(x, layers, mode)}
        cases.append(
            run_case(name, layers, x, relunet_calls, reference, rounds, rates, mode)
        )
    return cases
