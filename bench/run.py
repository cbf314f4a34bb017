"""Benchmark relunet.jacobian against generic autodiff and measured references.

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
- a rate model from the machine itself: the time relunet's floating-point
  operations take at the rate measured for a 1024 x 1024 matrix product
  (OpenBLAS, its threads), or its output's bytes at the rate one thread
  fills that much memory already mapped, whichever takes longer. A model,
  not a bound: a faster kernel, or two threads writing, would beat it.

Every candidate is timed after a warm-up, in interleaved rounds: each round
times every candidate once, in a rotating order, after a short pause, so
that a slow phase of the machine hits all of them alike. A sample repeats a
call for at least ``SAMPLE_SECONDS``; the report gives the median, minimum
and maximum time per call over the rounds.

Then every peer is compiled again for the same inputs and what it runs is
recorded, without timing anything: XLA's cost analysis of the JAX programs,
and counts from the optimized HLO of every XLA program (matrix products and
their flops, elementwise passes, masks fused or not, threads). This step
runs alone with ``--evidence`` and merges into the recorded results.

Writes ``src/relunet/_data/benchmark.json`` (environment, every timing,
ratio and count, the goals; shipped with the package so that chapter 6
reads it anywhere) and ``bench/results.md``.

Usage: python bench/run.py [--rounds N] [--quick] [--evidence]
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
import collections  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
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


def jax_functions(layers) -> dict:
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

    return {
        "jax_jacrev": jax.jit(jax.vmap(jax.jacrev(network))),
        "jax_jacfwd": jax.jit(jax.vmap(jax.jacfwd(network))),
    }


def jax_peers(layers) -> dict:
    """The JAX peers as calls that wait for their result."""
    return {
        name: lambda x, f=f: f(x).block_until_ready()
        for name, f in jax_functions(layers).items()
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


def write_reference(shape, dtype):
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
    """Floating-point operations of relunet's algorithm and bytes of its output.

    The forward pass (without a linear output layer's product, which the
    Jacobian does not need) and the chain (``rn.jacobian_cost``), two
    operations per multiply-add; the masked copies counted as one each.
    """
    widths = [layers[0].n_in] + [layer.n_out for layer in layers]
    forward_pass = sum(m * n for n, m in zip(widths, widths[1:]))
    if len(layers) > 1 and layers[-1].activation == "linear":
        forward_pass -= widths[-1] * widths[-2]  # z_L is not needed, nor computed
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


def rate_model_s(work: dict, rates: dict, dtype) -> float:
    """The rate model: relunet's work at two rates measured on this machine.

    Its floating-point operations at the rate of a 1024 x 1024 matrix
    product (OpenBLAS, with its threads), or its output's bytes at the rate
    one thread fills that much memory already mapped (no page faults),
    whichever takes longer. A model, not a bound: a faster kernel, or more
    threads writing, run below it.
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
            "samples_s": [float(t) for t in times],  # one per round, in order
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


# --- what the compiled peers run (compiled and counted, not timed) ---------------

#: HLO instructions that write no array of their own.
NO_PASS = {"parameter", "constant", "bitcast", "tuple", "get-tuple-element"}
INSTRUCTION = re.compile(
    r"^\s*(?:ROOT )?%(?P<name>[\w.\-]+) = (?P<type>\w+)\[(?P<dims>[\d,]*)\]\S* "
    r"(?P<op>[\w\-]+)\((?P<args>[^)]*)\)"
)


def hlo_computations(text: str) -> tuple[dict, str]:
    """An HLO module as {computation: [instruction lines]}, and its entry's name."""
    computations, current, entry = {}, None, None
    for line in text.splitlines():
        head = re.match(r"^(ENTRY )?%([\w.\-]+) .*\{\s*$", line)
        if head:
            current = head[2]
            computations[current] = []
            entry = current if head[1] else entry
        elif line.startswith("}"):
            current = None
        elif current is not None and INSTRUCTION.match(line):
            computations[current].append(line)
    return computations, entry


def dims(text: str) -> list[int]:
    return [int(d) for d in text.split(",") if d]


def hlo_summary(text: str, full_pass_elements: int) -> dict:
    """Counts from an optimized HLO module: the evidence for what a peer runs.

    Every instruction of the entry computation that writes an array is one
    pass over memory (a fusion is one pass, whatever it fuses). Counted: the
    passes and the fusions among them; the passes that contain a matrix
    product (a ``dot``, alone or inside a fusion) and the products'
    floating-point operations (two per multiply-add); the elementwise passes
    (no ``dot``), those that apply a ReLU mask (a ``select``), and those that
    write at least ``full_pass_elements`` numbers; products fused with a mask
    in one pass; and the threads XLA splits each elementwise pass, and each
    mask pass, over (``outer_dimension_partitions``, 1 if absent).
    """
    computations, entry = hlo_computations(text)
    shapes = {
        INSTRUCTION.match(line)["name"]: dims(INSTRUCTION.match(line)["dims"])
        for lines in computations.values()
        for line in lines
    }

    def called(line: str) -> list[str]:
        return re.findall(r"(?:calls|to_apply|body|condition)=%([\w.\-]+)", line)

    def inside(line: str) -> list[str]:
        """The line and every line of the computations it calls, recursively."""
        lines = [line]
        for name in called(line):
            for inner in computations.get(name, []):
                lines += inside(inner)
        return lines

    def flops(line: str) -> int:
        m = INSTRUCTION.match(line)
        if m["op"] != "dot":
            return 0
        lhs = m["args"].split(",")[0].split()[-1].lstrip("%")
        contracting = dims(re.search(r"lhs_contracting_dims=\{([\d,]*)\}", line)[1])
        k = int(np.prod([shapes[lhs][d] for d in contracting]))
        return 2 * int(np.prod(dims(m["dims"]))) * k

    passes = []
    for line in computations[entry]:
        m = INSTRUCTION.match(line)
        if m["op"] in NO_PASS:
            continue
        lines = inside(line)
        partitions = re.search(r'"outer_dimension_partitions":\["(\d+)"', line)
        passes.append(
            {
                "fusion": m["op"] == "fusion",
                "elements": int(np.prod(dims(m["dims"]))),
                "flops": sum(flops(inner) for inner in lines),
                "dot": any(INSTRUCTION.match(x)["op"] == "dot" for x in lines),
                "mask": any(INSTRUCTION.match(x)["op"] == "select" for x in lines),
                "threads": int(partitions[1]) if partitions else 1,
            }
        )
    products = [p for p in passes if p["dot"]]
    elementwise = [p for p in passes if not p["dot"]]
    masks = [p for p in elementwise if p["mask"]]
    full = [p for p in elementwise if p["elements"] >= full_pass_elements]
    return {
        "passes": len(passes),
        "fusions": sum(p["fusion"] for p in passes),
        "matrix_product_passes": len(products),
        "matrix_product_flops": sum(p["flops"] for p in passes),
        "products_fused_with_a_mask": sum(p["mask"] for p in products),
        "elementwise_passes": len(elementwise),
        "mask_passes": len(masks),
        "full_pass_elements": full_pass_elements,
        "elementwise_passes_writing_full_arrays": len(full),
        "mask_passes_writing_full_arrays": sum(p["mask"] for p in full),
        "elementwise_threads": sorted({p["threads"] for p in elementwise}),
        "mask_threads": sorted({p["threads"] for p in masks}),
    }


def full_pass_elements(widths: list[int], batch: int) -> int:
    """Numbers in one partial product of the better pure order, for the batch
    (for one layer: the Jacobian): a pass writing that many is a full pass."""
    if len(widths) == 2:
        return batch * widths[0] * widths[1]
    return batch * min(widths[0], widths[-1]) * max(widths[1:-1])


def peer_evidence(layers, x) -> dict:
    """Compile every peer for ``x`` (no call is timed) and record what it runs.

    JAX: XLA's cost analysis of the compiled program (``flops``, ``bytes
    accessed``) and counts from its optimized HLO. TensorFlow with XLA: the
    counts from the optimized HLO that ``experimental_get_compiler_ir``
    returns (TensorFlow gives no cost analysis). The TensorFlow graph is not
    compiled by XLA: the operations of its graph, by type.
    """
    widths = [layers[0].n_in] + [layer.n_out for layer in layers]
    full = full_pass_elements(widths, x.shape[0])
    evidence = {}
    x_tf, x_jax = tf.constant(x), jax.numpy.asarray(x)
    tf_functions = tf_peers(layers)
    graph = tf_functions["tf_graph"].get_concrete_function(x_tf).graph
    op_types = collections.Counter(op.type for op in graph.get_operations())
    evidence["tf_graph"] = {
        "compiled_by_xla": False,
        "graph_operations": dict(sorted(op_types.items())),
    }
    hlo = tf_functions["tf_xla"].experimental_get_compiler_ir(x_tf)(
        stage="optimized_hlo"
    )
    evidence["tf_xla"] = {"compiled_by_xla": True, **hlo_summary(hlo, full)}
    for name, f in jax_functions(layers).items():
        compiled = f.lower(x_jax).compile()
        cost = compiled.cost_analysis()
        cost = cost[0] if isinstance(cost, list) else cost
        evidence[name] = {
            "compiled_by_xla": True,
            "xla_flops": float(cost["flops"]),
            "xla_bytes_accessed": float(cost["bytes accessed"]),
            **hlo_summary(compiled.as_text(), full),
        }
    return evidence


def collect_evidence(results: dict) -> None:
    """Add every case's peer evidence to ``results`` (the cases built as the
    timed run builds them, matched by name and dtype)."""
    inputs = {
        (name, np.dtype(x.dtype).name): (layers, x)
        for name, layers, x, _ in case_inputs()
    }
    for case in results["cases"]:
        layers, x = inputs[case["name"], case["dtype"]]
        case["evidence"] = peer_evidence(layers, x)
        print(f"{case['name']} {case['dtype']}: compiled and counted", flush=True)


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
        "time_over_rate_model": ours / case["rate_model_s"],
    }
    out.update({f"speed_up_over_{p}": t[p] / ours for p in PEERS})
    if "write_reference" in t:
        out["time_over_write_reference"] = ours / t["write_reference"]
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
    ("one layer, mid", "time_over_write_reference", "<=", 3.0),
    ("one layer, largest", "time_over_write_reference", "<=", 1.5),
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


def evidence_environment() -> dict:
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M"
        ),
        "tensorflow": tf.__version__,
        "jax": jax.__version__,
        "cpu_count": os.cpu_count(),
    }


PEER_NAMES = {
    "tf_graph": "TF graph",
    "tf_xla": "TF + XLA",
    "jax_jacrev": "JAX jacrev",
    "jax_jacfwd": "JAX jacfwd",
}


def evidence_markdown(results: dict) -> list[str]:
    """The section on what the compiled peers run."""
    env = results["evidence_environment"]
    lines = [
        "",
        "## What the compiled peers run",
        "",
        f"Compiled {env['date_utc']} UTC (TensorFlow {env['tensorflow']}, JAX "
        f"{env['jax']}, {env['cpu_count']} cores) for the inputs of each case; "
        "nothing timed (`python bench/run.py --evidence`). MFLOP: matrix "
        "products in the optimized HLO (XLA's own cost analysis for JAX in "
        "brackets); relunet's from `rn.jacobian_cost` and its forward pass. "
        "Passes: instructions of the entry computation that write an array; "
        "*full* passes write at least one partial product of the better pure "
        "order (for one layer: the Jacobian). Threads: XLA's partitions of a "
        "mask pass (NumPy's elementwise passes, relunet's masks, run on one).",
        "",
        "| case | dtype | peer | MFLOP | x relunet | product passes | "
        "elementwise passes (masks) | full (masks) | products fused with a mask | "
        "threads |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case in results["cases"]:
        ours = case["work"]["flops"]
        for peer, e in case["evidence"].items():
            if not e["compiled_by_xla"]:
                ops = e["graph_operations"]
                products = sum(ops.get(t, 0) for t in ("MatMul", "BatchMatMulV2"))
                lines.append(
                    f"| {case['name']} | {case['dtype']} | {PEER_NAMES[peer]} | "
                    f"graph, not XLA: {products} matrix-product ops, "
                    f"{sum(ops.values())} ops | | | | | | |"
                )
                continue
            flops = f"{e['matrix_product_flops'] / 1e6:.4g}"
            xla = f" [{e['xla_flops'] / 1e6:.4g}]" if "xla_flops" in e else ""
            lines.append(
                f"| {case['name']} | {case['dtype']} | {PEER_NAMES[peer]} | "
                f"{flops}{xla} | {e['matrix_product_flops'] / ours:.2f} | "
                f"{e['matrix_product_passes']} | {e['elementwise_passes']} "
                f"({e['mask_passes']}) | "
                f"{e['elementwise_passes_writing_full_arrays']} "
                f"({e['mask_passes_writing_full_arrays']}) | "
                f"{e['products_fused_with_a_mask']} | "
                f"{', '.join(map(str, e['mask_threads']))} |"
            )
        lines.append(
            f"| {case['name']} | {case['dtype']} | relunet | {ours / 1e6:.4g} | 1 | "
            "| | | | 1 |"
        )
    return lines


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
        "## Against every peer, the measured references and the rate model",
        "",
        "| case | dtype | relunet (fastest) | best peer (fastest) | "
        "speed-up over best peer | over the measured reference | "
        "over the rate model |",
        "|---|---|---|---|---|---|---|",
    ]
    for case in results["cases"]:
        f = case["figures"]
        reference = f.get(
            "time_over_write_reference", f.get("time_over_unmasked_chain")
        )
        lines.append(
            f"| {case['name']} | {case['dtype']} | {duration(f['relunet_s'])} | "
            f"{f['best_peer']} {duration(f['best_peer_s'])} | "
            f"{f['speed_up_over_best_peer']:.2f}x | {reference:.2f} | "
            f"{f['time_over_rate_model']:.2f} |"
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
            f"| {case['name']} | {case['dtype']} | rate model "
            f"({work['flops'] / 1e6:.1f} MFLOP, {work['output_bytes'] / 2**20:.2f} MiB "
            f"written at {work['write_bytes_per_s'] / 1e9:.1f} GB/s) | "
            f"{duration(case['rate_model_s'])} | | |"
        )
    if all("evidence" in case for case in results["cases"]):
        lines += evidence_markdown(results)
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=15, help="interleaved rounds (default 15)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="3 rounds, results not written"
    )
    parser.add_argument(
        "--evidence",
        action="store_true",
        help="only compile the peers and count what they run (no timing); "
        "merge it into the recorded results",
    )
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else args.rounds
    if args.evidence:  # the recorded timings; counts and figures from this code
        results = json.loads(RECORDED.read_text())
        inputs = {(n, np.dtype(x.dtype).name): (l, x) for n, l, x, _ in case_inputs()}
        for case in results["cases"]:
            layers, x = inputs[case["name"], case["dtype"]]
            rate = case["work"]["write_bytes_per_s"]
            case["work"] = case_work(layers, x.shape[0], case["mode"], x.dtype)
            case["work"]["write_bytes_per_s"] = rate
            case["rate_model_s"] = rate_model_s(case["work"], results["rates"], x.dtype)
            case["figures"] = figures(case)
        results["goals"] = goal_rows(results)
    else:
        rates = machine_rates(rounds)
        results = {
            "environment": environment(),
            "rounds": rounds,
            "rates": rates,
            "cases": timed_cases(rounds, rates),
        }
        for case in results["cases"]:
            case["figures"] = figures(case)
        results["goals"] = goal_rows(results)
    collect_evidence(results)
    results["evidence_environment"] = evidence_environment()
    report = markdown(results)
    print(report)
    if not args.quick:
        RECORDED.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
        (HERE / "results.md").write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
