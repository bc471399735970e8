"""The numpy backend's `Scan` rule: a Python loop over the compiled inner graph; a loop
with an until condition breaks out after the first step where it holds.

The loop itself is `croton.compile.host_loops.scan_kernel`, shared with the cupy
backend; here per-step rows are kept in lists and stacked at the end."""

from __future__ import annotations

import numpy as np

from croton.compile.host_loops import StackedRows, scan_kernel
from croton.compile.program import single_output
from croton.ops.scan import Scan
from croton_numpy.lowering import lowers


@lowers(Scan)
def _scan(op, node):
    from croton_numpy.backend import NumpyBackend

    compile = NumpyBackend.shared().compile
    return single_output(scan_kernel(op, node, compile, lambda: np, StackedRows), node)
