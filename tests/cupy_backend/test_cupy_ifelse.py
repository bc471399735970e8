"""The cupy backend's ifelse rule: it lowers (both branches compiled by the cupy backend),
it runs only the branch the condition picks, and it agrees with the numpy reference on
every catalogue case (run on the host with numpy standing in for cupy, and on a GPU).

(Not ``test_ifelse.py``: ``tests`` has one, and test directories are not packages.)
"""

from __future__ import annotations

import warnings

import host_cuda
import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.backend import FallbackWarning, resolve_rules
from croton.ifelse import ifelse
from croton.ops.ifelse import IfElse
from croton.testing.cases_ifelse import ifelse_cases
from croton.testing.compare import check_case


def _lazy_graph():
    """An ifelse whose else branch cannot run on ``x`` (it reshapes to a length x lacks)."""
    i = T.lscalar("i")
    x = T.dvector("x")
    impossible = x.reshape((x.shape[0] + 1,))
    return [i, x], ifelse(T.lt(i, 3), x * 2, impossible * 3)


def test_the_rule_is_registered(cupy_backend):
    assert IfElse in cupy_backend.registry


def test_both_branches_lower_without_a_device(cupy_backend):
    inputs, output = _lazy_graph()
    with warnings.catch_warnings():
        # ops outside the branches may still fall back to the reference backend
        warnings.simplefilter("ignore", FallbackWarning)
        f = croton.function(inputs, output, backend=cupy_backend, allow_fallback=True)
    nodes = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, IfElse)]
    assert nodes
    for node, (rule, fell_back) in zip(nodes, resolve_rules(nodes, cupy_backend, False)):
        assert not fell_back and callable(rule(node.op, node))


# ------------------------------------------------------- the rule, run on the host


@pytest.fixture
def host(monkeypatch):
    """A host backend whose ifelses run the cupy rule (numpy standing in for cupy)."""
    return host_cuda.host_backend(monkeypatch, [IfElse])


@pytest.mark.parametrize("case", ifelse_cases(), ids=lambda c: c.id)
def test_every_ifelse_case_agrees_with_numpy_through_the_rule(host, case):
    check_case(case, host)


def test_only_the_chosen_branch_runs(host):
    inputs, output = _lazy_graph()
    f = croton.function(inputs, output, backend=host)
    xv = np.arange(4.0)
    np.testing.assert_allclose(f(1, xv), xv * 2)
    with pytest.raises(ValueError):
        f(5, xv)


def test_a_branch_passing_an_argument_on_returns_a_copy(host):
    c = T.bscalar("c")
    x, y = T.dvectors("x", "y")
    node = ifelse(c, x, y).owner
    rule = host.registry.lookup(node.op)
    xv, yv = np.arange(3.0), np.ones(3)
    result = rule(node.op, node)(np.int8(1), xv, yv)
    np.testing.assert_array_equal(result, xv)
    assert result is not xv and not np.shares_memory(result, xv)


# ---------------------------------------------------------------------------- on a GPU


def test_only_the_chosen_branch_runs_on_the_gpu(gpu):
    inputs, output = _lazy_graph()
    f = croton.function(inputs, output, backend="cupy")
    xv = np.arange(4.0)
    np.testing.assert_allclose(f(1, xv), xv * 2)
    with pytest.raises(ValueError):
        f(5, xv)


@pytest.mark.parametrize("case", ifelse_cases(), ids=lambda c: c.id)
def test_every_ifelse_case_agrees_with_numpy_on_the_gpu(gpu, case):
    check_case(case, "cupy")
