"""The numpy rule for `IfElse`: each branch's inner graph compiled by this backend; a
call runs only the one the condition picks (`croton.compile.host_loops.ifelse_kernel`,
shared with the cupy backend)."""

from __future__ import annotations

import numpy as np

from croton.compile.host_loops import ifelse_kernel
from croton.compile.program import single_output
from croton.ops.ifelse import IfElse
from croton_numpy.lowering import lowers


@lowers(IfElse)
def _ifelse(op, node):
    from croton_numpy.backend import NumpyBackend

    kernel = ifelse_kernel(op, node, NumpyBackend.shared().compile, lambda: np)
    return single_output(kernel, node)
