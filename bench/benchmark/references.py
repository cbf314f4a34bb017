"""What relunet's Jacobian is measured against besides the peers.

Measured references (run in the same process, on the same inputs): for one
layer, writing an array of the Jacobian's size (:func:`write_reference`);
for a deep network, the forward pass and the same matrix products without
masks, in relunet's order, into buffers allocated beforehand
(:func:`unmasked_chain`). And the rate model: relunet's work
(:func:`case_work`) at the machine's own rates (:func:`machine_rates`,
:func:`write_bandwidth`), :func:`rate_model_s`.
"""

from __future__ import annotations

import numpy as np

import relunet as rn
from relunet.accumulation import _bracketing_table
from relunet.network import weights

from .measure import measure


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
