"""The recorded environment and ``results.md``: goals first, evidence last."""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path

import jax
import numpy as np
import tensorflow as tf
import threadpoolctl

import relunet as rn

from . import DROPPED


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


def duration(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


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
        for peer in PEER_NAMES:  # in this order whether timed or read back
            e = case["evidence"][peer]
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


def all_goals(results: dict) -> list[dict]:
    """The goal rows of every group: Jacobians, training step, second order."""
    groups = (results.get(g, {}) for g in ("training_step", "second_order"))
    return results["goals"] + [row for g in groups for row in g.get("goals", [])]


def training_markdown(group: dict) -> list[str]:
    """The training-step section: each step's time, the speed-ups, the threads."""
    threads = group["threads"]
    lines = [
        "",
        "## The differential training step",
        "",
        f"Measured {group['date_utc']} UTC, {group['rounds']} interleaved rounds "
        "(`python bench/run.py --training`), float64, one thread for each "
        f"library: OpenBLAS {threads['numpy_blas']}, TensorFlow "
        f"{threads['tensorflow_intra_op']} (intra-op) and "
        f"{threads['tensorflow_inter_op']} (inter-op), XLA `{threads['xla_flags']}`. "
        "Loss and gradients of each peer agreed with relunet's (same weights, "
        "same batch) and so did three steps of each, to the relative difference "
        "in the last column, before timing. Speed-ups compare fastest samples; "
        "beside them, the least CPU time per call (one thread: what other "
        "processes taking turns on the cores cannot inflate). Cores busy: a "
        "call's CPU time over its wall time in the fastest sample (relunet, TF, "
        "JAX): 1 for a sample that ran alone on its core. relunet's gradient: "
        "`twin_loss_and_gradients` alone (the rest of its step is "
        "Adam's update); its activations and products: the four `activation_parts` "
        "calls and its 31 matrix products, each timed alone on the case's shapes, "
        "as shares of the gradient's time.",
        "",
        "| case | relunet step | TF step | JAX step | speed-up over TF | "
        "over JAX | the same from CPU time (TF, JAX) | relunet's gradient | "
        "its activations, products | cores busy | agreement |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case in group["cases"]:
        t, f = case["timings"], case["figures"]
        busy = ", ".join(
            f"{t[k]['cores_busy_fastest']:.2f}"
            for k in ("relunet", "tf_step", "jax_step")
        )
        lines.append(
            f"| {case['name']} | {duration(t['relunet']['min_s'])} | "
            f"{duration(t['tf_step']['min_s'])} | {duration(t['jax_step']['min_s'])} | "
            f"{f['speed_up_over_tf_step']:.2f}x | {f['speed_up_over_jax_step']:.2f}x | "
            f"{f['cpu_speed_up_over_tf_step']:.2f}x, "
            f"{f['cpu_speed_up_over_jax_step']:.2f}x | "
            f"{duration(t['relunet_gradient']['min_s'])} | "
            f"{f['activations_share_of_gradient']:.0%}, "
            f"{f['products_share_of_gradient']:.0%} | {busy} | "
            f"{max(case['agreement_relative'].values()):.0e} |"
        )
    return lines


def second_order_markdown(group: dict) -> list[str]:
    """The second-order section: relunet and the best peer of each quantity."""
    lines = [
        "",
        "## Second order",
        "",
        f"Measured {group['date_utc']} UTC, {group['rounds']} interleaved rounds "
        "(`python bench/run.py --second-order`), float64, every library on its "
        f"defaults (OpenBLAS threads {group['threads']['numpy_blas']}, TensorFlow "
        f"{group['threads']['tensorflow_intra_op'] or 'all cores'}). Every peer "
        "agreed with relunet (largest difference relative to "
        "relunet's largest entry, last column) before timing. Cores busy: CPU "
        "time over wall time of relunet's calls (median over the rounds). "
        "Products: the arithmetic reference, relunet's own matrix products "
        "replayed alone (the same operands, captured on one call), and "
        "relunet's time over it.",
        "",
        "| case | batch | `rn.hessian` | best peer | speed-up | products | "
        "`rn.hvp` | best peer | speed-up | products | cores busy | agreement |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case in group["cases"]:
        t, f = case["timings"], case["figures"]
        busy = ", ".join(
            f"{t[f'relunet_{q}']['cores_busy_median']:.2f}" for q in ("hessian", "hvp")
        )
        cells = []
        for q in ("hessian", "hvp"):
            cells += [
                duration(f[f"{q}_relunet_s"]),
                f"{f[f'{q}_best_peer']} {duration(f[f'{q}_best_peer_s'])}",
                f"{f[f'{q}_speed_up_over_best_peer']:.2f}x",
                f"{duration(f[f'{q}_products_s'])} "
                f"({f[f'{q}_time_over_products']:.2f}x)",
            ]
        lines.append(
            f"| {case['name']} | {case['batch']} | {' | '.join(cells)} | {busy} | "
            f"{max(case['agreement_relative'].values()):.0e} |"
        )
    lines += [
        "",
        "Multiply-adds per sample: relunet's by its cost model (`rn.hessian_cost` "
        "in the mode `rn.hessian` chooses, `rn.hvp_cost`), JAX's from XLA's cost "
        "analysis of the compiled program (flops over two, elementwise "
        "operations included).",
        "",
        "| case | `rn.hessian` (mode) | JAX hessian | JAX jacfwd(jacrev) | "
        "`rn.hvp` | JAX jvp(grad) |",
        "|---|---|---|---|---|---|",
    ]
    for case in group["cases"]:
        w = case["multiply_adds_per_sample"]
        lines.append(
            f"| {case['name']} | {w['relunet_hessian']:,} "
            f"({w['relunet_hessian_mode']}) | {w['jax_hessian']:,.0f} | "
            f"{w['jax_jacfwd_jacrev']:,.0f} | {w['relunet_hvp']:,} | "
            f"{w['jax_hvp']:,.0f} |"
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
    for row in all_goals(results):
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
    if "training_step" in results:
        lines += training_markdown(results["training_step"])
    if "second_order" in results:
        lines += second_order_markdown(results["second_order"])
    lines += [
        "",
        "## Times (per call: median, fastest and slowest sample over the rounds)",
        "",
        "| case | dtype | candidate | median | min | max |",
        "|---|---|---|---|---|---|",
    ]
    extra = [
        c
        for g in ("training_step", "second_order")
        for c in results.get(g, {}).get("cases", [])
    ]
    for case in results["cases"] + extra:
        for name, v in case["timings"].items():
            lines.append(
                f"| {case['name']} | {case['dtype']} | {name} | "
                f"{duration(v['median_s'])} | {duration(v['min_s'])} | "
                f"{duration(v['max_s'])} |"
            )
        if "work" not in case:
            continue
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
