"""Large freed blocks go back to the operating system when they are freed (glibc).

glibc serves a block over its mmap threshold (128 KiB at start) from its own mapping,
unmapped on free; but each time such a block is freed it raises the threshold to that
block's size, up to 32 MiB. After one large submission, the multi-megabyte buffers of
the next (its body, its JSON texts, the database's copies) come from the heap instead,
and stay resident after the request: a web process held 35 MiB more after the largest
accepted requests, and its peak for the next large one rose by as much. A threshold set
explicitly (as MALLOC_MMAP_THRESHOLD_ would) is never raised.
"""

import ctypes
import logging

logger = logging.getLogger(__name__)

#: mallopt's parameter number for the threshold (glibc's malloc.h).
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024


def return_large_blocks_on_free():
    """Fix glibc's mmap threshold for this process; True if set (False off glibc)."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # the C library this process runs on
    if mallopt is None or not mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD):
        logger.info("event=mmap_threshold_unset reason=no_glibc_mallopt")
        return False
    return True
