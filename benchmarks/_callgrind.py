"""Instructions counted by valgrind's callgrind: the figure a noisy machine does not move.

A side runs alone in a child (``python script --one-side SIDE --count N``) under callgrind, its
fake server natively in a grandchild (callgrind does not follow children). The child's hash
seed is fixed, so that two runs of the same side count alike within a fraction of a percent
(a random seed moves dict and set layouts, and with them the cyclic collector's work, by up to
~10,000 instructions a call).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

__all__ = ["per_call"]


def _counted(script: str, side: str, count: int) -> int:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("--instructions needs valgrind (Debian package valgrind)")
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "callgrind.out")
        command = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}"]
        command += [sys.executable, script, "--one-side", side, "--count", str(count)]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
        found = re.search(r"Collected : (\d+)", done.stderr)
        assert found is not None, done.stderr[-2000:]
        return int(found.group(1))


def per_call(script: str, side: str, count: int) -> float:
    """Instructions per call of ``side``: ``count`` calls counted, minus none (start-up)."""
    return (_counted(script, side, count) - _counted(script, side, 0)) / count
