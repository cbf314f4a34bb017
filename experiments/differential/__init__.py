"""The recorded experiments of chapters 10 and 11 (``experiments/run.py``)."""

from pathlib import Path


def cpu_model() -> str:
    """The processor's model name, as ``/proc/cpuinfo`` gives it ("unknown" without)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"
