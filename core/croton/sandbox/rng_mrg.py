"""`MRG_RandomStreams`: Theano's ``theano.sandbox.rng_mrg`` interface over croton's draws.

Theano's MRG_RandomStreams draws from the MRG31k3p generator, which runs well on GPUs.
croton's draws all come from NumPy's PCG64 (the same `RandomDraw` op as `RandomStreams`),
so this class gives MRG's interface and signatures, not MRG31k3p's numbers: a program
seeded as in Theano gets different (equally good) random numbers.
"""

from __future__ import annotations

import numpy as np

from croton.ops.random import state_vector
from croton.tensor.random_state import GeneratorState
from croton.tensor.shared_randomstreams import (
    RandomStreams,
    _new_state,
    category_counts,
)
from croton.tensor.shared_randomstreams import (
    categorical as _categorical,
)

__all__ = ["MRG_RandomStreams"]


class MRG_RandomStreams(RandomStreams):
    """Random streams with the interface of Theano's ``MRG_RandomStreams``.

    Draws are those of `RandomStreams` (NumPy's PCG64), not Theano's MRG31k3p numbers.
    The ``nstreams`` arguments are accepted and ignored: every draw has one generator.

    Parameters
    ----------
    seed
        The master seed (Theano's default, 12345, unless given).

    Attributes
    ----------
    rstate : numpy.ndarray
        The master generator's state, a uint64 vector (`croton.ops.random.STATE_LAYOUT`)
        from which the next draw's state is seeded. Reading it gives a copy; assigning
        it (``g2.rng.rstate = g1.rng.rstate``) makes later draws seeded as the other
        stream's would be.
    state_updates : list of (SharedVariable, Variable)
        For every draw made so far, its state and the state after the draw.

    Examples
    --------
    >>> import croton
    >>> from croton.sandbox.rng_mrg import MRG_RandomStreams
    >>> srng = MRG_RandomStreams(seed=234)
    >>> mask = srng.binomial(size=(2, 3), p=0.5, dtype="float64")
    >>> croton.function([], mask)().shape
    (2, 3)
    """

    def __init__(self, seed: int | None = 12345):
        super().__init__(seed)

    @property
    def rstate(self) -> np.ndarray:
        return state_vector(self.gen_seedgen.bit_generator.state)

    @rstate.setter
    def rstate(self, value) -> None:
        self.gen_seedgen = GeneratorState(value).generator()

    def set_rstate(self, seed: int | None) -> None:
        """Seed the master generator (the states of later draws) with ``seed``."""
        self.gen_seedgen = np.random.default_rng(seed)

    def seed(self, seed: int | None = None) -> None:
        """Re-seed the master generator with ``seed`` (None: the seed given at
        construction), then every draw made so far from it, in order; later draws
        continue from it (as in Theano's MRG streams)."""
        self.set_rstate(self.default_instance_seed if seed is None else seed)
        for state, _ in self.state_updates:
            state.set_value(_new_state(self.gen_seedgen), borrow=True)

    # -- distributions with MRG's signatures -------------------------------------------
    def uniform(self, size, low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None, **kwargs):
        """Samples uniform on ``[low, high)``; ``dtype`` defaults to floatX."""
        _no_extra_arguments("uniform", kwargs)
        return self._mark(super().uniform(size, low, high, ndim=ndim, dtype=dtype))

    def normal(
        self,
        size,
        avg=0.0,
        std=1.0,
        ndim=None,
        dtype=None,
        nstreams=None,
        truncate: bool = False,
        **kwargs,
    ):
        """Samples from a normal distribution of mean ``avg`` and standard deviation
        ``std``; ``dtype`` defaults to floatX. ``truncate=True`` is not supported."""
        _no_extra_arguments("normal", kwargs)
        if truncate:
            raise NotImplementedError(
                "MRG_RandomStreams.normal: truncate=True (a normal cut at two standard "
                "deviations) is not supported; draw with truncate=False and clip, or "
                "resample outside the graph"
            )
        return self._mark(super().normal(size, avg, std, ndim=ndim, dtype=dtype))

    def binomial(self, size=None, n=1, p=None, ndim=None, dtype="int64", nstreams=None, **kwargs):
        """Numbers of successes in ``n`` trials of probability ``p`` (required)."""
        _no_extra_arguments("binomial", kwargs)
        if p is None:
            raise TypeError("MRG_RandomStreams.binomial: give p, the probability of success")
        return self._mark(super().binomial(size, n, p, ndim=ndim, dtype=dtype))

    def multinomial(
        self, size=None, n=1, pvals=None, ndim=None, dtype="int64", nstreams=None, **kwargs
    ):
        """Counts of ``n`` draws from each row of the probability matrix ``pvals``.

        The result has ``pvals``'s shape: row ``i`` counts how often each column was
        drawn in ``n`` draws with probabilities ``pvals[i]`` (with ``n=1``, a one-hot
        row). As in Theano, ``size`` and ``ndim`` must be None.
        """
        _no_extra_arguments("multinomial", kwargs)
        pvals = _probability_matrix("multinomial", pvals, "pvals")
        if size is not None or ndim is not None:
            raise ValueError(
                "MRG_RandomStreams.multinomial: size and ndim must be None (the result has "
                "the shape of pvals); give one row of pvals per sample"
            )
        import croton.tensor as T

        n = _python_int("multinomial", n, "n")
        unis = self.uniform((pvals.shape[0], n), dtype=pvals.dtype)
        return T.cast(category_counts(pvals, unis), dtype)

    def choice(
        self,
        size=1,
        a=None,
        replace=True,
        p=None,
        ndim=None,
        dtype="int64",
        nstreams=None,
        **kwargs,
    ):
        """Column indices drawn from each row of the probability matrix ``p``.

        As in Theano's MRG streams, ``a`` is None and ``p`` a matrix: the result has
        shape ``(p.shape[0], size)``, row ``i`` holding ``size`` indices drawn with
        probabilities ``p[i]``, without repeats when ``replace=False`` (Theano's MRG
        streams support only that). Given ``a`` or a vector ``p``, this is
        `RandomStreams.choice` (``size`` is then the sample's shape).
        """
        _no_extra_arguments("choice", kwargs)
        if a is not None or p is None or getattr(p, "ndim", np.ndim(p)) != 2:
            return self._mark(
                super().choice(size, 2 if a is None else a, replace, p, ndim=ndim, dtype=dtype)
            )
        import croton.tensor as T

        p = _probability_matrix("choice", p, "p")
        if ndim is not None:
            raise ValueError("MRG_RandomStreams.choice: ndim must be None when p is a matrix")
        size = _python_int("choice", size, "size")
        unis = self.uniform((p.shape[0], size), dtype=p.dtype)
        if replace:
            return T.cast(_categorical(p, unis), dtype)
        columns = T.arange(p.shape[1]).dimshuffle("x", 0)
        weights, picks = p, []
        for j in range(size):
            pick = _categorical(weights, unis[:, j].dimshuffle(0, "x"))[:, 0]
            picks.append(pick)
            weights = weights * T.neq(columns, pick.dimshuffle(0, "x"))
        return T.cast(T.stack(picks, axis=1), dtype)

    @staticmethod
    def _mark(sample):
        sample.rstate = sample.rng  # Theano's MRG draws call their state ``rstate``
        return sample


def _probability_matrix(method: str, p, name: str):
    from croton.tensor.variable import as_tensor_variable

    if p is None:
        raise TypeError(f"MRG_RandomStreams.{method}: give {name}, a matrix of probabilities")
    p = as_tensor_variable(p)
    if p.ndim != 2 or not p.dtype.startswith("float"):
        raise NotImplementedError(
            f"MRG_RandomStreams.{method}: {name} must be a float matrix (one row of "
            f"probabilities per sample), got {p} ({p.type})"
        )
    return p


def _python_int(method: str, value, name: str) -> int:
    if not isinstance(value, (int, np.integer)) or value < 0:
        raise TypeError(
            f"MRG_RandomStreams.{method}: {name} must be a non-negative Python integer, "
            f"got {value!r}"
        )
    return int(value)


def _no_extra_arguments(method: str, kwargs: dict) -> None:
    if kwargs:
        raise TypeError(
            f"MRG_RandomStreams.{method} got unexpected keyword arguments {sorted(kwargs)}"
        )
