"""Shared command line of the Brian2 reference scripts: SEED DURATION_MS [TARGET].
TARGET is a Brian2 code-generation target (numpy, cython) or cpp_standalone."""
import sys

import brian2 as b2


def setup(default_target="numpy"):
    """Parses the arguments, selects the device, seeds Brian2, sets dt = 0.1 ms.
    Returns (seed, duration_ms)."""
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    duration = float(sys.argv[2]) if len(sys.argv) > 2 else 1000.0
    target = sys.argv[3] if len(sys.argv) > 3 else default_target
    if target == "cpp_standalone":
        b2.set_device("cpp_standalone", build_on_run=True, directory=None)
    else:
        b2.prefs.codegen.target = target
    b2.seed(seed)
    b2.defaultclock.dt = 0.1 * b2.ms
    return seed, duration
