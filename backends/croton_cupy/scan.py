"""Scan: a host loop over the inner graph's device kernels.

The inner graph is compiled once by the registered cupy backend, so every step launches
device kernels and nothing but the loop runs on the host. Histories and per-step outputs
are written into device buffers allocated ahead (all ``n`` rows at once; a loop with an
until condition, which may stop early, grows its buffers by doubling). The number of
steps, and the until condition after each step, are read on the host: a loop's control
flow is the host's. The loop is the numpy reference's, shared in
`croton.compile.host_loops.scan_kernel`, errors included: a loop of zero steps runs a
trial step on rows of zeros to learn the shapes of its per-step outputs.
"""

from __future__ import annotations

from croton.compile.host_loops import PreallocatedRows, scan_kernel
from croton.compile.program import single_output
from croton.ops.scan import Scan
from croton_cupy.lowering import lowers


@lowers(Scan)
def _scan(op, node):
    from croton_cupy import runtime
    from croton_cupy.backend import CupyBackend

    compile = CupyBackend.shared().compile
    kernel = scan_kernel(op, node, compile, lambda: runtime.load_cupy(), PreallocatedRows)
    return single_output(kernel, node)
