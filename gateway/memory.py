"""Keep a node's resident memory flat while large payloads stream through it (glibc malloc tuning).

Streaming moves 64 KiB–1 MiB buffers through worker threads. By default glibc gives each thread its own arena
and raises the mmap threshold after the first large free, so freed buffers stay resident and every worker
thread's arena grows its own high-water mark. Two arenas and a fixed 128 KiB mmap threshold make large buffers
go straight back to the kernel when freed. Called once at ``serve`` start, before any worker thread exists;
a no-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("gateway.memory")

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def tune_malloc(*, arenas: int = 2, mmap_threshold: int = 128 * 1024, trim_threshold: int = 1024 * 1024) -> bool:
    """True when the settings were applied."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    applied = all(mallopt(option, value) == 1 for option, value in (
        (_M_ARENA_MAX, arenas), (_M_MMAP_THRESHOLD, mmap_threshold), (_M_TRIM_THRESHOLD, trim_threshold)))
    if not applied:
        log.debug("mallopt refused a setting; keeping the C library's defaults")
    return applied
