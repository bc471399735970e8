"""The numba backend's rule for `RandomDraw`: a host step running the numpy kernel.

A draw must give exactly the numbers of ``numpy.random.Generator(PCG64)``, so it runs
numpy's own generator between jitted segments, by design and without a warning.
"""

from __future__ import annotations

from croton.ops.random import RandomDraw
from croton_numba.lowering import HostStep, lowers


@lowers(RandomDraw)
def _random_draw(op, node, name, context):
    raise HostStep(f"{op.distribution} draws run numpy's generator")
