"""Benchmark relunet.jacobian against TensorFlow and against two NumPy references.

``make bench`` runs this file. Every candidate of a case is measured in one
process, on the same inputs, after a warm-up, in interleaved rounds (each
round times every candidate once, in a rotating order, so that a slow phase
of the machine hits all of them alike). A sample repeats a call enough
times to last at least ``SAMPLE_SECONDS``; the report gives the median,
minimum and maximum time per call over the rounds.

Writes ``src/relunet/_data/benchmark.json`` (machine, versions, date, every
timing; shipped with the package, so that chapter 6 reads it anywhere) and
``bench/results.md`` (the ratios and the targets). TensorFlow runs with its
defaults, oneDNN on: the strongest baseline.

Usage: python bench/run.py [--rounds N] [--quick]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

os.environ.pop("TF_ENABLE_ONEDNN_OPTS", None)  # TensorFlow's default: oneDNN on
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import relunet as rn  # noqa: E402
from relunet._workspace import thread_workspace  # noqa: E402
from relunet.network import weights  # noqa: E402

tf.get_logger().setLevel(
    "ERROR"
)  # eager batch_jacobian warns about retracing on every call

HERE = Path(__file__).resolve().parent
RECORDED = HERE.parent / "src" / "relunet" / "_data" / "benchmark.json"
SAMPLE_SECONDS = 0.1
# Idle time before each sample. TensorFlow's and OpenBLAS's worker threads
# keep spinning for a while after a call; without a pause they would slow
# down whichever candidate runs next, and the interleaving would punish the
# candidates that follow the heaviest one.
PAUSE_SECONDS = 0.05

SINGLE_SIZES = [(32, 4, 2), (256, 64, 64), (1024, 256, 256)]
DEEP_WIDTHS = [64, 256, 256, 256, 256]  # n_in, then four hidden ReLU layers
DEEP_BATCH = 256


# --- the candidates ---------------------------------------------------------


def tf_network(layers):
    """The network as TensorFlow ops, and its batch Jacobian (eager and traced)."""
    Ws = [tf.constant(layer.W) for layer in layers]
    bs = [tf.constant(layer.b) for layer in layers]
    relu = [layer.activation == "relu" for layer in layers]

    def batch_jacobian(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            a = x
            for W, b, is_relu in zip(Ws, bs, relu):
                a = tf.matmul(a, W, transpose_b=True) + b
                if is_relu:
                    a = tf.nn.relu(a)
        return tape.batch_jacobian(a, x)

    return batch_jacobian, tf.function(batch_jacobian)


def write_floor(shape, dtype):
    """Allocate and write an array of the Jacobian's size: no method can do less."""
    return lambda: np.full(shape, 1.0, dtype)


def chain_floor(x, layers):
    """The forward pass, then the unmasked product chain in the cheaper order,
    as large 2-D matrix products into buffers allocated beforehand: the
    arithmetic relunet cannot avoid, without masks, blocks or allocation."""
    dtype = x.dtype
    Ws = [W for W, _ in weights(layers, dtype)]
    bs = [b for _, b in weights(layers, dtype)]
    batch, n_in, n_out = x.shape[0], layers[0].n_in, layers[-1].n_out
    zs = [np.empty((batch, layer.n_out), dtype) for layer in layers]
    acts = [np.empty((batch, layer.n_out), dtype) for layer in layers]
    if rn.choose_mode(layers) == "reverse":
        first = np.empty((batch * n_out, Ws[-1].shape[1]), dtype)
        first.reshape(batch, n_out, -1)[...] = Ws[-1]
        chain = [
            (W, np.empty((batch * n_out, W.shape[1]), dtype)) for W in reversed(Ws[:-1])
        ]
    else:
        first = np.empty((Ws[0].shape[0], batch * n_in), dtype)
        first.reshape(Ws[0].shape[0], batch, n_in)[...] = Ws[0][:, np.newaxis, :]
        chain = [(W, np.empty((W.shape[0], batch * n_in), dtype)) for W in Ws[1:]]
    reverse = rn.choose_mode(layers) == "reverse"

    def run():
        a = x
        for W, b, z, act in zip(Ws, bs, zs, acts):
            np.matmul(a, W.T, out=z)
            z += b
            a = np.maximum(z, 0, out=act)
        P = first
        for W, product in chain:
            np.matmul(P, W, out=product) if reverse else np.matmul(W, P, out=product)
            P = product

    return run


# --- measuring ----------------------------------------------------------------


def calls_per_sample(function) -> int:
    start = time.perf_counter()
    function()
    once = time.perf_counter() - start
    return max(1, int(np.ceil(SAMPLE_SECONDS / max(once, 1e-7))))


def measure(candidates: dict, rounds: int) -> dict:
    """Warm up, then time every candidate once per round, in a rotating order."""
    for function in candidates.values():
        for _ in range(3):
            function()
    repeats = {
        name: calls_per_sample(function) for name, function in candidates.items()
    }
    samples = {name: [] for name in candidates}
    names = list(candidates)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            function, k = candidates[name], repeats[name]
            time.sleep(PAUSE_SECONDS)
            start = time.perf_counter()
            for _ in range(k):
                function()
            samples[name].append((time.perf_counter() - start) / k)
    return {
        name: {
            "median_s": float(np.median(times)),
            "min_s": float(np.min(times)),
            "max_s": float(np.max(times)),
            "rounds": len(times),
            "calls_per_sample": repeats[name],
        }
        for name, times in samples.items()
    }


def peak_extra_memory(function, output_nbytes: int) -> float:
    """Memory a call needs beyond its output, over the output size.

    The peak of what the call allocates (tracemalloc, which sees NumPy's
    allocations), less the output, plus the part of relunet's per-thread
    workspace the call used (allocated by an earlier call, so invisible to
    tracemalloc, but memory the call needs all the same)."""
    workspace = thread_workspace()
    workspace.high_water = 0
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return (peak - output_nbytes + workspace.high_water) / output_nbytes


# --- the cases --------------------------------------------------------------------


def single_layer_cases(rounds: int) -> list[dict]:
    cases = []
    for dtype in (np.float32, np.float64):
        for batch, n_in, n_out in SINGLE_SIZES:
            rng = np.random.default_rng(batch + n_in)
            layer = rn.Dense(
                rng.normal(size=(n_out, n_in)).astype(dtype),
                rng.normal(size=n_out).astype(dtype),
            )
            x = rng.normal(size=(batch, n_in)).astype(dtype)
            x_tf = tf.constant(x)
            eager, traced = tf_network([layer])
            np.testing.assert_allclose(
                rn.jacobian(x, layer), traced(x_tf).numpy(), rtol=1e-5, atol=1e-6
            )
            candidates = {
                "relunet": lambda x=x, layer=layer: rn.jacobian(x, layer),
                "tf_function": lambda x_tf=x_tf, f=traced: f(x_tf),
                "write_floor": write_floor((batch, n_out, n_in), dtype),
            }
            result = measure(candidates, rounds)
            # Eager mode is measured in rounds of its own, after the others: its
            # large temporary allocations slow down the memory system (page
            # faults on fresh memory) for whatever runs right after it, which
            # would charge its cost to the other candidates.
            result.update(
                measure(
                    {"tf_eager": lambda x_tf=x_tf, f=eager: f(x_tf)},
                    max(3, rounds // 3),
                )
            )
            output = batch * n_out * n_in * np.dtype(dtype).itemsize
            cases.append(
                {
                    "case": "single_layer",
                    "dtype": np.dtype(dtype).name,
                    "batch": batch,
                    "n_in": n_in,
                    "n_out": n_out,
                    "timings": result,
                    "peak_extra_memory_over_output": peak_extra_memory(
                        lambda: rn.jacobian(x, layer), output
                    ),
                }
            )
            print(
                f"single layer {np.dtype(dtype).name} {batch}x{n_in}x{n_out}: done",
                flush=True,
            )
    return cases


def deep_cases(rounds: int) -> list[dict]:
    cases = []
    for n_out in (1, 64):
        dtype = np.float32
        layers = rn.he_normal(
            DEEP_WIDTHS + [n_out], seed=n_out, bias_std=0.1, dtype=dtype
        )
        x = (
            np.random.default_rng(n_out)
            .normal(size=(DEEP_BATCH, DEEP_WIDTHS[0]))
            .astype(dtype)
        )
        x_tf = tf.constant(x)
        _, traced = tf_network(layers)
        np.testing.assert_allclose(
            rn.jacobian(x, layers), traced(x_tf).numpy(), rtol=1e-3, atol=1e-4
        )
        candidates = {
            "relunet_auto": lambda: rn.jacobian(x, layers, mode="auto"),
            "relunet_forward": lambda: rn.jacobian(x, layers, mode="forward"),
            "relunet_reverse": lambda: rn.jacobian(x, layers, mode="reverse"),
            "tf_function": lambda: traced(x_tf),
            "chain_floor": chain_floor(x, layers),
        }
        result = measure(candidates, rounds)
        output = DEEP_BATCH * n_out * DEEP_WIDTHS[0] * np.dtype(dtype).itemsize
        cases.append(
            {
                "case": "deep",
                "dtype": np.dtype(dtype).name,
                "batch": DEEP_BATCH,
                "n_in": DEEP_WIDTHS[0],
                "n_out": n_out,
                "widths": DEEP_WIDTHS + [n_out],
                "auto_mode": rn.choose_mode(layers),
                "timings": result,
                "peak_extra_memory_over_output": peak_extra_memory(
                    lambda: rn.jacobian(x, layers), output
                ),
            }
        )
        print(f"deep network, n_out = {n_out}: done", flush=True)
    return cases


# --- reporting ----------------------------------------------------------------------


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = np.__config__.CONFIG.get("Build Dependencies", {}).get("blas", {})
    libc = " ".join(platform.libc_ver()).strip() or "libc ?"
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M"
        ),
        "platform": f"{platform.system()} {platform.machine()} ({libc})",
        "cpu": model,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": f"{blas.get('name', '?')} {blas.get('version', '')}".strip(),
        "tensorflow": tf.__version__,
        "tensorflow_onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)"),
        "relunet": rn.__version__,
    }


def ratios(results: dict) -> dict:
    """The figures the targets are stated in."""
    out = {}
    for case in results["cases"]:
        t = {name: v["median_s"] for name, v in case["timings"].items()}
        if case["case"] == "single_layer":
            key = (
                f"single {case['dtype']} {case['batch']}x{case['n_in']}x{case['n_out']}"
            )
            out[key] = {
                "speed-up over tf.function": t["tf_function"] / t["relunet"],
                "speed-up over eager": t["tf_eager"] / t["relunet"],
                "time over write floor": t["relunet"] / t["write_floor"],
                "peak extra memory / output": case["peak_extra_memory_over_output"],
            }
        else:
            key = f"deep {case['dtype']} n_out={case['n_out']}"
            best = min(t["relunet_forward"], t["relunet_reverse"])
            out[key] = {
                "speed-up over tf.function": t["tf_function"] / t["relunet_auto"],
                "time over chain floor": t["relunet_auto"] / t["chain_floor"],
                "auto over best mode": t["relunet_auto"] / best,
                "peak extra memory / output": case["peak_extra_memory_over_output"],
            }
    return out


TARGETS = [
    # (case prefix, figure, comparison, bound)
    ("single", "speed-up over tf.function", ">=", 3.0),
    ("single float32 1024x256x256", "time over write floor", "<=", 1.5),
    ("single float64 1024x256x256", "time over write floor", "<=", 1.5),
    ("deep float32 n_out=1", "speed-up over tf.function", ">=", 1.5),
    ("deep float32 n_out=64", "speed-up over tf.function", ">=", 0.9),
    ("deep", "time over chain floor", "<=", 1.5),
    ("deep", "auto over best mode", "<=", 1.10),
    ("", "peak extra memory / output", "<=", 1.5),
]


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Measured {m['date_utc']} UTC on {m['cpu']} ({m['cpu_count']} cores), "
        f"{m['platform']};",
        f"Python {m['python']}, NumPy {m['numpy']} ({m['blas']}), TensorFlow "
        f"{m['tensorflow']} "
        f"(oneDNN: {m['tensorflow_onednn']}), relunet {m['relunet']}.",
        f"Medians of {results['rounds']} interleaved rounds; generated by `make bench` "
        "(bench/run.py).",
        "",
        "## Times (median per call, min-max in brackets)",
        "",
        "| case | candidate | median | min | max |",
        "|---|---|---|---|---|",
    ]
    for case in results["cases"]:
        label = (
            f"single {case['dtype']} {case['batch']}x{case['n_in']}x{case['n_out']}"
            if case["case"] == "single_layer"
            else f"deep {case['dtype']} n_out={case['n_out']} "
            f"(auto = {case['auto_mode']})"
        )
        for name, v in case["timings"].items():
            lines.append(
                f"| {label} | {name} | {v['median_s'] * 1e3:.3f} ms | "
                f"{v['min_s'] * 1e3:.3f} | {v['max_s'] * 1e3:.3f} |"
            )
    lines += [
        "",
        "## Ratios and targets",
        "",
        "| case | figure | value | target | met |",
        "|---|---|---|---|---|",
    ]
    for key, figures in results["ratios"].items():
        for figure, value in figures.items():
            target = next(
                (
                    f"{op} {bound:g}"
                    for prefix, fig, op, bound in TARGETS
                    if key.startswith(prefix) and fig == figure
                ),
                "",
            )
            met = ""
            if target:
                op, bound = target.split()
                met = (
                    "yes"
                    if (value >= float(bound) if op == ">=" else value <= float(bound))
                    else "**no**"
                )
            lines.append(f"| {key} | {figure} | {value:.2f} | {target} | {met} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds",
        type=int,
        default=15,
        help="interleaved rounds per case (default 15)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="3 rounds, results not written"
    )
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else args.rounds
    results = {
        "machine": machine(),
        "rounds": rounds,
        "cases": single_layer_cases(rounds) + deep_cases(rounds),
    }
    results["ratios"] = ratios(results)
    results["targets"] = [
        {"case_prefix": prefix, "figure": figure, "comparison": op, "bound": bound}
        for prefix, figure, op, bound in TARGETS
    ]
    report = markdown(results)
    print(report)
    if not args.quick:
        RECORDED.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
        (HERE / "results.md").write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
