"""croton.codegen: the one scalar-op template table code-generating backends share."""

from __future__ import annotations

import pytest

from croton.codegen import TEMPLATES, ScalarSyntax
from croton.ops.scalar import SCALAR_OPS


def test_every_scalar_op_has_a_template():
    assert set(SCALAR_OPS) <= set(TEMPLATES)


def test_the_base_syntax_is_c():
    syntax = ScalarSyntax()
    assert syntax.render("add", ["a", "b"], "float64") == "(a + b)"
    assert syntax.render("arcsin", ["x"], "float32") == "asin(x)"
    assert syntax.render("switch", ["c", "a", "b"], "int64") == "(c ? a : b)"


def test_the_most_specific_override_wins():
    syntax = ScalarSyntax(
        overrides={"maximum": "max_any({0}, {1})"},
        kind_overrides={("maximum", "f"): "max_float({0}, {1})"},
        dtype_overrides={("maximum", "float16"): "max_half({0}, {1})"},
    )
    assert syntax.render("maximum", ["a", "b"], "int32") == "max_any(a, b)"
    assert syntax.render("maximum", ["a", "b"], "float64") == "max_float(a, b)"
    assert syntax.render("maximum", ["a", "b"], "float16") == "max_half(a, b)"
    # the table itself is untouched by a language's overrides
    assert ScalarSyntax().render("maximum", ["a", "b"], "int32") == "_maximum(a, b)"


def test_booleans_and_identities_are_shared_by_every_language():
    syntax = ScalarSyntax()
    assert syntax.render("abs", ["b"], "bool") == "b"
    assert syntax.render("round", ["i"], "int64") == "i"
    assert syntax.render("xor", ["p", "q"], "bool") == "(p != q)"


def test_an_unknown_op_is_a_key_error():
    with pytest.raises(KeyError):
        ScalarSyntax().template("no_such_op", "float64")


def test_the_numba_backend_renders_through_the_table():
    from croton_numba.scalar_code import SYNTAX

    assert SYNTAX.render("add", ["a", "b"], "float64") == TEMPLATES["add"].format("a", "b")
    assert SYNTAX.render("exp", ["x"], "float64") == "np.exp(x)"
    assert SYNTAX.render("switch", ["c", "a", "b"], "float64") == "(a if c else b)"
