"""Variables, constants, applications and ops (`croton.graph.basic`)."""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.graph.basic import Apply, Constant, Op, Variable
from croton.graph.fgraph import FunctionGraph
from croton.graph.traversal import clone_graph
from croton.graph.type import TensorType
from croton.ops.elemwise import Elemwise
from croton.ops.scalar import SCALAR_OPS
from croton.tensor.variable import as_tensor_variable


def _lineno() -> int:
    """The caller's current line."""
    return sys._getframe(1).f_lineno


class Scale(Op):
    """``x * factor``: an op with parameters, for the tests of equality by props."""

    __props__ = ("factor", "axis")

    def __init__(self, factor, axis=None):
        self.factor = factor
        self.axis = axis

    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])


class OtherScale(Scale):
    """Same props as `Scale`, different class."""


class NoProps(Op):
    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type(), x.type()])


# -- ops ------------------------------------------------------------------------------------


def test_ops_with_equal_props_are_equal_and_hash_alike():
    a, b = Scale(2.0, axis=1), Scale(2.0, axis=1)
    assert a is not b
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert {a: "first"}[b] == "first"


@pytest.mark.parametrize("other", [Scale(3.0, axis=1), Scale(2.0, axis=0), Scale(2.0)])
def test_ops_with_different_props_differ(other):
    assert Scale(2.0, axis=1) != other
    assert len({Scale(2.0, axis=1), other}) == 2


def test_ops_of_different_classes_differ_even_with_equal_props():
    assert Scale(2.0) != OtherScale(2.0)
    assert OtherScale(2.0) != Scale(2.0)
    assert len({Scale(2.0), OtherScale(2.0)}) == 2


def test_ops_without_props_are_all_equal():
    assert NoProps() == NoProps()
    assert hash(NoProps()) == hash(NoProps())
    assert NoProps() != Scale(1.0)
    assert str(NoProps()) == "NoProps"


def test_op_str_lists_its_props():
    assert str(Scale(2.5, axis=-1)) == "Scale{factor=2.5, axis=-1}"


def test_builtin_elementwise_ops_compare_by_scalar_op():
    assert Elemwise(SCALAR_OPS["add"]) == Elemwise(SCALAR_OPS["add"])
    assert hash(Elemwise(SCALAR_OPS["add"])) == hash(Elemwise(SCALAR_OPS["add"]))
    assert Elemwise(SCALAR_OPS["add"]) != Elemwise(SCALAR_OPS["mul"])
    x = T.dvector("x")
    assert (x + x).owner.op == (x + 1.0).owner.op


def test_ops_pickle_to_equal_ops():
    op = Scale(0.5, axis=(0, 1))
    assert pickle.loads(pickle.dumps(op)) == op
    elemwise = Elemwise(SCALAR_OPS["exp"])
    assert pickle.loads(pickle.dumps(elemwise)) == elemwise


def test_calling_an_op_returns_its_output_or_outputs():
    x = T.dvector("x")
    single = Scale(2.0)(x)
    assert isinstance(single, Variable)
    assert single.owner.op == Scale(2.0)
    first, second = NoProps()(x)
    assert first.owner is second.owner
    assert (first.index, second.index) == (0, 1)


def test_op_without_gradient_says_so():
    x = T.dvector("x")
    node = Scale(2.0)(x).owner
    with pytest.raises(NotImplementedError, match=r"Scale\{factor=2.0, axis=None\}.*gradient"):
        node.op.L_op(node.inputs, node.outputs, [x])
    with pytest.raises(NotImplementedError, match="infer_shape"):
        node.op.infer_shape(node, [(3,)])


def test_default_connection_pattern_connects_every_input_to_every_output():
    x = T.dvector("x")
    node = NoProps()(x)[0].owner
    assert node.op.connection_pattern(node) == [[True, True]]


# -- apply ----------------------------------------------------------------------------------


def test_apply_sets_owner_and_index_of_its_outputs():
    x, y = T.dvector("x"), T.dvector("y")
    outputs = [TensorType("float64", shape=(None,))(), TensorType("int64", shape=())()]
    node = Apply(NoProps(), [x, y], outputs)
    assert node.inputs == [x, y]
    assert [(o.owner, o.index) for o in outputs] == [(node, 0), (node, 1)]
    with pytest.raises(ValueError):
        node.out  # two outputs  # noqa: B018


def test_apply_clone_with_new_inputs_infers_types_again():
    x = T.dvector("x")
    node = (x + 1.0).owner
    assert node.outputs[0].type == TensorType("float64", shape=(None,))
    fixed = TensorType("float64", shape=(3,))("fixed")
    clone = node.clone_with_new_inputs([fixed, node.inputs[1]])
    assert clone is not node
    assert clone.op == node.op
    assert clone.out.type == TensorType("float64", shape=(3,))
    got = croton.function([fixed], clone.out)(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(got, np.array([1.0, 2.0, 3.0]) + 1.0)


# -- variables and constants ----------------------------------------------------------------


def test_variable_remembers_where_it_was_created():
    x, line = T.dvector("x"), _lineno()
    assert x.creation == (__file__, line, "test_variable_remembers_where_it_was_created")
    where = x.where()
    assert f'File "{__file__}", line {line}' in where
    assert 'x, line = T.dvector("x"), _lineno()' in where


def test_variables_made_inside_croton_point_at_the_user_line():
    x = T.dvector("x")
    y, line = T.exp(x * 2.0).sum(), _lineno()
    # every node of the expression was built by croton code called from that line
    for var in (y, y.owner.inputs[0], y.owner.inputs[0].owner.inputs[0]):
        assert var.creation[:2] == (__file__, line)


def test_variables_made_in_a_helper_point_at_the_helper():
    def helper(v):
        return T.tanh(v), _lineno()

    y, line = helper(T.dvector())
    assert y.creation[:2] == (__file__, line)
    assert y.creation[2] == "helper"


def test_where_of_a_variable_without_creation_site():
    x = T.dvector("x")
    x.creation = None
    assert x.where() == "(created inside croton)"


def test_clones_keep_the_creation_site():
    x, line = T.dvector("x"), _lineno()
    c = T.constant(np.arange(3.0))
    assert x.clone().creation == x.creation
    assert x.clone().creation[:2] == (__file__, line)
    assert c.clone().creation == c.creation
    y = x + c
    inputs, outputs, _ = clone_graph([x], [y])
    assert inputs[0].creation == x.creation
    assert outputs[0].creation == y.creation
    # the inputs of a FunctionGraph are clones; errors about them must still point here
    fgraph = FunctionGraph([x], [y])
    assert fgraph.inputs[0] is not x
    assert fgraph.inputs[0].where() == x.where()


def test_variable_clone_is_a_fresh_input_of_the_same_type():
    x = T.dvector("x")
    y = x * 2.0
    clone = y.clone()
    assert clone.owner is None and clone.index is None
    assert clone.type == y.type
    assert type(clone) is type(y)
    assert clone.name == y.name


def test_variable_str_prefers_the_name():
    x = T.dvector("x")
    assert str(x) == "x"
    assert str(T.dvector()) == "<TensorType(float64, shape=(?,))>"
    y = x * 2.0
    assert str(y) == f"{y.owner.op}.0"
    y.name = "y"
    assert str(y) == repr(y) == "y"


def test_variable_eval_matches_numpy():
    x, y = T.dmatrix("x"), T.dvector("y")
    a, b = np.arange(6.0).reshape(2, 3), np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose((T.exp(x) * y).eval({x: a, y: b}), np.exp(a) * b)
    np.testing.assert_array_equal(T.constant(a).sum(axis=0).eval(), a.sum(axis=0))


def test_constant_holds_its_data_and_has_no_owner():
    data = np.array([[1.0, 2.0], [3.0, 4.0]])
    c = T.constant(data)
    assert isinstance(c, Constant)
    assert c.owner is None
    np.testing.assert_array_equal(c.data, data)
    assert c.type == TensorType("float64", shape=(2, 2))
    np.testing.assert_array_equal(c.clone().data, data)


def test_constant_signature_is_equal_for_equal_type_and_value():
    a = T.constant(np.array([1.0, 2.0]))
    b = T.constant(np.array([1.0, 2.0]))
    assert a is not b and a.signature() == b.signature()
    assert a.signature() != T.constant(np.array([1.0, 3.0])).signature()
    assert a.signature() != T.constant(np.array([1.0, 2.0], dtype="float32")).signature()
    assert a.signature() != T.constant(np.array([[1.0, 2.0]])).signature()
    assert {a.signature(): 1}[b.signature()] == 1


def test_constant_str_shows_small_values_and_the_shape_of_large_ones():
    assert str(T.constant(np.array([1.0, 2.0]))) == np.array2string(
        np.array([1.0, 2.0]), separator=", "
    )
    assert str(T.constant(np.zeros((3, 4)))) == "Constant{(3, 4)}"
    assert str(T.constant(np.zeros(3), name="zeros")) == "zeros"
