"""pytest set-up shared by tests/ and the strict re-execution of chapters/.

One BLAS and TensorFlow thread per process, as ``make test`` sets them, also
when pytest is run directly: with two test processes on two cores, a
multi-threaded BLAS waits for whichever of its threads is descheduled
(measured with both cores busy: a 1.3 ms Jacobian took 60-70 ms), and the
chapters' coarse timing verdicts would flip. Kernels started by nbval
inherit these variables; values set by the caller are kept.
"""

import os

for name in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
):
    os.environ.setdefault(name, "1")
