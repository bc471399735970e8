"""Random draws, made on the host so that a seed gives the same numbers on every backend.

A generator's state is a uint64 tensor holding NumPy's PCG64 state
(`croton.ops.random.STATE_LAYOUT`), and croton promises that a draw gives exactly the
numbers of ``numpy.random.Generator(PCG64)`` on every backend (the conformance suite
checks it). ``cupy.random`` draws other numbers (its generators are cuRAND's), so this
rule departs from the plan of drawing "through cupy.random": it copies the state
(six integers) and the parameters to the host, runs the reference backend's kernel for
the draw (found through the backend registry, as constant folding finds it), and copies
the sample and the new state back to the device. The state still lives on the device
between calls, like any shared value; each draw costs two small transfers and a host
computation the size of the sample.
"""

from __future__ import annotations

from croton.ops.random import RandomDraw
from croton_cupy.lowering import lowers
from croton_cupy.runtime import is_device_array


def _host(value):
    """A device value as a numpy array (host values pass unchanged)."""
    return value.get() if is_device_array(value) else value


@lowers(RandomDraw)
def _random_draw(op, node):
    from croton.backend import reference_backend
    from croton_cupy.runtime import load_cupy

    draw = reference_backend().registry.lookup(op)(op, node)

    def kernel(state, *args):
        cupy = load_cupy()
        new_state, sample = draw(_host(state), *(_host(a) for a in args))
        return cupy.asarray(new_state), cupy.asarray(sample)

    return kernel
