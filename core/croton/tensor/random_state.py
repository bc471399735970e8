"""Generator states as users see them: `GeneratorState` and `RandomStateSharedVariable`.

Inside graphs a generator state is a plain uint64 vector (`croton.ops.random.STATE_LAYOUT`,
NumPy's PCG64). Theano users handle the state of a draw as a generator object instead::

    rng_val = rv_u.rng.get_value(borrow=True)
    rng_val.seed(89234)
    rv_u.rng.set_value(rng_val, borrow=True)

so the shared variable holding a draw's state (`RandomStateSharedVariable`) hands out a
`GeneratorState`, a small object wrapping the vector, and takes one back, or a vector, a
``numpy.random.Generator``, a ``numpy.random.PCG64`` or a PCG64 state dict. Compiled
functions read and write the raw vector, so none of this costs anything per call.
"""

from __future__ import annotations

import numpy as np

from croton.compile.shared import TensorSharedVariable
from croton.graph.type import TensorType
from croton.ops.random import STATE_LENGTH, bit_generator_state, seeded_state, state_vector

__all__ = ["GeneratorState", "RandomStateSharedVariable", "as_state_vector", "random_state_shared"]

_STATE_TYPE = TensorType("uint64", shape=(STATE_LENGTH,))


def as_state_vector(value, name: str = "random state") -> np.ndarray:
    """The uint64 state vector held by ``value``, checked to be a PCG64 state.

    ``value`` may be a `GeneratorState`, a ``numpy.random.Generator`` or a
    ``numpy.random.PCG64`` (its current state is copied), a PCG64 ``bit_generator.state``
    dict, or a vector of `STATE_LENGTH` unsigned integers (returned as it is when it is
    already a uint64 ndarray, so the caller decides whether to copy it).
    """
    if isinstance(value, GeneratorState):
        return value._vector
    if isinstance(value, np.random.Generator):
        value = value.bit_generator
    if isinstance(value, np.random.RandomState):
        raise TypeError(
            f"{name}: a numpy RandomState (Mersenne Twister) cannot be a croton generator "
            "state, which holds a PCG64 generator. Pass numpy.random.default_rng(seed), "
            "numpy.random.PCG64(seed), or seed the state with rng.get_value().seed(seed)."
        )
    if isinstance(value, np.random.BitGenerator):
        value = value.state
    if isinstance(value, dict):
        try:
            return state_vector(value)
        except (KeyError, TypeError) as err:
            raise TypeError(
                f"{name}: {value!r} is not a PCG64 bit generator state dict "
                f"(missing or bad entry {err}); pass numpy.random.PCG64(...).state"
            ) from None
        except ValueError as err:
            raise TypeError(f"{name}: {err}. Pass numpy.random.PCG64(seed).") from None
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, (int, np.integer)) and 0 <= v < 2**64 for v in value
    ):
        # exactly: numpy reads a list mixing entries above 2**63 with small ones as floats
        value = np.array([int(v) for v in value], dtype=np.uint64)
    vector = _STATE_TYPE.filter(value, name=name)
    try:
        bit_generator_state(vector)  # checks that the increment is odd
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None
    return vector


class GeneratorState:
    """A random generator's state, as ``rv.rng.get_value()`` returns it.

    It wraps the draw's uint64 state vector (NumPy's PCG64 bit generator, laid out as
    `croton.ops.random.STATE_LAYOUT`) and offers the methods Theano users call on the
    numpy ``RandomState`` that Theano kept there: `seed`, `get_state`, `set_state`,
    and draws (`uniform`, `normal`, ...) that advance it. The draws are those of
    ``numpy.random.Generator``, which is what the compiled draw computes from the same
    state: ``rv.rng.get_value().uniform(size=(2, 2))`` gives the numbers the next call of
    a function drawing ``rv = srng.uniform((2, 2))`` returns.

    ``numpy.asarray(state)`` gives the vector.

    Parameters
    ----------
    state
        What to start from: anything `RandomStateSharedVariable.set_value` accepts (it is
        copied), or an integer seed, or None for a seed from the operating system.
    """

    def __init__(self, state=None):
        if state is None or isinstance(state, (int, np.integer)):
            self._vector = seeded_state(state)
        else:
            self._vector = np.array(as_state_vector(state))

    @classmethod
    def _wrapping(cls, vector: np.ndarray) -> GeneratorState:
        """A state object sharing ``vector`` (no copy, no check)."""
        obj = cls.__new__(cls)
        obj._vector = vector
        return obj

    def _write(self, vector: np.ndarray) -> None:
        # in place, so a state borrowed from a shared variable changes the variable
        if self._vector.flags.writeable:
            self._vector[...] = vector
        else:
            self._vector = np.array(vector)

    # -- numpy RandomState's state interface -------------------------------------------
    def seed(self, seed=None) -> None:
        """Seed the generator as ``numpy.random.PCG64(seed)`` is seeded.

        The same seed always gives the same state; None takes a seed from the operating
        system.
        """
        self._write(seeded_state(seed))

    def get_state(self) -> dict:
        """The state as a new PCG64 ``bit_generator.state`` dict (for `set_state`)."""
        return bit_generator_state(self._vector)

    def set_state(self, state) -> None:
        """Set the state from a `get_state` dict, a state vector, another
        `GeneratorState`, a ``numpy.random.Generator`` or a ``numpy.random.PCG64``."""
        self._write(as_state_vector(state, name="set_state"))

    def generator(self) -> np.random.Generator:
        """A new ``numpy.random.Generator`` starting from this state (advancing it
        leaves this object alone)."""
        bit_generator = np.random.PCG64(0)
        bit_generator.state = self.get_state()
        return np.random.Generator(bit_generator)

    def copy(self) -> GeneratorState:
        """An independent copy."""
        return GeneratorState._wrapping(self._vector.copy())

    # -- draws that advance the state --------------------------------------------------
    def _draw(self, method: str, *args, **kwargs):
        generator = self.generator()
        values = getattr(generator, method)(*args, **kwargs)
        self._write(state_vector(generator.bit_generator.state))
        return values

    def random(self, size=None):
        """Floats uniform on ``[0, 1)`` (``Generator.random``); advances the state."""
        return self._draw("random", size)

    random_sample = random

    def uniform(self, low=0.0, high=1.0, size=None):
        """``Generator.uniform``; advances the state."""
        return self._draw("uniform", low, high, size)

    def normal(self, loc=0.0, scale=1.0, size=None):
        """``Generator.normal``; advances the state."""
        return self._draw("normal", loc, scale, size)

    def standard_normal(self, size=None):
        """``Generator.standard_normal``; advances the state."""
        return self._draw("standard_normal", size)

    def integers(self, low, high=None, size=None, dtype="int64", endpoint=False):
        """``Generator.integers``; advances the state."""
        return self._draw("integers", low, high, size, dtype=dtype, endpoint=endpoint)

    def randint(self, low, high=None, size=None, dtype="int64"):
        """Integers on ``[low, high)`` as ``RandomState.randint`` (drawn with
        ``Generator.integers``); advances the state."""
        return self._draw("integers", low, high, size, dtype=dtype)

    def binomial(self, n, p, size=None):
        """``Generator.binomial``; advances the state."""
        return self._draw("binomial", n, p, size)

    def choice(self, a, size=None, replace=True, p=None):
        """``Generator.choice``; advances the state."""
        return self._draw("choice", a, size, replace, p)

    def permutation(self, x):
        """``Generator.permutation``; advances the state."""
        return self._draw("permutation", x)

    # -- conversions: code that took the value for the vector keeps working ------------
    @property
    def shape(self) -> tuple:
        """The vector's shape, ``(STATE_LENGTH,)``."""
        return self._vector.shape

    @property
    def dtype(self) -> np.dtype:
        """The vector's dtype, uint64."""
        return self._vector.dtype

    def __len__(self) -> int:
        return len(self._vector)

    def __iter__(self):
        return iter(self._vector)

    def __getitem__(self, index):
        return self._vector[index]

    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self._vector, dtype=dtype)
        return self._vector if dtype is None else self._vector.astype(dtype, copy=False)

    def __eq__(self, other):
        if not isinstance(other, GeneratorState):
            return NotImplemented
        return bool(np.array_equal(self._vector, other._vector))

    __hash__ = None

    def __repr__(self) -> str:
        state = self.get_state()
        return (
            f"GeneratorState(PCG64 state={state['state']['state']:#x}, "
            f"inc={state['state']['inc']:#x})"
        )


class RandomStateSharedVariable(TensorSharedVariable):
    """The shared variable holding a draw's generator state (``rv.rng``).

    Its value is a uint64 vector, which is what graphs and compiled functions see.
    `get_value` returns it wrapped in a `GeneratorState`; `set_value` accepts such an
    object, a state vector, a ``numpy.random.Generator``, a ``numpy.random.PCG64`` or a
    PCG64 state dict.

    ``borrow`` works as in Theano where the value lives in host memory (the numpy and
    numba backends): ``get_value(borrow=True)`` returns an object sharing the variable's
    vector, so seeding it or setting its state changes the variable at once, until a
    function call stores the next state; ``set_value(state, borrow=True)`` keeps the
    object's vector, so later changes to the object change the variable. Without
    ``borrow`` both copy. ``get_value(return_internal_type=True)`` gives the vector.
    """

    def _filter(self, value):
        name = f"shared variable {self.name or ''}".rstrip()
        return super()._filter(as_state_vector(value, name=name))

    def get_value(self, borrow: bool = False, return_internal_type: bool = False):
        """The state as a `GeneratorState` (a copy unless ``borrow=True``), or the raw
        vector with ``return_internal_type=True``."""
        vector = super().get_value(borrow=borrow, return_internal_type=return_internal_type)
        if return_internal_type:
            return vector
        return GeneratorState._wrapping(vector)

    def set_value(self, value, borrow: bool = False) -> None:
        """Set the state from a `GeneratorState`, a vector, a ``numpy.random.Generator``,
        a ``numpy.random.PCG64`` or a state dict (copied unless ``borrow=True``)."""
        vector = as_state_vector(value, name=f"shared variable {self.name or ''}".rstrip())
        super().set_value(vector, borrow=borrow)

    def __getstate__(self):
        state = super().__getstate__()
        state["_value"] = super().get_value(borrow=True)
        return state


def random_state_shared(value, name: str | None = None) -> RandomStateSharedVariable:
    """A `RandomStateSharedVariable` holding ``value`` (anything its `set_value`
    accepts; always copied)."""
    vector = np.array(as_state_vector(value, name=f"shared variable {name or ''}".rstrip()))
    return RandomStateSharedVariable(_STATE_TYPE, vector, name=name)
