"""Shared fixtures for the rewrite tests: a rewrite that raises fails the test."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import croton
from croton.ops.composite import Composite
from croton.ops.elemwise import Elemwise


@pytest.fixture(autouse=True)
def _rewrite_errors_raise():
    with croton.config.change(on_rewrite_error="raise"):
        yield


def graph_op_names(f) -> Counter:
    """How often each op occurs in ``f``'s rewritten graph, fused programs included.

    An `Elemwise` counts as its scalar op's name (``"mul"``); the steps of an
    ``Elemwise(Composite)`` and of a reduction's prologue count one by one; any other
    op counts as its class name (``"Dot"``, ``"Reduce"``).
    """
    names: Counter = Counter()
    for node in f.maker.fgraph.apply_nodes:
        op = node.op
        if isinstance(op, Elemwise):
            if isinstance(op.scalar_op, Composite):
                names.update(step[0].name for step in op.scalar_op.program)
            else:
                names[op.scalar_op.name] += 1
            continue
        names[type(op).__name__] += 1
        prologue = getattr(op, "prologue", None)
        if prologue is not None:
            names.update(step[0].name for step in prologue.program)
    return names


class Compiled:
    """One graph compiled with ``mode="FAST_RUN"`` and with ``mode="NONE"``."""

    def __init__(self, inputs, outputs):
        self.fast = croton.function(inputs, outputs)
        self.naive = croton.function(inputs, outputs, mode="NONE")

    @property
    def names(self) -> Counter:
        """Ops left in the rewritten graph (see `graph_op_names`)."""
        return graph_op_names(self.fast)

    @property
    def naive_names(self) -> Counter:
        return graph_op_names(self.naive)

    @property
    def fired(self) -> Counter:
        return self.fast.maker.fgraph.rewrite_stats.fired

    def check(self, *args, rtol: float = 1e-12, atol: float = 0.0):
        """Both functions give the same values on ``args``; returns the rewritten one's."""
        fast = self.fast(*args)
        with np.errstate(all="ignore"):
            naive = self.naive(*args)
        np.testing.assert_allclose(fast, naive, rtol=rtol, atol=atol)
        return fast

    def run_both(self, *args):
        """``(rewritten, naive)`` values on ``args`` (the naive may overflow)."""
        with np.errstate(all="ignore"):
            return self.fast(*args), self.naive(*args)


@pytest.fixture
def compile_both():
    """``compile_both(inputs, outputs)`` -> a `Compiled` pair."""
    return Compiled


@pytest.fixture
def op_names():
    """``op_names(f)`` -> the `Counter` of ops in a compiled function's graph."""
    return graph_op_names
