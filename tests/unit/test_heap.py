"""lepton.heap in a process of its own: the C library's settings are process-wide."""

import platform
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")

#: Prints the MiB a freed 16 MiB block leaves resident, after a freed 24 MiB block has
#: raised glibc's mmap threshold past 16 MiB (unless the threshold is fixed first).
RESIDENT_AFTER_FREE = """
import sys
from lepton.heap import return_large_blocks_on_free

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024

if sys.argv[1] == "fixed":
    assert return_large_blocks_on_free()
block = bytearray(24 * 2**20)
del block
before = rss()
block = bytearray(16 * 2**20)
block[::4096] = b"x" * len(block[::4096])
del block
print((rss() - before) // 2**20)
"""


def resident_mib_after_free(mode):
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", RESIDENT_AFTER_FREE, mode], cwd=root, capture_output=True, text=True, check=True
    )
    return int(result.stdout)


def test_a_freed_large_block_stays_resident_under_glibcs_default():
    assert resident_mib_after_free("default") >= 15


def test_with_the_threshold_fixed_a_freed_large_block_goes_back_to_the_system():
    assert resident_mib_after_free("fixed") == 0
