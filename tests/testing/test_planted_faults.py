"""The conformance suite catches broken backends: each planted fault fails a case.

A faulty backend is the numpy backend with one rule replaced, registered through the
public plugin API like a third party's. Each test checks that the case passes on the
real numpy backend and fails on the faulty one, so the case is what catches the fault.
"""

from __future__ import annotations

import numpy as np
import pytest

import croton.plugin
from croton.ops.elemwise import Elemwise
from croton.ops.subtensor import IncSubtensor, build_index
from croton.testing.cases import all_cases
from croton.testing.compare import ConformanceError, check_case
from croton_numpy.backend import NumpyBackend

CASES = {case.id: case for case in all_cases()}


def _wrong_broadcast(rule):
    """Elementwise kernels that broadcast by repeating the flat data (right for rows only)."""

    def lower(op, node):
        kernel = rule(op, node)

        def run(*args):
            target = np.broadcast_shapes(*[np.shape(a) for a in args])
            return kernel(*[a if np.shape(a) == target else np.resize(a, target) for a in args])

        return run

    return lower


def _wrong_dtype(rule):
    """Elementwise kernels that always return float64."""

    def lower(op, node):
        kernel = rule(op, node)
        return lambda *args: np.asarray(kernel(*args), dtype="float64")

    return lower


def _inc_without_accumulating(rule):
    """``x[i] += y`` with fancy indices: repeated indices keep only one increment.

    Only gradients meet this op here (the gradient of ``x[i]``), so only the
    gradient comparison can catch it.
    """

    def lower(op, node):
        if op.set_instead_of_inc or not op.is_advanced:
            return rule(op, node)

        def run(x, y, *index):
            out = x.copy()
            out[build_index(op.spec, index)] += y
            return out

        return run

    return lower


@pytest.fixture
def faulty_backend():
    """``faulty_backend(op_class, wrap)`` registers backend "faulty"; removed afterwards."""
    names = []

    def make(op_class, wrap):
        class FaultyBackend(NumpyBackend):
            name = "faulty"

        backend = FaultyBackend()
        backend.registry.register(
            op_class, wrap(backend.registry.lookup_class(op_class)), replace=True
        )

        class Plugin:
            @croton.plugin.hookimpl
            def croton_backends(self):
                return [backend]

        croton.plugin.register(Plugin(), name="faulty-plugin")
        names.append("faulty-plugin")
        return backend.name

    yield make
    for name in names:
        croton.plugin.unregister(name)


@pytest.mark.parametrize(
    "fault, op_class, case_id",
    [
        (_wrong_broadcast, Elemwise, "elemwise.add/float64/broadcast-1-col"),
        (_wrong_broadcast, Elemwise, "elemwise.mul/float64/broadcast-outer"),
        (_wrong_dtype, Elemwise, "elemwise.exp/float32/basic"),
        (_wrong_dtype, Elemwise, "elemwise.add/int8/basic"),
        (_inc_without_accumulating, IncSubtensor, "Subtensor/float64/integer-array-repeated"),
    ],
)
def test_planted_fault_is_caught(faulty_backend, fault, op_class, case_id):
    case = CASES[case_id]
    check_case(case, "numpy")  # the case itself is sound
    backend = faulty_backend(op_class, fault)
    with pytest.raises(ConformanceError):
        check_case(case, backend)


def test_gradient_fault_passes_the_forward_comparison(faulty_backend):
    """The fault in the last case above lives in the gradient alone."""
    from dataclasses import replace

    backend = faulty_backend(IncSubtensor, _inc_without_accumulating)
    case = CASES["Subtensor/float64/integer-array-repeated"]
    check_case(replace(case, grad=False), backend)
    with pytest.raises(ConformanceError, match="gradient"):
        check_case(case, backend)


def test_a_row_broadcast_is_not_enough_to_catch_the_broadcast_fault(faulty_backend):
    """Why the catalogue broadcasts every input along every axis: rows hide this fault."""
    backend = faulty_backend(Elemwise, _wrong_broadcast)
    check_case(CASES["elemwise.add/float64/broadcast-1-row"], backend)
    with pytest.raises(ConformanceError):
        check_case(CASES["elemwise.add/float64/broadcast-1-col"], backend)
