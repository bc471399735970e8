"""`croton.ifelse.ifelse`, the user function: arguments, results and errors."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.ifelse import ifelse


def test_reachable_as_theano_spells_it():
    assert croton.ifelse.ifelse is ifelse


def test_single_values_give_a_variable_and_sequences_their_type():
    c = T.bscalar("c")
    x, y = T.dvectors("x", "y")
    assert isinstance(ifelse(c, x, y), croton.Variable)
    as_list = ifelse(c, [x, y], [y, x])
    as_tuple = ifelse(c, (x,), (y,))
    assert isinstance(as_list, list) and len(as_list) == 2
    assert isinstance(as_tuple, tuple) and len(as_tuple) == 1
    f = croton.function([c, x, y], as_list)
    first, second = f(0, [1.0, 2.0], [3.0, 4.0])
    np.testing.assert_array_equal(first, [3.0, 4.0])
    np.testing.assert_array_equal(second, [1.0, 2.0])


def test_name_is_shown():
    c = T.bscalar("c")
    out = ifelse(c, T.dscalar("a"), T.dscalar("b"), name="pick")
    assert out.name == "pick"
    assert "pick" in str(out.owner.op)


def test_python_numbers_take_the_other_branch_dtype():
    c = T.bscalar("c")
    x = T.fvector("x")
    out = ifelse(c, x, np.array([0.5, 1.5, 2.5]))  # (a list would be several values)
    assert out.dtype == "float32"
    f = croton.function([c, x], out)
    np.testing.assert_array_equal(f(0, np.zeros(3, "float32")), np.float32([0.5, 1.5, 2.5]))
    n = T.iscalar("n")
    assert ifelse(c, 0, n).dtype == "int32"


def test_inexact_python_number_is_refused():
    c = T.bscalar("c")
    with pytest.raises(TypeError, match="output 0 .* dtype int32"):
        ifelse(c, T.iscalar("n"), 0.5)


def test_dtype_mismatch_names_the_output_and_both_dtypes():
    c = T.bscalar("c")
    with pytest.raises(TypeError, match=r"output 1 is y of dtype float32 .* float64"):
        ifelse(c, [T.dscalar("a"), T.fvector("y")], [T.dscalar("b"), T.dvector("z")])


def test_rank_mismatch_names_the_output():
    c = T.bscalar("c")
    with pytest.raises(TypeError, match=r"output 0 is x with 1 dimension"):
        ifelse(c, T.dvector("x"), T.dmatrix("y"))


def test_branches_must_give_the_same_number_of_values():
    c = T.bscalar("c")
    x = T.dvector("x")
    with pytest.raises(ValueError, match="then branch gives 2 value"):
        ifelse(c, [x, x], [x])


def test_condition_must_be_a_scalar():
    with pytest.raises(TypeError, match="T.any"):
        ifelse(T.bvector("c"), 1.0, 2.0)
