"""Random draws: the reference backend's kernel, run eagerly between jitted segments.

A draw must give exactly the numbers of ``numpy.random.Generator(PCG64)`` (the numpy
backend's kernel), so it is not traced: it runs on the host on concrete arrays, and
the arrays it returns join the jitted segments after it.
"""

from __future__ import annotations

from croton.ops.random import RandomDraw
from croton_jax.compiler import reference_kernel
from croton_jax.lowering.common import lowers


@lowers(RandomDraw)
def _random_draw(op, node):
    from croton.backend import reference_backend

    rule = reference_backend().registry.lookup(op)
    return reference_kernel(rule(op, node), node)
