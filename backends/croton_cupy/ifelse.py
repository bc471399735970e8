"""Lazy ifelse: the condition is read on the host, and only the branch it picks runs.

Each branch's inner graph is compiled by the registered cupy backend when the node is
lowered, so a call runs the chosen branch's device kernels and never the other's.
Reading the condition waits for the device: the choice of which kernels to launch is
the host's. The kernel is the numpy reference's (`croton.compile.host_loops`).
"""

from __future__ import annotations

from croton.compile.host_loops import ifelse_kernel
from croton.compile.program import single_output
from croton.ops.ifelse import IfElse
from croton_cupy.lowering import lowers


@lowers(IfElse)
def _ifelse(op, node):
    from croton_cupy import runtime
    from croton_cupy.backend import CupyBackend

    kernel = ifelse_kernel(op, node, CupyBackend.shared().compile, lambda: runtime.load_cupy())
    return single_output(kernel, node)
