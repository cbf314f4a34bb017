"""Benchmark relunet.jacobian against generic autodiff and against floors.

``make bench`` runs this file. For every case, in one process and on the
same inputs, after checking that every candidate returns the same Jacobian:

- relunet (pure NumPy): the closed form ``D_L W_L ... D_1 W_1``;
- peers (generic automatic differentiation, compiled): TensorFlow's
  ``batch_jacobian`` in a ``tf.function`` (graph) and with XLA
  (``jit_compile=True``); JAX's ``jit(vmap(jacrev))`` and
  ``jit(vmap(jacfwd))``. The best peer of a case is the fastest of them;
- references measured in the same run: for one layer, writing an array of
  the Jacobian's size (``np.full``); for a deep network, the forward pass
  and the same matrix products without masks, in the same order, into
  buffers allocated beforehand;
- a roofline bound from the machine itself: the case's floating-point
  operations at the sustained matrix-product rate, or its output bytes at
  the sustained write bandwidth, whichever takes longer (both measured in
  this run).

Every candidate is timed after a warm-up, in interleaved rounds: each round
times every candidate once, in a rotating order, after a short pause, so
that a slow phase of the machine hits all of them alike. A sample repeats a
call for at least ``SAMPLE_SECONDS``; the report gives the median, minimum
and maximum time per call over the rounds.

Writes ``src/relunet/_data/benchmark.json`` (environment, every timing and
ratio, the goals; shipped with the package so that chapter 6 reads it
anywhere) and ``bench/results.md``.

Usage: python bench/run.py [--rounds N] [--quick]
"""

from __future__ import annotations

import os

# NumPy runs on OpenBLAS's own choice of kernel for this CPU: a kernel forced
# through the environment is dropped for this process (OpenBLAS reads these
# when NumPy loads it) and recorded.
DROPPED = {
    name: os.environ.pop(name)
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    if name in os.environ
}
os.environ.pop("TF_ENABLE_ONEDNN_OPTS", None)  # TensorFlow's default: oneDNN on
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import threadpoolctl  # noqa: E402

import relunet as rn  # noqa: E402
from relunet.accumulation import _bracketing_table  # noqa: E402
from relunet.network import weights  # noqa: E402

jax.config.update("jax_enable_x64", True)  # float64 cases stay float64
tf.get_logger().setLevel("ERROR")

HERE = Path(__file__).resolve().parent
RECORDED = HERE.parent / "src" / "relunet" / "_data" / "benchmark.json"
SAMPLE_SECONDS = 0.1
# Idle time before each sample. TensorFlow's, XLA's and OpenBLAS's worker
# threads keep spinning for a while after a call; without a pause they would
# slow down whichever candidate runs next.
PAUSE_SECONDS = 0.05
BATCH = 256

SINGLE_SIZES = {"tiny": (32, 4, 2), "mid": (256, 64, 64), "largest": (1024, 256, 256)}
DEEP_CASES = {  # name: widths (n_0, ..., n_L), relunet's mode
    "deep, 1 output": ([64, 256, 256, 256, 256, 1], "auto"),
    "deep, 64 outputs": ([64, 256, 256, 256, 256, 64], "auto"),
    "tall": ([2, 256, 256, 256, 256, 256], "auto"),
    "hourglass": ([256, 256, 4, 256, 256], "optimal"),
}
PEERS = ("tf_graph", "tf_xla", "jax_jacrev", "jax_jacfwd")


# --- the peers ------------------------------------------------------------------


def tf_peers(layers) -> dict:
    """``batch_jacobian`` of the network as TensorFlow ops: graph and XLA."""
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

    return {
        "tf_graph": tf.function(batch_jacobian),
        "tf_xla": tf.function(batch_jacobian, jit_compile=True),
    }


def jax_peers(layers) -> dict:
    """The network as a JAX function of one sample; its Jacobian, vmapped, jitted."""
    Ws = [jax.numpy.asarray(layer.W) for layer in layers]
    bs = [jax.numpy.asarray(layer.b) for layer in layers]
    relu = [layer.activation == "relu" for layer in layers]

    def network(x):
        a = x
        for W, b, is_relu in zip(Ws, bs, relu):
            a = W @ a + b
            if is_relu:
                a = jax.nn.relu(a)
        return a

    jacrev = jax.jit(jax.vmap(jax.jacrev(network)))
    jacfwd = jax.jit(jax.vmap(jax.jacfwd(network)))
    return {
        "jax_jacrev": lambda x: jacrev(x).block_until_ready(),
        "jax_jacfwd": lambda x: jacfwd(x).block_until_ready(),
    }


def peer_calls(layers, x) -> dict:
    """Each peer as a call without arguments, on its own copy of ``x``."""
    x_tf, x_jax = tf.constant(x), jax.numpy.asarray(x)
    calls = {}
    for name, f in tf_peers(layers).items():
        calls[name] = lambda f=f: f(x_tf)
    for name, f in jax_peers(layers).items():
        calls[name] = lambda f=f: f(x_jax)
    return calls


def check_agreement(calls: dict, expected: np.ndarray) -> None:
    """Every candidate returns relunet's Jacobian (to the dtype's rounding)."""
    tol = (
        dict(rtol=1e-4, atol=1e-4)
        if expected.dtype == np.float32
        else dict(rtol=1e-10, atol=1e-10)
    )
    for name, call in calls.items():
        got = np.asarray(call())
        if got.shape != expected.shape:
            raise AssertionError(f"{name}: shape {got.shape}, want {expected.shape}")
        np.testing.assert_allclose(got, expected, err_msg=name, **tol)


# --- the references -------------------------------------------------------------


def write_floor(shape, dtype):
    """Allocate and write an array of the Jacobian's size."""
    return lambda: np.full(shape, 1.0, dtype)


def unmasked_chain(x, layers, mode):
    """The forward pass, then the Jacobian's matrix products without masks,
    in the order relunet uses for ``mode`` (forward, reverse, or the best
    bracketing: its split, each side in its pure order), into buffers
    allocated beforehand: relunet's arithmetic without masks or allocation."""
    dtype, batch = x.dtype, x.shape[0]
    Ws = [W for W, _ in weights(layers, dtype)]
    bs = [b for _, b in weights(layers, dtype)]
    widths = [layers[0].n_in] + [layer.n_out for layer in layers]
    mode = rn.choose_mode(layers) if mode == "auto" else mode
    table = _bracketing_table(widths)

    def steps(i, j, out):
        """The products of W_j ... W_i into ``out``, as relunet orders them."""
        how = mode if mode != "optimal" else table[i, j][1]
        if how in ("forward", "reverse"):
            return [segment(Ws, widths, batch, i, j, how, out)]
        if how == "reverse step":
            top = np.empty((batch, widths[j], widths[i]), dtype)
            flat = out.reshape(-1, widths[i - 1])
            product = lambda: np.matmul(top.reshape(-1, widths[i]), Ws[i - 1], out=flat)
            return steps(i + 1, j, top) + [product]
        if how == "forward step":
            bottom = np.empty((batch, widths[j - 1], widths[i - 1]), dtype)
            product = lambda: np.matmul(Ws[j - 1], bottom, out=out)
            return steps(i, j - 1, bottom) + [product]
        k = how
        top = np.empty((batch, widths[j], widths[k]), dtype)
        bottom = np.empty((batch, widths[k], widths[i - 1]), dtype)
        product = lambda: np.matmul(top, bottom, out=out)
        return steps(k + 1, j, top) + steps(i, k, bottom) + [product]

    out = np.empty((batch, widths[-1], widths[0]), dtype)
    chain = steps(1, len(layers), out)

    def run():
        a = x
        for W, b in zip(Ws, bs):
            z = a @ W.T
            z += b
            a = np.maximum(z, 0)
        for step in chain:
            step()

    run.out = out
    return run


def segment(Ws, widths, batch, i, j, order, out):
    """``W_j ... W_i`` for every sample, in ``order``, into ``out`` of shape
    (batch, n_j, n_{i-1}); the first factor copied per sample, as relunet does."""
    dtype = out.dtype
    if order == "forward":  # kept transposed: (batch, n_{i-1}, n_l)
        first = np.empty((batch, widths[i - 1], widths[i]), dtype)
        steps = [
            (W.T, np.empty((batch * widths[i - 1], W.shape[0]), dtype)) for W in Ws[i:j]
        ]

        def run():
            first[...] = Ws[i - 1].T
            T = first.reshape(-1, widths[i])
            for W_T, buffer in steps:
                T = np.matmul(T, W_T, out=buffer)
            np.copyto(
                out, T.reshape(batch, widths[i - 1], widths[j]).transpose(0, 2, 1)
            )

        return run
    first = np.empty((batch, widths[j], widths[j - 1]), dtype)
    inner = Ws[i - 1 : j - 1][::-1]  # W_{j-1}, ..., W_i; the last into out
    steps = [(W, np.empty((batch * widths[j], W.shape[1]), dtype)) for W in inner[:-1]]

    def run():
        first[...] = Ws[j - 1]
        R = first.reshape(-1, widths[j - 1])
        for W, buffer in steps:
            R = np.matmul(R, W, out=buffer)
        if inner:
            np.matmul(R, inner[-1], out=out.reshape(-1, widths[i - 1]))
        else:
            out[...] = first

    return run


# --- the machine's own rates ----------------------------------------------------


def machine_rates(rounds: int) -> dict:
    """Sustained matrix-product rate (per dtype), measured on 1024 x 1024 products."""
    rates = {}
    n = 1024
    for dtype in (np.float32, np.float64):
        A = np.random.default_rng(0).random((n, n)).astype(dtype)
        C = np.empty_like(A)
        t = measure({"gemm": lambda A=A, C=C: np.matmul(A, A, out=C)}, rounds)
        rates[f"gemm_flops_per_s_{np.dtype(dtype).name}"] = (
            2 * n**3 / t["gemm"]["min_s"]
        )
    return rates


def write_bandwidth(nbytes: int, rounds: int) -> float:
    """Bytes per second filling ``nbytes`` of memory already mapped (the best round)."""
    buffer = np.empty(nbytes, np.uint8)
    t = measure({"fill": lambda: buffer.fill(1)}, rounds)
    return nbytes / t["fill"]["min_s"]


def case_work(layers, batch: int, mode: str, dtype) -> dict:
    """Floating-point operations of relunet's algorithm and bytes of its output."""
    widths = [layers[0].n_in] + [layer.n_out for layer in layers]
    forward_pass = sum(m * n for n, m in zip(widths, widths[1:]))
    if len(layers) == 1:
        chain = 0
    else:
        if mode == "auto":
            mode = rn.choose_mode(layers)
        chain = rn.jacobian_cost(layers, mode)
    return {
        "flops": 2 * batch * (forward_pass + chain),
        "output_bytes": batch * widths[0] * widths[-1] * np.dtype(dtype).itemsize,
    }


def roofline_s(work: dict, rates: dict, dtype) -> float:
    """The time the machine needs at its measured rates: compute or memory.

    Floating-point operations at the sustained matrix-product rate, or the
    output's bytes at the rate the machine fills that much memory, already
    mapped (no page faults), whichever takes longer.
    """
    gemm = rates[f"gemm_flops_per_s_{np.dtype(dtype).name}"]
    return max(work["flops"] / gemm, work["output_bytes"] / work["write_bytes_per_s"])


# --- measuring ------------------------------------------------------------------


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
    repeats = {name: calls_per_sample(f) for name, f in candidates.items()}
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
    """Peak memory a call allocates beyond its output, over the output size."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return (peak - output_nbytes) / output_nbytes


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
        "roofline_s": roofline_s(work, rates, dtype),
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


def single_layer_cases(rounds: int, rates: dict) -> list[dict]:
    cases = []
    for dtype in (np.float32, np.float64):
        for size, (batch, n_in, n_out) in SINGLE_SIZES.items():
            rng = np.random.default_rng(batch + n_in)
            layer = rn.Dense(
                rng.normal(size=(n_out, n_in)).astype(dtype),
                rng.normal(size=n_out).astype(dtype),
            )
            x = rng.normal(size=(batch, n_in)).astype(dtype)
            cases.append(
                run_case(
                    f"one layer, {size} ({batch}x{n_in}->{n_out})",
                    [layer],
                    x,
                    {"relunet": lambda x=x, layer=layer: rn.jacobian(x, layer)},
                    {"write_floor": write_floor((batch, n_out, n_in), dtype)},
                    rounds,
                    rates,
                    "auto",
                )
            )
    return cases


def deep_cases(rounds: int, rates: dict) -> list[dict]:
    cases = []
    for name, (widths, mode) in DEEP_CASES.items():
        dtype = np.float32
        layers = rn.he_normal(widths, seed=len(name), bias_std=0.1, dtype=dtype)
        x = (
            np.random.default_rng(widths[-1])
            .normal(size=(BATCH, widths[0]))
            .astype(dtype)
        )
        modes = ["auto", "forward", "reverse"] + (
            ["optimal"] if mode == "optimal" else []
        )
        relunet_calls = {
            f"relunet_{m}": lambda m=m: rn.jacobian(x, layers, mode=m) for m in modes
        }
        cases.append(
            run_case(
                name,
                layers,
                x,
                relunet_calls,
                {"unmasked_chain": unmasked_chain(x, layers, mode)},
                rounds,
                rates,
                mode,
            )
        )
    return cases


# --- reporting ------------------------------------------------------------------


def environment() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = [
        {
            key: info.get(key)
            for key in ("internal_api", "version", "architecture", "num_threads")
        }
        for info in threadpoolctl.threadpool_info()
        if info.get("user_api") == "blas"
    ]
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
        "numpy_blas": blas,
        "blas_environment_dropped": DROPPED,
        "tensorflow": tf.__version__,
        "tensorflow_onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)"),
        "tensorflow_threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads()
            or "default (all cores)",
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads()
            or "default (all cores)",
        },
        "jax": jax.__version__,
        "jax_devices": [str(d) for d in jax.devices()],
        "relunet": rn.__version__,
    }


#: The time the ratios use: each candidate's fastest sample over the rounds.
#: On a shared machine other processes only ever slow a call down, so the
#: fastest sample is the best estimate of what the code itself costs (the
#: reasoning of Python's ``timeit``); the median is reported beside it.
STATISTIC = "min_s"


def figures(case: dict) -> dict:
    """The ratios the goals are stated in (speed-ups: above 1 is faster).

    Each candidate's time is its fastest sample (:data:`STATISTIC`).
    """
    t = {name: v[STATISTIC] for name, v in case["timings"].items()}
    ours = t["relunet"] if "relunet" in t else t[f"relunet_{case['mode']}"]
    best_peer = min(PEERS, key=lambda p: t[p])
    out = {
        "relunet_s": ours,
        "best_peer": best_peer,
        "best_peer_s": t[best_peer],
        "speed_up_over_best_peer": t[best_peer] / ours,
        "time_over_roofline": ours / case["roofline_s"],
    }
    out.update({f"speed_up_over_{p}": t[p] / ours for p in PEERS})
    if "write_floor" in t:
        out["time_over_write_floor"] = ours / t["write_floor"]
    else:
        out["time_over_unmasked_chain"] = ours / t["unmasked_chain"]
        pure = min(t["relunet_forward"], t["relunet_reverse"])
        out["auto_over_better_pure_order"] = t["relunet_auto"] / pure
        if "relunet_optimal" in t:
            out["speed_up_of_optimal_over_better_pure_order"] = (
                pure / t["relunet_optimal"]
            )
    return out


#: (case name prefix, figure, comparison, bound): the performance goals.
GOALS = [
    ("one layer, tiny", "speed_up_over_best_peer", ">=", 0.5),
    ("one layer, mid", "speed_up_over_best_peer", ">=", 1.0),
    ("one layer, largest", "speed_up_over_best_peer", ">=", 3.0),
    ("one layer, mid", "time_over_write_floor", "<=", 3.0),
    ("one layer, largest", "time_over_write_floor", "<=", 1.5),
    ("deep, 1 output", "speed_up_over_best_peer", ">=", 1.0),
    ("deep, 64 outputs", "speed_up_over_best_peer", ">=", 1.0),
    ("tall", "speed_up_over_best_peer", ">=", 1.0),
    ("deep, 1 output", "time_over_unmasked_chain", "<=", 1.3),
    ("deep, 64 outputs", "time_over_unmasked_chain", "<=", 1.3),
    ("tall", "time_over_unmasked_chain", "<=", 1.3),
    ("hourglass", "speed_up_of_optimal_over_better_pure_order", ">=", 1.0),
]


def goal_rows(results: dict) -> list[dict]:
    rows = []
    for prefix, figure, op, bound in GOALS:
        for case in results["cases"]:
            if case["name"].startswith(prefix):
                value = case["figures"][figure]
                met = value >= bound if op == ">=" else value <= bound
                rows.append(
                    {
                        "case": case["name"],
                        "dtype": case["dtype"],
                        "figure": figure,
                        "goal": f"{op} {bound:g}",
                        "value": value,
                        "met": bool(met),
                    }
                )
    return rows


def duration(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


def markdown(results: dict) -> str:
    env, rates = results["environment"], results["rates"]
    blas = "; ".join(
        f"{b['internal_api']} {b['version']}, kernel {b['architecture']}, "
        f"{b['num_threads']} threads"
        for b in env["numpy_blas"]
    )
    dropped = (
        ", ".join(f"{k}={v}" for k, v in env["blas_environment_dropped"].items())
        or "none was set"
    )
    lines = [
        "# Benchmark results",
        "",
        f"Measured {env['date_utc']} UTC on {env['cpu']} ({env['cpu_count']} cores), "
        f"{env['platform']}. Python {env['python']}; NumPy {env['numpy']} on {blas} "
        f"(variables forcing a kernel, dropped for this run: {dropped}); TensorFlow "
        f"{env['tensorflow']} (oneDNN: {env['tensorflow_onednn']}, threads: "
        f"{env['tensorflow_threads']['intra_op']}); JAX {env['jax']} "
        f"({', '.join(env['jax_devices'])}); relunet {env['relunet']}.",
        f"{results['rounds']} interleaved rounds; every ratio compares the fastest "
        "sample of each candidate (see bench/README.md); generated by `make bench` "
        "(bench/run.py). Machine rates measured in the same run: matrix product "
        f"{rates['gemm_flops_per_s_float32'] / 1e9:.0f} GFLOP/s (float32), "
        f"{rates['gemm_flops_per_s_float64'] / 1e9:.0f} GFLOP/s (float64); the "
        "bandwidth of filling memory of each output's size is in the last table.",
        "",
        "## Goals",
        "",
        "| case | dtype | figure | goal | measured | met |",
        "|---|---|---|---|---|---|",
    ]
    for row in results["goals"]:
        lines.append(
            f"| {row['case']} | {row['dtype']} | {row['figure']} | {row['goal']} | "
            f"{row['value']:.2f} | {'yes' if row['met'] else '**missed**'} |"
        )
    lines += [
        "",
        "Why each missed goal is missed, measured: `bench/README.md`.",
        "",
        "## Against every peer and both floors",
        "",
        "| case | dtype | relunet (fastest) | best peer (fastest) | "
        "speed-up over best peer | over the measured reference | "
        "over the roofline bound |",
        "|---|---|---|---|---|---|---|",
    ]
    for case in results["cases"]:
        f = case["figures"]
        reference = f.get("time_over_write_floor", f.get("time_over_unmasked_chain"))
        lines.append(
            f"| {case['name']} | {case['dtype']} | {duration(f['relunet_s'])} | "
            f"{f['best_peer']} {duration(f['best_peer_s'])} | "
            f"{f['speed_up_over_best_peer']:.2f}x | {reference:.2f} | "
            f"{f['time_over_roofline']:.2f} |"
        )
    lines += [
        "",
        "## Times (per call: median, fastest and slowest sample over the rounds)",
        "",
        "| case | dtype | candidate | median | min | max |",
        "|---|---|---|---|---|---|",
    ]
    for case in results["cases"]:
        for name, v in case["timings"].items():
            lines.append(
                f"| {case['name']} | {case['dtype']} | {name} | "
                f"{duration(v['median_s'])} | {duration(v['min_s'])} | "
                f"{duration(v['max_s'])} |"
            )
        work = case["work"]
        lines.append(
            f"| {case['name']} | {case['dtype']} | roofline bound "
            f"({work['flops'] / 1e6:.1f} MFLOP, {work['output_bytes'] / 2**20:.2f} MiB "
            f"written at {work['write_bytes_per_s'] / 1e9:.1f} GB/s) | "
            f"{duration(case['roofline_s'])} | | |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=15, help="interleaved rounds (default 15)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="3 rounds, results not written"
    )
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else args.rounds
    rates = machine_rates(rounds)
    results = {
        "environment": environment(),
        "rounds": rounds,
        "rates": rates,
        "cases": single_layer_cases(rounds, rates) + deep_cases(rounds, rates),
    }
    for case in results["cases"]:
        case["figures"] = figures(case)
    results["goals"] = goal_rows(results)
    report = markdown(results)
    print(report)
    if not args.quick:
        RECORDED.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
        (HERE / "results.md").write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
