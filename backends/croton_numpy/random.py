"""The numpy backend's rule for `RandomDraw`: numpy's own Generator on the state vector.

The kernel rebuilds a PCG64 bit generator from the state vector, draws with the
``numpy.random.Generator`` method of the distribution's name, and returns the bit
generator's state after drawing as a new vector; the input state is never written.
"""

from __future__ import annotations

import threading

import numpy as np

from croton.ops.random import RandomDraw, bit_generator_state, state_vector
from croton_numpy.lowering import lowers

# one bit generator per thread, its state replaced at every draw (making a new PCG64
# costs a seeding; a compiled function may run in several threads at once)
_local = threading.local()


def _bit_generator(vector) -> np.random.PCG64:
    bit_generator = getattr(_local, "bit_generator", None)
    if bit_generator is None:
        bit_generator = _local.bit_generator = np.random.PCG64(0)
    bit_generator.state = bit_generator_state(vector)
    return bit_generator


def _permutations(generator, size, replace, n):
    count = int(np.prod(size, dtype=np.int64))
    n = int(n)
    if not size:
        return generator.permutation(n)
    rows = [generator.permutation(n) for _ in range(count)]
    return np.array(rows, dtype=np.int64).reshape((*size, n))


def _choice(generator, size, replace, a, p=None):
    a = int(a) if np.ndim(a) == 0 else a
    return generator.choice(a, size=size, replace=replace, p=p)


_SAMPLERS = {
    "uniform": lambda g, size, replace, low, high: g.uniform(low, high, size),
    "normal": lambda g, size, replace, avg, std: g.normal(avg, std, size),
    "binomial": lambda g, size, replace, n, p: g.binomial(n, p, size),
    "random_integers": lambda g, size, replace, low, high: g.integers(
        low, high, size, endpoint=True
    ),
    "choice": _choice,
    "permutation": _permutations,
}


@lowers(RandomDraw)
def _random_draw(op, node):
    sample = _SAMPLERS[op.distribution]
    dtype = np.dtype(node.outputs[1].type.dtype)
    ndim, replace = op.ndim, op.replace

    def kernel(state, *args):
        bit_generator = _bit_generator(state)
        size = tuple(int(s) for s in args[:ndim])
        values = sample(np.random.Generator(bit_generator), size, replace, *args[ndim:])
        new_state = state_vector(bit_generator.state)
        return new_state, np.asarray(values).astype(dtype, copy=False)

    return kernel
