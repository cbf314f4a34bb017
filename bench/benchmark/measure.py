"""How every candidate is timed: warm-up, then interleaved rounds, fastest sample.

Every case of the benchmark (Jacobians, the training step, second order) is
timed by :func:`measure`: each candidate is called three times first (a
compiled peer is traced and compiled then), then once per round, in a
rotating order, after a pause; a sample repeats a call for at least
``SAMPLE_SECONDS``. Besides the wall time, each sample's process CPU time is
recorded: CPU time over wall time is the number of cores a call kept busy,
and for a call on one thread the least CPU time per call is what its code
costs even while other processes take turns on the cores. :func:`threads`
records the thread settings each library reports.
"""

from __future__ import annotations

import os
import time
import tracemalloc

import numpy as np

SAMPLE_SECONDS = 0.1
# Idle time before each sample. TensorFlow's, XLA's and OpenBLAS's worker
# threads keep spinning for a while after a call; without a pause they would
# slow down whichever candidate runs next.
PAUSE_SECONDS = 0.05

#: The time the ratios use: each candidate's fastest sample over the rounds.
#: On a shared machine other processes only ever slow a call down, so the
#: fastest sample is the best estimate of what the code itself costs (the
#: reasoning of Python's ``timeit``); the median is reported beside it.
STATISTIC = "min_s"


def calls_per_sample(function, seconds: float = SAMPLE_SECONDS) -> int:
    """How many calls make a sample of at least ``seconds``."""
    start = time.perf_counter()
    function()
    once = time.perf_counter() - start
    return max(1, int(np.ceil(seconds / max(once, 1e-7))))


def measure(
    candidates: dict, rounds: int, sample_seconds: float = SAMPLE_SECONDS
) -> dict:
    """Warm up, then time every candidate once per round, in a rotating order."""
    for function in candidates.values():
        for _ in range(3):
            function()
    repeats = {
        name: calls_per_sample(f, sample_seconds) for name, f in candidates.items()
    }
    samples = {name: [] for name in candidates}
    busy = {name: [] for name in candidates}  # process CPU time over wall time
    cpu_times = {name: [] for name in candidates}  # process CPU time per call
    names = list(candidates)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            function, k = candidates[name], repeats[name]
            time.sleep(PAUSE_SECONDS)
            start, cpu = time.perf_counter(), time.process_time()
            for _ in range(k):
                function()
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            samples[name].append(wall / k)
            busy[name].append(cpu / wall)
            cpu_times[name].append(cpu / k)
    fastest = {name: int(np.argmin(times)) for name, times in samples.items()}
    return {
        name: {
            "median_s": float(np.median(times)),
            "min_s": float(np.min(times)),
            "max_s": float(np.max(times)),
            "samples_s": [float(t) for t in times],  # one per round, in order
            "rounds": len(times),
            "calls_per_sample": repeats[name],
            "cores_busy_median": float(np.median(busy[name])),
            "cores_busy_fastest": float(busy[name][fastest[name]]),
            "cpu_min_s": float(np.min(cpu_times[name])),
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


def threads() -> dict:
    """The thread settings of this process, as each library reports them."""
    import tensorflow as tf
    import threadpoolctl

    return {
        "numpy_blas": [
            info.get("num_threads")
            for info in threadpoolctl.threadpool_info()
            if info.get("user_api") == "blas"
        ],
        "tensorflow_intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
        "tensorflow_inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
    }
