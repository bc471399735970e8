"""`croton.printing`: `pp` (infix) and `debugprint` (an indented tree with node ids)."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.printing import debugprint, pp


@pytest.fixture
def xy():
    return T.dvector("x"), T.dvector("y")


def _tree(text: str) -> list[tuple[int, str, str]]:
    """``(depth, label, id)`` for each line of a debugprint."""
    rows = []
    for line in text.splitlines():
        match = re.fullmatch(r"([ |]*)(.*?) \[id ([A-Z]+)\](.*)", line)
        assert match, line
        depth = (len(match.group(1)) + 1) // 2  # "" -> 0, " |" -> 1, "   |" or " | |" -> 2
        rows.append((depth, match.group(2), match.group(3)))
    return rows


def test_exported_names():
    assert croton.pp is pp
    assert croton.debugprint is debugprint
    assert croton.printing.pp is pp


# -- pp -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda x, y: x + y, "(x + y)"),
        (lambda x, y: (x - y) / (x * y), "((x - y) / (x * y))"),
        (lambda x, y: x**y, "(x ** y)"),
        (lambda x, y: x < y, "(x < y)"),
        (lambda x, y: -x, "-x"),
        (lambda x, y: T.exp(x), "exp(x)"),
        (lambda x, y: T.exp(x + y), "exp((x + y))"),
        (lambda x, y: x.sum(), "sum(x, axis=[0])"),
        (lambda x, y: x[1:], "x[1:]"),
        (lambda x, y: x[::2], "x[::2]"),
    ],
)
def test_pp_infix(xy, build, expected):
    assert pp(build(*xy)) == expected


def test_pp_hides_implicit_broadcasting_of_constants(xy):
    x, y = xy
    two = T.constant(2.0)
    assert pp((x + y) * two) == f"((x + y) * {two})"
    assert pp(two * x) == f"({two} * x)"
    assert "dimshuffle" not in pp((x + y) * 2)


def test_pp_of_dimshuffles():
    m = T.dmatrix("m")
    v = T.dvector("v")
    t = T.dtensor3("t")
    assert pp(m.T) == "m.T"
    assert pp(t.dimshuffle(2, 1, 0)) == "t.T"
    assert pp(v.dimshuffle("x", 0)) == "v"
    assert pp(v.dimshuffle(0, "x")) == "v.dimshuffle(0, 'x')"
    assert pp(t.dimshuffle(1, 0, 2)) == "t.dimshuffle(1, 0, 2)"
    assert pp(m + v) == "(m + v)"


def test_pp_of_matrix_expressions():
    m = T.dmatrix("m")
    w = croton.shared(np.ones((2, 2)), name="W")
    v = T.dvector("v")
    assert pp(m.sum(axis=1)) == "sum(m, axis=[1])"
    assert pp(m[0, 1:3]) == "m[0, 1:3]"
    assert pp(T.dot(w, v)) == "Dot(W, v)"


def test_pp_prints_named_intermediates_by_name(xy):
    x, y = xy
    total = x + y
    total.name = "total"
    assert pp(total * x) == "(total * x)"
    assert pp(total) == "(x + y)"


def test_pp_of_leaves_and_lists(xy):
    x, y = xy
    assert pp(x) == "x"
    unnamed = T.dvector()
    assert pp(unnamed) == f"<{unnamed.type}>"
    assert pp([x + y, x * y]) == "(x + y)\n(x * y)"


def test_pp_of_a_compiled_function(xy):
    x, y = xy
    f = croton.function([x, y], [x + y, T.exp(x)], mode="NONE")
    assert pp(f) == "(x + y)\nexp(x)"


def test_pp_of_fused_nodes_writes_their_programs(xy):
    """Fusion folds elementwise prologues into reductions: pp writes them out (it printed
    both outputs below as ``sum(x, axis=[0])``)."""
    x, y = xy
    f = croton.function([x, y], [T.sum(x**2), T.sum(T.exp(x)), T.exp(x - y) * (T.exp(x - y) + 1)])
    fused = [node.op for node in f.maker.fgraph.toposort()]
    assert any(getattr(op, "prologue", None) is not None for op in fused)
    first, second, third = pp(f).split("\n")
    assert first == "sum(sqr(x), axis=[0])"
    assert second == "sum(exp(x), axis=[0])"
    assert re.fullmatch(r"\{s\d+=exp\(sub\(x, y\)\); mul\(s\d+, add\(s\d+, 1(\.0)?\)\)\}", third)


def test_pp_of_a_deep_graph():
    x = T.dvector("x")
    out = x
    for _ in range(3000):
        out = -out
    text = pp(out)
    assert text == "-" * 3000 + "x"


# -- debugprint ----------------------------------------------------------------------------


def test_debugprint_of_a_variable(xy):
    x, y = xy
    text = debugprint(T.exp(x + y), file="str")
    assert _tree(text) == [
        (0, "Elemwise{exp}", "A"),
        (1, "Elemwise{add}", "B"),
        (2, "x", "C"),
        (2, "y", "D"),
    ]
    assert text.endswith("\n")


def test_debugprint_draws_theanos_bars_down_to_later_siblings(xy):
    x, y = xy
    text = debugprint((x + y) * T.exp(x) - y, file="str")
    assert text == (
        "Elemwise{sub} [id A]\n"
        " |Elemwise{mul} [id B]\n"
        " | |Elemwise{add} [id C]\n"
        " | | |x [id D]\n"
        " | | |y [id E]\n"
        " | |Elemwise{exp} [id F]\n"
        " |   |x [id D]\n"
        " |y [id E]\n"
    )


def test_debugprint_reuses_ids_for_shared_subexpressions(xy):
    x, y = xy
    total = x + y
    total.name = "total"
    rows = _tree(debugprint(total * total, file="str"))
    assert rows == [
        (0, "Elemwise{mul}", "A"),
        (1, "Elemwise{add}", "B"),
        (2, "x", "C"),
        (2, "y", "D"),
        (1, "Elemwise{add}", "B"),  # printed again by its id only, not expanded
    ]
    assert "'total'" in debugprint(total * total, file="str").splitlines()[1]


def test_debugprint_of_a_list_shares_ids(xy):
    x, y = xy
    total = x + y
    rows = _tree(debugprint([total, T.exp(total)], file="str"))
    labels = [(label, ident) for _, label, ident in rows]
    assert labels[0] == ("Elemwise{add}", "A")
    assert ("Elemwise{exp}", "D") in labels
    assert labels.count(("Elemwise{add}", "A")) == 2


def test_debugprint_types_and_depth(xy):
    x, y = xy
    expr = T.exp(x + y)
    typed = debugprint(expr, file="str", print_type=True)
    for line in typed.splitlines():
        assert line.endswith(str(x.type))
    assert _tree(debugprint(expr, file="str", depth=1)) == [(0, "Elemwise{exp}", "A")]
    assert len(_tree(debugprint(expr, file="str", depth=2))) == 2


def test_debugprint_of_constants_and_shared_variables():
    v = T.dvector("v")
    w = croton.shared(np.ones(2), name="W")
    two = T.constant(2.0)
    text = debugprint(v * w + two, file="str")
    assert f"{two} [id" in text
    assert "W [id" in text
    assert "DimShuffle{x}" in text


def test_debugprint_of_a_compiled_function(xy):
    x, y = xy
    f = croton.function([x, y], (x + y) * T.exp(x), name="f")
    text = debugprint(f, file="str")
    rows = _tree(text)
    assert rows[0][0] == 0 and "mul" in rows[0][1] and "exp" in rows[0][1]  # one fused node
    assert [label for depth, label, _ in rows if depth == 1] == ["x", "y"]
    assert debugprint(f.maker.fgraph, file="str") == text
    data = np.array([0.5, -1.0])
    np.testing.assert_allclose(f(data, data), (data + data) * np.exp(data))


def test_debugprint_of_an_unrewritten_function_shows_every_op():
    m = T.dmatrix("m")
    v = T.dvector("v")
    f = croton.function([m, v], T.dot(m, v).sum(), mode="NONE")
    labels = [label for _, label, _ in _tree(debugprint(f, file="str"))]
    assert labels[0].startswith("Reduce{sum")
    assert labels[1] == "Dot"
    assert labels[2:] == ["m", "v"]


def test_debugprint_writes_to_a_file_or_stdout(xy, capsys):
    x, y = xy
    expected = debugprint(x + y, file="str")
    buffer = io.StringIO()
    assert debugprint(x + y, file=buffer) is buffer
    assert buffer.getvalue() == expected
    debugprint(x + y)
    assert capsys.readouterr().out == expected


def test_debugprint_of_a_deep_graph():
    x = T.dvector("x")
    out = x
    for _ in range(3000):
        out = T.exp(out)
    rows = _tree(debugprint(out, file="str"))
    assert len(rows) == 3001
    assert rows[-1][1] == "x"
    assert [depth for depth, _, _ in rows] == list(range(3001))


# -- Print ---------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_print_shows_values_when_the_function_runs(backend, capsys):
    import warnings

    from croton.printing import Print

    x = T.dvector("x")
    printed = croton.printing.Print("this is a very important value")(x)
    stats = Print("x", attrs=("shape", "sum"))(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = croton.function([x], printed * 5, backend=backend)
        g = croton.function([x], T.grad((stats**2).sum(), x), backend=backend)
        constant = croton.function([x], x + Print("c")(T.constant(3.0)), backend=backend)
    assert capsys.readouterr().out == ""  # compiling prints nothing
    np.testing.assert_array_equal(f([1.0, 2.0, 3.0]), [5.0, 10.0, 15.0])
    assert capsys.readouterr().out == "this is a very important value __str__ = [1. 2. 3.]\n"
    np.testing.assert_array_equal(g([1.0, 2.0]), [2.0, 4.0])  # the gradient passes through
    assert capsys.readouterr().out == "x shape = (2,)\nx sum = 3.0\n"
    np.testing.assert_array_equal(constant([1.0]), [4.0])
    np.testing.assert_array_equal(constant([2.0]), [5.0])
    assert capsys.readouterr().out == "c __str__ = 3.0\n" * 2  # not folded away


def test_print_takes_a_function_of_its_own():
    from croton.printing import Print

    seen = []
    x = T.dvector("x")
    f = croton.function(
        [x], Print("m", global_fn=lambda op, v: seen.append((op.message, v.sum())))(x) * 2
    )
    np.testing.assert_array_equal(f([1.0, 2.0]), [2.0, 4.0])
    assert seen == [("m", 3.0)]
