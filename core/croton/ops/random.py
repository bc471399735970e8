"""`RandomDraw`: samples from a distribution, and the generator state after drawing them.

A generator's state is an ordinary tensor: a uint64 vector of `STATE_LENGTH` entries
holding NumPy's PCG64 bit generator (see `STATE_LAYOUT`). A draw is a pure function
``(state, size..., params...) -> (new_state, sample)``: the same state always gives
the same numbers, so a draw may be merged with an identical one or constant-folded, and
``RandomStreams`` advances the state by giving its shared variable the update
``state <- new_state``.
"""

from __future__ import annotations

from croton.graph.basic import Apply, Op
from croton.graph.type import TensorType

#: the entries of a state vector, in order: PCG64's 128-bit LCG state and increment as
#: (high, low) 64-bit halves, then its buffered 32-bit half word (flag and value)
STATE_LAYOUT = ("state_high", "state_low", "inc_high", "inc_low", "has_uint32", "uinteger")
STATE_LENGTH = len(STATE_LAYOUT)

#: PCG64's 128-bit LCG multiplier (a step is ``state * multiplier + inc``), for backends
#: that step the generator in their own code
PCG64_MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645

#: each distribution's parameters, in input order (choice's ``p`` is optional)
DISTRIBUTIONS = {
    "uniform": ("low", "high"),
    "normal": ("avg", "std"),
    "binomial": ("n", "p"),
    "random_integers": ("low", "high"),
    "choice": ("a", "p"),
    "permutation": ("n",),
}

#: distributions whose parameters broadcast against the sample's shape
ELEMENTWISE = ("uniform", "normal", "binomial", "random_integers")


class RandomDraw(Op):
    """Draw a sample of ``distribution`` and return ``(new_state, sample)``.

    Inputs: the state vector, ``ndim`` int64 scalars giving the sample's shape (for
    ``permutation``, the shape of the batch of permutations; each permutation adds a
    last axis of length ``n``), then the distribution's parameters. The numbers are
    those of ``numpy.random.Generator(PCG64)``'s method of the same name (``integers``
    with ``endpoint=True`` for ``random_integers``), computed in that method's dtype
    and cast to ``dtype``.

    Samples are not differentiable with respect to the parameters (as in PyTensor,
    where the gradient is undefined): `grad` raises `croton.autodiff.NullGradientError`
    when a gradient it is asked for would flow through a parameter, and differentiates
    everything else (a dropout mask whose size depends on the weights, say). Write
    ``avg + std * sample`` with a standard normal sample to differentiate through it.
    """

    __props__ = ("distribution", "ndim", "dtype", "replace")
    differentiable = False

    def __init__(self, distribution: str, ndim: int, dtype: str, replace: bool = True):
        if distribution not in DISTRIBUTIONS:
            raise ValueError(
                f"unknown distribution {distribution!r}; use one of {sorted(DISTRIBUTIONS)}"
            )
        self.distribution = distribution
        self.ndim = int(ndim)
        self.dtype = str(dtype)
        self.replace = bool(replace)

    def make_node(self, state, *rest) -> Apply:
        from croton.ops.shape import _int_scalar, static_value
        from croton.tensor.variable import as_tensor_variable

        state = as_tensor_variable(state)
        if state.dtype != "uint64" or state.ndim != 1:
            raise TypeError(
                f"a random generator state must be a uint64 vector of length {STATE_LENGTH}, "
                f"got {state} ({state.type})"
            )
        if len(rest) < self.ndim:
            raise TypeError(f"{self} takes {self.ndim} size entries, got {len(rest)} inputs")
        size = [_int_scalar(s, f"size entry {i}") for i, s in enumerate(rest[: self.ndim])]
        params = [as_tensor_variable(p) for p in rest[self.ndim :]]
        names = DISTRIBUTIONS[self.distribution]
        optional = 1 if self.distribution == "choice" else 0
        if not len(names) - optional <= len(params) <= len(names):
            raise TypeError(
                f"{self.distribution} takes the parameters {names}, got {len(params)} inputs"
            )
        static = []
        for s in size:
            value = static_value(s)
            static.append(None if value is None else int(value))
        if self.distribution == "permutation":
            n = static_value(params[0])
            static.append(None if n is None else int(n))
        sample = TensorType(self.dtype, shape=static)()
        return Apply(self, [state, *size, *params], [state.type(), sample])

    def infer_shape(self, node, input_shapes):
        size = tuple(node.inputs[1 : 1 + self.ndim])
        if self.distribution == "permutation":
            from croton.tensor.math import cast

            size = (*size, cast(node.inputs[1 + self.ndim], "int64"))
        return [input_shapes[0], size]

    def connection_pattern(self, node):
        # the new state depends on the state and the size only; the sample on everything
        return [[True, True]] * (1 + self.ndim) + [[False, True]] * (
            len(node.inputs) - 1 - self.ndim
        )

    def L_op(self, inputs, outputs, output_grads):
        from croton.autodiff import UndefinedGradient

        names = DISTRIBUTIONS[self.distribution]
        params = [
            UndefinedGradient(
                f"the gradient of a {self.distribution} sample with respect to its parameter "
                f"{name} is undefined. To differentiate through a normal sample, draw a "
                "standard normal sample and write avg + std * sample."
            )
            for name in names[: len(inputs) - 1 - self.ndim]
        ]
        return [None] * (1 + self.ndim) + params


def state_vector(bit_generator_state: dict):
    """The uint64 state vector (`STATE_LAYOUT`) of a PCG64 ``bit_generator.state`` dict."""
    import numpy as np

    if bit_generator_state.get("bit_generator") != "PCG64":
        raise ValueError(
            "a random state vector holds a PCG64 bit generator, got "
            f"{bit_generator_state.get('bit_generator')!r}"
        )
    mask = (1 << 64) - 1
    state = int(bit_generator_state["state"]["state"])
    inc = int(bit_generator_state["state"]["inc"])
    entries = [
        state >> 64,
        state & mask,
        inc >> 64,
        inc & mask,
        int(bit_generator_state["has_uint32"]),
        int(bit_generator_state["uinteger"]),
    ]
    return np.array(entries, dtype="uint64")


def bit_generator_state(vector) -> dict:
    """The PCG64 ``bit_generator.state`` dict held by a state vector (`STATE_LAYOUT`)."""
    entries = [int(v) for v in vector]
    if len(entries) != STATE_LENGTH:
        raise ValueError(
            f"a random state vector has {STATE_LENGTH} entries {STATE_LAYOUT}, got "
            f"{len(entries)}. Make states with RandomStreams or croton.ops.random.seeded_state."
        )
    if entries[3] % 2 == 0:
        # PCG64's increment is always odd; an even one (an all-zero vector, say) would
        # make a degenerate generator that repeats one number
        raise ValueError(
            f"{list(entries)} is not a PCG64 state: its increment (entries 2 and 3) must be "
            "odd. Make states with RandomStreams or croton.ops.random.seeded_state."
        )
    return {
        "bit_generator": "PCG64",
        "state": {
            "state": (entries[0] << 64) | entries[1],
            "inc": (entries[2] << 64) | entries[3],
        },
        "has_uint32": entries[4],
        "uinteger": entries[5],
    }


def seeded_state(seed):
    """The state vector of ``numpy.random.PCG64(seed)``."""
    import numpy as np

    return state_vector(np.random.PCG64(seed).state)
