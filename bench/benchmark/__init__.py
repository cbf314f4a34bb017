"""The book's benchmark, in parts named for what they hold.

- :mod:`.measure`: how every candidate is timed (interleaved rounds,
  fastest sample);
- :mod:`.peers`: the Jacobian peers, TensorFlow and JAX;
- :mod:`.references`: the measured references and the rate model;
- :mod:`.cases`: the Jacobian cases, built and timed;
- :mod:`.goals`: their figures and goals;
- :mod:`.evidence`: what the compiled peers run (compiled, not timed);
- :mod:`.training_step`: the differential training step, relunet against
  its TensorFlow and JAX peers, on one thread each;
- :mod:`.second_order`: ``rn.hessian`` and ``rn.hvp`` against theirs;
- :mod:`.report`: the recorded environment and ``results.md``.

Importing this package (before NumPy, TensorFlow or JAX) sets the process's
environment: NumPy runs on OpenBLAS's own choice of kernel for this CPU (a
kernel forced through ``OPENBLAS_CORETYPE`` or ``OPENBLAS_L2_SIZE`` is
dropped, OpenBLAS reads them when NumPy loads it, and recorded in
:data:`DROPPED`), TensorFlow on its defaults (oneDNN on).
"""

from __future__ import annotations

import os

DROPPED = {
    name: os.environ.pop(name)
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    if name in os.environ
}
os.environ.pop("TF_ENABLE_ONEDNN_OPTS", None)  # TensorFlow's default: oneDNN on
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

#: One thread for every library (the training step's setting): OpenBLAS,
#: TensorFlow's two pools, XLA on the CPU. Read when each library starts, so
#: set by :func:`one_thread` before NumPy, TensorFlow or JAX is imported.
ONE_THREAD = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}


def one_thread() -> None:
    """Run every library of this process on one thread (before importing them)."""
    os.environ.update(ONE_THREAD)
