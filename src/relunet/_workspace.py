"""Reusable scratch memory for the intermediate arrays of :func:`relunet.jacobian`.

A call of ``jacobian`` creates a few dozen temporary arrays per block of
samples (pre-activations, masks, partial products). Allocated afresh each
time, every one of them larger than the C library's mmap threshold
(128 KiB) is mapped, page-faulted in and unmapped again on every call,
which costs about as much as the arithmetic for a mid-sized network.
A workspace keeps one buffer per thread and hands out aligned views of it
(a bump allocator), reset at the start of every block. The buffer grows to
the largest block seen in the thread and is kept for the thread's lifetime;
its size is bounded by the block size (see ``relunet.accumulation.block_size``).
"""

from __future__ import annotations

import threading

import numpy as np

_ALIGN = 64
_local = threading.local()


class Workspace:
    """Views of one reusable byte buffer; arrays handed out until ``reset``."""

    def __init__(self) -> None:
        self._buffer = np.empty(0, np.uint8)
        self._offset = 0
        self._wanted = 0
        self.high_water = 0

    def reset(self) -> None:
        """Start a new block: earlier views may be overwritten from now on.

        If the previous block wanted more than the buffer had, the buffer
        grows now (never while views of it are in use).
        """
        if self._wanted > self._buffer.nbytes:
            self._buffer = np.empty(self._wanted, np.uint8)
        self._offset = 0
        self._wanted = 0

    def empty(self, shape, dtype) -> np.ndarray:
        """An uninitialised C-contiguous array, a view of the buffer when it fits."""
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        start = -(-self._offset // _ALIGN) * _ALIGN
        self._offset = start + nbytes
        self._wanted = max(self._wanted, self._offset)
        self.high_water = max(self.high_water, self._offset)
        if self._offset > self._buffer.nbytes:
            return np.empty(
                shape, dtype
            )  # first use, or a larger block: grows at reset
        return self._buffer[start : start + nbytes].view(dtype).reshape(shape)

    @property
    def nbytes(self) -> int:
        """Bytes held by the buffer."""
        return self._buffer.nbytes


def thread_workspace() -> Workspace:
    """The calling thread's workspace (created on first use)."""
    workspace = getattr(_local, "workspace", None)
    if workspace is None:
        workspace = _local.workspace = Workspace()
    return workspace
