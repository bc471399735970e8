"""Run-time failures name the node that failed and where the user created it
(`croton.compile.program`), and generated programs are plain straight-line code."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.compile.program import NodeFailure, Program, reraise_with_node
from croton.ops.blas import Dot


def _line_of(text: str) -> int:
    """The line of this file holding ``text`` (a marker comment)."""
    with open(__file__) as source:
        for number, line in enumerate(source, 1):
            if line.rstrip().endswith(text):
                return number
    raise AssertionError(text)


@pytest.mark.parametrize("mode", ["FAST_RUN", "NONE"])
def test_dot_shape_mismatch_names_the_node_and_its_creation(mode):
    x = T.dmatrix("x")
    w = croton.shared(np.ones((3, 2)), name="w")
    product = T.dot(x, w)  # <- dot created here
    f = croton.function([x], T.tanh(product).sum(), mode=mode)
    np.testing.assert_allclose(f(np.ones((4, 3))), np.tanh(np.ones((4, 3)) @ np.ones((3, 2))).sum())
    with pytest.raises(ValueError) as info:
        f(np.ones((4, 5)))
    message = str(info.value)
    assert "Dot" in message
    assert repr(f.maker.backend.name) in message
    assert f'File "{__file__}", line {_line_of("# <- dot created here")}' in message
    assert isinstance(info.value.node.op, Dot)


@pytest.mark.parametrize("mode", ["FAST_RUN", "NONE"])
def test_elementwise_mismatch_points_at_the_users_expression(mode):
    a, b = T.dvectors("a", "b")
    total = T.exp(a) * 2 + b  # <- add created here
    scaled = total * 3  # <- mul created here
    f = croton.function([a, b], scaled, mode=mode)  # <- function compiled here
    data = np.array([0.5, -1.0])
    np.testing.assert_allclose(f(data, data), (np.exp(data) * 2 + data) * 3)
    with pytest.raises(ValueError, match="do not match") as info:
        f(data, np.ones(3))
    message = str(info.value)
    assert "This happened while running" in message
    assert info.value.node is not None
    user_lines = {_line_of("# <- add created here"), _line_of("# <- mul created here")}
    assert any(f"line {line}" in message for line in user_lines), message
    assert f"line {_line_of('# <- function compiled here')}" not in message


def test_error_type_is_kept():
    i = T.lvector("i")
    x = T.dvector("x")
    f = croton.function([x, i], x[i])
    np.testing.assert_array_equal(f(np.arange(3.0), [2, 0]), np.arange(3.0)[[2, 0]])
    with pytest.raises(IndexError) as info:
        f(np.arange(3.0), [5])
    assert "This happened while running" in str(info.value)


def _two_node_program(kernels):
    x = T.dvector("x")
    y = T.exp(x)
    z = y * x
    nodes = [y.owner, z.owner]
    return Program([x], [z], nodes, kernels), nodes


def test_program_runs_its_kernels_in_order():
    program, _ = _two_node_program([np.exp, np.multiply])
    data = np.array([0.0, 1.0])
    (result,) = program.function(data)
    np.testing.assert_array_equal(result, np.exp(data) * data)
    assert program.source.startswith("def program(v0):")
    assert "x" not in program.source.replace("exp", "")  # no user names in the source


def test_program_finds_the_failing_node():
    def broken(*args):
        raise ZeroDivisionError("kernel broke")

    program, nodes = _two_node_program([np.exp, broken])
    with pytest.raises(ZeroDivisionError) as info:
        program.function(np.array([1.0]))
    assert program.failed_node(info.value) is nodes[1]
    with pytest.raises(ZeroDivisionError, match="kernel broke") as again:
        reraise_with_node(info.value, nodes[1], "numpy")
    assert again.value.node is nodes[1]
    assert "This happened while running" in str(again.value)


def test_error_that_cannot_take_a_message_becomes_node_failure():
    class Picky(Exception):
        def __init__(self, code, detail):
            super().__init__(code, detail)

    program, nodes = _two_node_program([np.exp, np.multiply])
    with pytest.raises(NodeFailure, match="picky") as info:
        reraise_with_node(Picky(1, "picky"), nodes[0], "numpy")
    assert info.value.node is nodes[0]


def test_error_outside_any_node_is_raised_unchanged():
    error = RuntimeError("outside")
    with pytest.raises(RuntimeError, match="^outside$"):
        reraise_with_node(error, None, "numpy")
