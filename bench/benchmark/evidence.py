"""What the compiled peers run: compiled again and counted, nothing timed.

XLA's cost analysis of the JAX programs and counts from the optimized HLO of
every XLA program (:func:`hlo_summary`); the TensorFlow graph's operations
by type. ``python bench/run.py --evidence`` runs this step alone.
"""

from __future__ import annotations

import collections
import datetime
import os
import re

import jax
import numpy as np
import tensorflow as tf

from .cases import case_inputs
from .peers import jax_functions, tf_peers

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


def evidence_environment() -> dict:
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M"
        ),
        "tensorflow": tf.__version__,
        "jax": jax.__version__,
        "cpu_count": os.cpu_count(),
    }
