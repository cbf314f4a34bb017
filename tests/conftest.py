"""Test configuration: deterministic property tests and shared helpers."""

import os

from hypothesis import HealthCheck, settings

# Property tests draw the same examples on every run (a failure found once is
# found again), with no wall-clock deadline on a loaded 2-core machine.
settings.register_profile(
    "book",
    derandomize=True,
    deadline=None,
    max_examples=60,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "book"))

# TensorFlow reads these at import: no C++ log lines, and the same kernels
# (oneDNN off) as the chapters are executed with.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
