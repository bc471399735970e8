"""`RandomStreams`: random numbers in graphs, with Theano's interface.

Each draw (``srng.uniform(...)``, ``srng.normal(...)``, ...) gets its own shared
variable holding a generator state, an ordinary uint64 vector (the layout is
`croton.ops.random.STATE_LAYOUT`) in graphs; its ``get_value`` gives the vector
wrapped in a `croton.tensor.random_state.GeneratorState` (with ``seed``,
``get_state`` and ``set_state``, as Theano's numpy RandomState). The draw's state has a default update to the state
after the draw, so every call of a compiled function that uses the draw advances it
and gives new numbers, unless the function is compiled with ``no_default_updates``.
The numbers are those of ``numpy.random.Generator(PCG64)`` on every backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from croton.compile.shared import SharedVariable
from croton.graph.basic import Variable
from croton.ops.random import ELEMENTWISE, RandomDraw, seeded_state
from croton.tensor.random_state import random_state_shared

__all__ = ["RandomStreams"]

_SEED_LIMIT = 2**63  # the per-draw seeds a stream's master generator draws from


class RandomStreams:
    """A factory of random draws whose states are seeded from one master seed.

    Parameters
    ----------
    seed
        The master seed: each new draw's state is seeded with an integer drawn from a
        master generator seeded with it. None seeds from the operating system, so the
        numbers differ from run to run.

    Attributes
    ----------
    state_updates : list of (SharedVariable, Variable)
        For every draw made so far, its state and the state after the draw.

    Examples
    --------
    >>> import croton
    >>> from croton.tensor.shared_randomstreams import RandomStreams
    >>> srng = RandomStreams(seed=234)
    >>> rv_u = srng.uniform((2, 2))
    >>> f = croton.function([], rv_u)
    >>> f().shape
    (2, 2)
    """

    def __init__(self, seed: int | None = None):
        self.default_instance_seed = seed
        self.gen_seedgen = np.random.default_rng(seed)
        self.state_updates: list[tuple[SharedVariable, Variable]] = []

    # -- seeding and updates -----------------------------------------------------------
    def seed(self, seed: int | None = None) -> None:
        """Re-seed every draw made so far from the master seed ``seed``.

        The states are set exactly as a new `RandomStreams(seed)` would set those of
        the same draws made in the same order. ``None`` reuses the seed given at
        construction. Draws made later are seeded as before, from the generator made
        at construction (as in Theano).
        """
        if seed is None:
            seed = self.default_instance_seed
        master = np.random.default_rng(seed)
        for state, _ in self.state_updates:
            state.set_value(_new_state(master), borrow=True)

    def updates(self) -> list[tuple[SharedVariable, Variable]]:
        """The ``(state, new_state)`` pair of every draw made so far."""
        return list(self.state_updates)

    def __getitem__(self, state: SharedVariable):
        """The current state of a draw (``srng[rv.rng]``), borrowed: a `GeneratorState`
        sharing the variable's vector."""
        return state.get_value(borrow=True)

    def __setitem__(self, state: SharedVariable, value) -> None:
        state.set_value(value, borrow=True)

    # -- distributions -----------------------------------------------------------------
    def uniform(self, size=(), low=0.0, high=1.0, ndim: int | None = None, dtype=None):
        """Samples uniform on ``[low, high)``; ``dtype`` defaults to floatX (at least as
        precise as symbolic ``low`` and ``high``)."""
        low, high = _tensor(low), _tensor(high)
        dtype = _float_dtype(dtype, "uniform", low, high)
        return self._draw("uniform", size, ndim, dtype, [low, high])

    def normal(self, size=(), avg=0.0, std=1.0, ndim: int | None = None, dtype=None):
        """Samples from a normal distribution of mean ``avg`` and standard deviation
        ``std``; ``dtype`` defaults to floatX (at least as precise as symbolic ``avg``
        and ``std``)."""
        avg, std = _tensor(avg), _tensor(std)
        dtype = _float_dtype(dtype, "normal", avg, std)
        return self._draw("normal", size, ndim, dtype, [avg, std])

    def binomial(self, size=(), n=1, p=0.5, ndim: int | None = None, dtype="int64"):
        """Numbers of successes in ``n`` trials of probability ``p``.

        ``dtype="floatX"`` gives a float mask (``n=1``), as dropout uses.
        """
        n = _integer_tensor(n, "binomial", "n")
        p = _tensor(p)
        return self._draw("binomial", size, ndim, _dtype(dtype), [n, p])

    def random_integers(self, size=(), low=0, high=1, ndim: int | None = None, dtype="int64"):
        """Integers uniform on ``[low, high]`` (``high`` included)."""
        low = _integer_tensor(low, "random_integers", "low")
        high = _integer_tensor(high, "random_integers", "high")
        return self._draw("random_integers", size, ndim, _dtype(dtype), [low, high])

    def choice(self, size=(), a=2, replace=True, p=None, ndim: int | None = None, dtype="int64"):
        """Samples of ``a`` (its elements if a vector, else ``arange(a)``).

        ``p`` gives the probability of each element (uniform if None); without
        ``replace`` no element is drawn twice. Parameters do not broadcast: ``size`` is
        the sample's shape.
        """
        a = _tensor(a)
        if a.ndim > 1 or (a.ndim == 0 and not _is_integer(a)):
            raise TypeError(
                f"choice: a must be an integer (the number of choices) or a vector of the "
                f"values to choose from, got {a} ({a.type})"
            )
        params = [a]
        if p is not None:
            p = _tensor(p)
            if p.ndim != 1:
                raise TypeError(f"choice: p must be a vector of probabilities, got {p} ({p.type})")
            params.append(p)
        return self._draw("choice", size, ndim, _dtype(dtype), params, replace=replace)

    def permutation(self, size=(), n=1, ndim: int | None = None, dtype="int64"):
        """Permutations of ``arange(n)``, one for each position of ``size``.

        The result has shape ``size + (n,)``.
        """
        n = _integer_tensor(n, "permutation", "n")
        if n.ndim != 0:
            raise TypeError(f"permutation: n must be an integer scalar, got {n} ({n.type})")
        return self._draw("permutation", size, ndim, _dtype(dtype), [n])

    def multinomial(self, size=None, n=1, pvals=(0.5, 0.5), ndim=None, dtype="int64"):
        """Counts of ``n`` draws among the categories of ``pvals`` (its last axis), as
        Theano's ``RandomStreams.multinomial``.

        ``pvals`` is a vector or holds one vector of probabilities per sample along its
        last axis; the result has the shape ``size + (categories,)`` (``size`` defaults
        to ``pvals``'s leading shape, and ``pvals`` broadcasts to it). ``n`` is a
        non-negative Python int. The counts come from ``n`` uniform draws per sample;
        they are not NumPy's ``multinomial`` numbers.
        """
        import croton.tensor as T

        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
            raise TypeError(
                f"multinomial: n must be a non-negative Python int (the number of draws), got {n!r}"
            )
        pvals = _tensor(pvals)
        if pvals.ndim == 0 or not pvals.dtype.startswith("float"):
            raise TypeError(
                f"multinomial: pvals must hold float probabilities along its last axis, got "
                f"{pvals} ({pvals.type})"
            )
        categories = pvals.shape[-1]
        if size is None:
            batch = [pvals.shape[d] for d in range(pvals.ndim - 1)]
        else:
            batch = list(_size_entries(size, ndim, "multinomial"))
        rows = T.broadcast_to(pvals, batch + [categories]).reshape((-1, categories))
        unis = self.uniform((rows.shape[0], int(n)), dtype=pvals.dtype)
        counts = category_counts(rows, unis).reshape(batch + [categories])
        return T.cast(counts, _dtype(dtype))

    # -- the draw ----------------------------------------------------------------------
    def _draw(self, distribution, size, ndim, dtype, params, replace=True):
        entries = _size_entries(size, ndim, distribution)
        if distribution in ELEMENTWISE:
            entries = _broadcast_size(entries, params, distribution)
        state = random_state_shared(_new_state(self.gen_seedgen))
        op = RandomDraw(distribution, len(entries), dtype, replace=replace)
        new_state, sample = op(state, *entries, *params)
        state.default_update = new_state
        self.state_updates.append((state, new_state))
        sample.rng = state
        sample.update = (state, new_state)
        return sample


def _new_state(master: np.random.Generator) -> np.ndarray:
    return seeded_state(int(master.integers(_SEED_LIMIT)))


def _tensor(x):
    from croton.tensor.variable import as_tensor_variable

    return as_tensor_variable(x)


def _is_integer(x) -> bool:
    return x.dtype.startswith(("int", "uint"))


def _integer_tensor(x, distribution: str, name: str):
    from croton.tensor.math import cast

    x = _tensor(x)
    if not _is_integer(x):
        raise TypeError(
            f"{distribution}: {name} must be an integer, got {x} ({x.type}). Cast it with "
            f"({name}).astype('int64')."
        )
    return x if x.dtype == "int64" else cast(x, "int64")


def _dtype(dtype) -> str:
    from croton.graph.type import normalize_dtype

    return normalize_dtype(dtype)


def _float_dtype(dtype, distribution: str, *params) -> str:
    from croton.config import config
    from croton.graph.basic import Constant

    if dtype is None:
        # symbolic float parameters raise the precision; Python numbers do not (NEP 50)
        symbolic = [p.dtype for p in params if not isinstance(p, Constant)]
        floats = [d for d in symbolic if d.startswith("float")]
        return np.result_type(config.floatX, *floats).name
    dtype = _dtype(dtype)
    if not dtype.startswith("float"):
        raise TypeError(
            f"{distribution}: dtype must be a float dtype, got {dtype!r}. Cast the sample "
            "instead, or use random_integers for integers."
        )
    return dtype


def _size_entries(size, ndim, distribution: str) -> list:
    """``size`` as a list of entries (ints, -1 for "from the parameters", or int scalars)."""
    if size is None:
        entries = []
    elif isinstance(size, Variable):
        if size.ndim == 0:
            entries = [size]
        elif size.ndim == 1:
            length = size.type.shape[0]
            if length is None:
                length = ndim
            if length is None:
                raise TypeError(
                    f"{distribution}: size {size} is a vector of unknown length; pass ndim= "
                    "(the number of entries) or give size as a tuple"
                )
            entries = [size[i] for i in range(length)]
        else:
            raise TypeError(f"{distribution}: size must be a vector of integers, got {size.type}")
    elif isinstance(size, (int, np.integer)):
        entries = [int(size)]
    elif isinstance(size, Sequence) or isinstance(size, np.ndarray):
        entries = [int(s) if isinstance(s, (int, np.integer)) else s for s in size]
    else:
        raise TypeError(
            f"{distribution}: size must be a tuple of integers or integer scalars, got {size!r}"
        )
    for entry in entries:
        if isinstance(entry, int) and entry < -1:
            raise ValueError(f"{distribution}: size {tuple(entries)} has a negative length")
        if not isinstance(entry, int) and not (
            isinstance(entry, Variable) and entry.ndim == 0 and _is_integer(entry)
        ):
            raise TypeError(
                f"{distribution}: size entries must be integers or integer scalars, got {entry!r}"
            )
    if ndim is not None and entries and len(entries) != ndim:
        raise ValueError(
            f"{distribution}: ndim={ndim} but size {size!r} has {len(entries)} entries"
        )
    if ndim is not None and not entries:
        entries = [-1] * ndim
    return entries


def _broadcast_size(entries: list, params: list, distribution: str) -> list:
    """Entries with -1 (and missing leading entries) taken from the parameters' shapes."""
    from croton.tensor.shape import shape_padleft

    ndim = max([len(entries), *(p.ndim for p in params)])
    entries = [-1] * (ndim - len(entries)) + entries
    padded = [shape_padleft(p, ndim - p.ndim) if p.ndim < ndim else p for p in params]
    result = []
    for axis, entry in enumerate(entries):
        if isinstance(entry, int) and entry == -1:
            lengths = [p.shape[axis] for p in padded if p.type.shape[axis] != 1]
            statics = [p.type.shape[axis] for p in padded if p.type.shape[axis] != 1]
            known = [s for s in statics if s is not None]
            entry = known[0] if known else (lengths[0] if lengths else 1)
        elif isinstance(entry, int):
            for name, p in zip(_names(distribution), padded):
                length = p.type.shape[axis]
                if length not in (None, 1, entry):
                    raise ValueError(
                        f"{distribution}: {name} has length {length} on axis {axis}, which "
                        f"does not broadcast to the size {entry} there"
                    )
        result.append(entry)
    return result


def _names(distribution: str) -> tuple:
    from croton.ops.random import DISTRIBUTIONS

    return DISTRIBUTIONS[distribution]


def categorical(p, unis):
    """Column indices (rows, m) drawn from the rows of ``p`` (need not sum to one) with
    the uniforms ``unis`` (rows, m): the first column whose cumulative weight exceeds
    ``u * total``, as ``numpy.searchsorted(cdf, u * total, side="right")``."""
    import croton.tensor as T

    columns = T.arange(p.shape[1])
    upper = T.cast(T.le(columns.dimshuffle(0, "x"), columns.dimshuffle("x", 0)), p.dtype)
    cdf = T.dot(p, upper)  # running sums along each row
    targets = unis * cdf[:, -1].dimshuffle(0, "x")
    below = T.ge(targets.dimshuffle(0, 1, "x"), cdf.dimshuffle(0, "x", 1))
    return T.minimum(T.sum(below, axis=2, dtype="int64"), p.shape[1] - 1)


def category_counts(p, unis):
    """For each row of ``p`` (rows, categories), how often each category is drawn by the
    uniforms of the same row of ``unis`` (rows, n): `categorical`, counted."""
    import croton.tensor as T

    picks = categorical(p, unis)
    columns = T.arange(p.shape[1])
    return T.sum(T.eq(picks.dimshuffle(0, 1, "x"), columns.dimshuffle("x", "x", 0)), axis=1)
