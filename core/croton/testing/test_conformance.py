"""The conformance suite: every case on the backend under test against the reference.

Run it against any installed backend::

    pytest --pyargs croton.testing --croton-backend=NAME
"""

from __future__ import annotations

import fnmatch

import numpy as np
import pytest

from croton.testing.cases import all_cases
from croton.testing.cases_errors import error_cases
from croton.testing.compare import assert_conforms, check_case, check_error_case
from croton.testing.pytest_plugin import UNSUPPORTED

CASES = all_cases()
ERROR_CASES = error_cases()
#: the most known failures a backend may carry before the suite refuses it
MAX_KNOWN_FAILURES = 10


def _declared(patterns: dict, case_id: str) -> str | None:
    for pattern, reason in patterns.items():
        if fnmatch.fnmatchcase(case_id, pattern):
            return reason
    return None


def _apply_declarations(croton_backend, case_id: str, request) -> None:
    """Skip a case the backend declares unsupported; expect a known failure to fail."""
    unsupported = _declared(croton_backend.unsupported, case_id)
    if unsupported is not None:
        pytest.skip(f"{UNSUPPORTED} {croton_backend.name!r}: {unsupported}")
    failure = _declared(croton_backend.known_failures, case_id)
    if failure is not None:
        request.applymarker(pytest.mark.xfail(reason=failure, strict=True))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case(case, croton_backend, request):
    _apply_declarations(croton_backend, case.id, request)
    check_case(case, croton_backend.name)


@pytest.mark.parametrize("case", ERROR_CASES, ids=[case.id for case in ERROR_CASES])
def test_error_case(case, croton_backend, request):
    _apply_declarations(croton_backend, case.id, request)
    check_error_case(case, croton_backend.name)


def test_known_failures_stay_few(croton_backend):
    assert len(croton_backend.known_failures) <= MAX_KNOWN_FAILURES, (
        f"backend {croton_backend.name!r} lists {len(croton_backend.known_failures)} known "
        f"failures; fix some before adding more (the limit is {MAX_KNOWN_FAILURES})"
    )


def _core_ops() -> tuple[set[type], set[str]]:
    """Every public op class of the core, and every scalar op name (``cast`` too)."""
    from croton.ops import core_op_classes
    from croton.ops.scalar import SCALAR_OPS

    return set(core_op_classes()), set(SCALAR_OPS) | {"cast"}


def _ops_in(case) -> tuple[set[type], set[str]]:
    from croton.graph.traversal import toposort
    from croton.ops.elemwise import Elemwise

    _, outputs = case.build()
    classes, scalars = set(), set()
    for node in toposort(outputs):
        classes.add(type(node.op))
        if isinstance(node.op, Elemwise):
            scalars.add(node.op.scalar_op.name)
    return classes, scalars


def test_every_core_op_has_cases():
    """Adding an op to the core without adding conformance cases fails here."""
    classes, scalars = _core_ops()
    covered_classes, covered_scalars = set(), set()
    for case in CASES:
        found_classes, found_scalars = _ops_in(case)
        covered_classes |= found_classes
        covered_scalars |= found_scalars
    missing = sorted(c.__name__ for c in classes - covered_classes)
    missing += sorted(f"Elemwise({name})" for name in scalars - covered_scalars)
    assert not missing, f"ops without conformance cases in croton.testing.cases: {missing}"


def test_backend_lowers_every_core_op(croton_backend):
    """Every core op has a rule, unless the backend declares all its cases unsupported
    (``unsupported = {"Map/*": "why"}``)."""
    classes, _ = _core_ops()
    missing = sorted(
        c.__name__
        for c in classes
        if c not in croton_backend.registry
        and _declared(croton_backend.unsupported, f"{c.__name__}/any/any") is None
    )
    assert not missing, f"backend {croton_backend.name!r} has no lowering for {missing}"


def test_random_graphs(croton_backend, request):
    from hypothesis import HealthCheck, given, note, settings

    from croton.testing.compare import run_case
    from croton.testing.graphs import recipes

    examples = request.config.getoption("--croton-examples")

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(recipes())
    def agrees(recipe):
        note(f"reproducer:\n{recipe.source()}")
        values = recipe.values(np.random.default_rng(0))
        with np.errstate(all="ignore"):
            expected = run_case(recipe, "numpy", values, mode="FAST_RUN")
            actual = run_case(recipe, croton_backend.name, values, mode="FAST_RUN")
        for e, a in zip(expected, actual):
            assert_conforms(e, a, f"random graph on {croton_backend.name!r}", scale=100.0)

    agrees()
