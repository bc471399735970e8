"""`croton.function`: argument checking, calling conventions, outputs, unused and missing inputs,
givens and modes. Every result is compared with numpy."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.compile.function import MissingInputError, UnusedInputError
from croton.graph.type import TensorType

# -- input dtype, rank and static shape -----------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (T.fvector("v"), np.array([1.0, 2.0]), r"float64 data would be cast lossily to float32"),
        (T.fvector("v"), np.ones((2, 2), "float32"), r"expected a 1-d array"),
        (T.dmatrix("v"), np.ones(3), r"expected a 2-d array"),
        (T.dscalar("v"), np.ones(1), r"expected a 0-d array"),
        (T.ivector("v"), np.array([1, 2], "int64"), r"int64 data would be cast lossily"),
        (T.bscalar("v"), 1000, r"cannot be represented exactly as int8"),
        (T.bscalar("v"), 1.5, r"cannot be represented exactly as int8"),
        (T.fvector("v"), [1.5, 2.1], r"cannot be represented exactly as float32"),
        (T.dvector("v"), [[1.0], [2.0, 3.0]], r"cannot convert list"),
        (T.dvector("v"), np.array([1j, 2j]), r"complex128 data would be cast lossily"),
        (T.dvector("v"), "abc", r"str"),
        (T.dvector("v"), np.array(["1", "2"]), r"str|<U1"),
        (T.dvector("v"), None, r"NoneType|None"),
    ],
)
def test_bad_argument_raises_type_error_naming_the_input(variable, value, message):
    f = croton.function([variable], variable * 2)
    with pytest.raises(TypeError, match=message) as info:
        f(value)
    assert "input 0 (v)" in str(info.value)


@pytest.mark.parametrize(
    ("shape", "value"),
    [((3,), np.ones(4)), ((1, None), np.ones((2, 3))), ((None, 2), np.ones((2, 3)))],
)
def test_static_shape_is_checked(shape, value):
    x = TensorType("float64", shape=shape)("fixed")
    f = croton.function([x], x + 1)
    with pytest.raises(TypeError, match=r"input 0 \(fixed\): expected length"):
        f(value)
    good = np.arange(np.prod([s or 2 for s in shape]), dtype="float64").reshape(
        [s or 2 for s in shape]
    )
    np.testing.assert_array_equal(f(good), good + 1)


def test_error_names_the_position_of_an_unnamed_input():
    a, b = T.dvector(), T.dvector()
    f = croton.function([a, b], a + b)
    with pytest.raises(TypeError, match=r"input 1\b.*expected a 1-d array"):
        f(np.ones(2), np.ones((2, 2)))


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        (T.fvector("x"), np.array([0.1, 1e-30, 3.3])),
        (T.bvector("x"), np.array([1, 300, -129], "int64")),
        (T.ivector("x"), np.array([1.7, -2.2])),
        (T.fscalar("x"), 0.1),
    ],
)
def test_allow_input_downcast_casts_like_numpy(variable, value):
    f = croton.function([variable], variable, allow_input_downcast=True)
    result = f(value)
    expected = np.asarray(value).astype(variable.dtype)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


def test_allow_input_downcast_does_not_relax_rank():
    x = T.fvector("x")
    f = croton.function([x], x, allow_input_downcast=True)
    with pytest.raises(TypeError, match=r"input 0 \(x\): expected a 1-d array"):
        f(np.ones((2, 2)))


def test_in_allow_downcast_overrides_the_function_setting():
    x, y = T.fvector("x"), T.fvector("y")
    f = croton.function([croton.In(x, allow_downcast=True), y], x + y)
    data = np.array([0.1, 0.2])
    np.testing.assert_array_equal(
        f(data, data.astype("float32")), data.astype("float32") + data.astype("float32")
    )
    with pytest.raises(TypeError, match=r"input 1 \(y\)"):
        f(data, data)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        (T.dscalar("x"), 2),
        (T.dscalar("x"), 2.5),
        (T.dscalar("x"), True),
        (T.fscalar("x"), 0.5),
        (T.bscalar("x"), 3),
        (T.ivector("x"), [1, 2, -3]),
        (T.fvector("x"), [0.5, 2.0, -4]),
        (T.dmatrix("x"), [[1, 2], [3, 4]]),
        (T.lvector("x"), (4, 5)),
        (T.dvector("x"), []),
        (T.cvector("x"), [1 + 2j, 3]),
        (T.dscalar("x"), np.float32(1.5)),
        (T.lscalar("x"), np.int8(-7)),
    ],
)
def test_exact_python_and_numpy_values_convert(variable, value):
    f = croton.function([variable], variable * 2)
    result = f(value)
    expected = np.asarray(value, dtype=variable.dtype) * 2
    assert isinstance(result, np.ndarray)
    assert result.dtype == expected.dtype
    assert result.shape == expected.shape
    np.testing.assert_array_equal(result, expected)


def test_outputs_are_numpy_arrays_with_zero_d_for_scalars():
    x = T.dvector("x")
    data = np.array([1.0, 2.0, 4.0])
    total, doubled = croton.function([x], [x.sum(), x * 2])(data)
    assert type(total) is np.ndarray and total.shape == ()
    assert total == data.sum()
    np.testing.assert_array_equal(doubled, data * 2)


# -- calling conventions ------------------------------------------------------------------


def test_keyword_arguments_by_input_name():
    a, b, c = T.dscalars("a", "b", "c")
    f = croton.function([a, b, c], a - b * c)
    expected = 5.0 - 2.0 * 3.0
    assert f(5.0, 2.0, 3.0) == expected
    assert f(c=3.0, a=5.0, b=2.0) == expected
    assert f(5.0, c=3.0, b=2.0) == expected


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((1.0,), {}, r"missing input 1 \(b\)"),
        ((), {"b": 1.0}, r"missing input 0 \(a\)"),
        ((1.0, 2.0, 3.0), {}, r"takes 2 inputs, got 3"),
        ((1.0,), {"a": 2.0}, r"got input 'a' twice"),
        ((1.0, 2.0), {"c": 2.0}, r"no input named 'c'"),
    ],
)
def test_wrong_arguments_raise_type_error(args, kwargs, message):
    a, b = T.dscalars("a", "b")
    f = croton.function([a, b], a + b, name="adder")
    with pytest.raises(TypeError, match=message) as info:
        f(*args, **kwargs)
    assert "'adder'" in str(info.value)


def test_in_default_value_and_name():
    a, b = T.dvectors("a", "b")
    default = np.array([10.0, 20.0])
    f = croton.function([a, croton.In(b, value=default, name="offset")], a - b)
    data = np.array([1.0, 2.0])
    np.testing.assert_array_equal(f(data), data - default)
    np.testing.assert_array_equal(f(data, data), data - data)
    np.testing.assert_array_equal(f(data, offset=2 * data), data - 2 * data)
    np.testing.assert_array_equal(f(offset=data, a=3 * data), 3 * data - data)
    with pytest.raises(TypeError, match="no input named 'b'"):
        f(data, b=data)


def test_in_defaults_and_flags():
    x = T.dvector("x")
    plain = croton.In(x)
    assert plain.name == "x"
    assert not plain.has_default
    assert not plain.mutable and not plain.borrow
    assert croton.In(x, value=None).has_default
    assert not croton.Out(x).borrow
    with pytest.raises(TypeError, match="symbolic variable"):
        croton.In(np.ones(2))


def test_default_value_is_not_modified_by_calls():
    x = T.dvector("x")
    default = np.array([1.0, 2.0, 3.0])
    f = croton.function([croton.In(x, value=default)], T.set_subtensor(x[0], 9.0))
    expected = default.copy()
    expected[0] = 9.0
    for _ in range(2):
        np.testing.assert_array_equal(f(), expected)
    np.testing.assert_array_equal(default, [1.0, 2.0, 3.0])


def test_default_value_is_checked_when_used():
    x = T.fvector("x")
    f = croton.function([croton.In(x, value=np.array([0.1]))], x * 2)
    with pytest.raises(TypeError, match=r"input 0 \(x\)"):
        f()
    np.testing.assert_array_equal(f(np.ones(1, "float32")), np.full(1, 2, "float32"))


@pytest.mark.parametrize("mutable", [False, True])
@pytest.mark.parametrize("mode", ["FAST_RUN", "NONE"])
@pytest.mark.parametrize(
    "build",
    [
        lambda x: T.set_subtensor(x[1:], 0.0),
        lambda x: T.inc_subtensor(x[:2], 5.0),
        lambda x: x,
    ],
)
def test_caller_array_is_not_changed(build, mode, mutable):
    x = T.dvector("x")
    f = croton.function([croton.In(x, mutable=mutable, borrow=mutable)], build(x), mode=mode)
    data = np.array([3.0, 1.0, 2.0])
    saved = data.copy()
    first = f(data)
    np.testing.assert_array_equal(f(saved.copy()), first)
    if not mutable:  # with mutable=True the function may use the caller's buffer
        np.testing.assert_array_equal(data, saved)


@pytest.mark.parametrize(
    ("build", "reference"),
    [
        (lambda x: x * 2, lambda a: a * 2),
        (
            lambda x: T.set_subtensor(x[0], 1.0),
            lambda a: np.vstack([np.ones((1, a.shape[1])), a[1:]]),
        ),
        (lambda x: x.T + 1, lambda a: a.T + 1),
        (lambda x: x.sum(axis=0), lambda a: a.sum(axis=0)),
    ],
)
def test_read_only_and_non_contiguous_arguments(build, reference):
    x = T.dmatrix("x")
    f = croton.function([x], build(x))
    read_only = np.broadcast_to(np.arange(3.0), (2, 3))
    strided = np.arange(12.0).reshape(3, 4)[::2, ::2].T
    for data in (read_only, strided):
        np.testing.assert_array_equal(f(data), reference(np.array(data)))
    np.testing.assert_array_equal(read_only, np.broadcast_to(np.arange(3.0), (2, 3)))


@pytest.mark.parametrize("as_list", [False, True])
def test_single_input_must_be_in_a_list(as_list):
    x = T.dscalar("x")
    if as_list:
        assert croton.function([x], x + 1)(2.0) == np.float64(2.0) + 1
    else:
        with pytest.raises(TypeError, match="list of inputs"):
            croton.function(x, x + 1)


@pytest.mark.parametrize(
    ("make_input", "message"),
    [
        (lambda x: T.constant(1.0), "constants cannot be function inputs"),
        (lambda x: croton.shared(1.0, name="s"), "cannot be an explicit input"),
        (lambda x: x + 1, "inputs must be variables without an owner"),
        (lambda x: x, "given twice"),
    ],
)
def test_invalid_inputs_are_rejected(make_input, message):
    x = T.dscalar("x")
    with pytest.raises((TypeError, ValueError), match=message):
        croton.function([x, make_input(x)], x * 2)


def test_trust_input_skips_conversion_but_computes_the_same():
    x, y = T.dvectors("x", "y")
    checked = croton.function([x, y], x * y + 1)
    trusted = croton.function([x, y], x * y + 1, trust_input=True)
    a, b = np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.5, 2.0])
    np.testing.assert_array_equal(trusted(a, b), a * b + 1)
    np.testing.assert_array_equal(trusted(a, b), checked(a, b))
    # a checked function rejects what a trusted one does not look at
    with pytest.raises(TypeError):
        checked(a.astype("complex128"), b)
    checked.trust_input = True
    np.testing.assert_array_equal(checked(a, b), a * b + 1)


# -- outputs ------------------------------------------------------------------------------


def test_single_output_list_output_and_no_output():
    x = T.dvector("x")
    data = np.array([1.0, -2.0, 3.0])
    single = croton.function([x], x.sum())(data)
    assert isinstance(single, np.ndarray) and single == data.sum()
    listed = croton.function([x], [x.sum()])(data)
    assert isinstance(listed, list) and len(listed) == 1 and listed[0] == data.sum()
    as_tuple = croton.function([x], (x.sum(), x.max()))(data)
    assert isinstance(as_tuple, list)
    assert [float(v) for v in as_tuple] == [data.sum(), data.max()]
    assert croton.function([], [])() == []
    assert croton.function([x], None, on_unused_input="ignore")(data) == []


def test_out_objects_are_accepted():
    x = T.dvector("x")
    data = np.array([1.0, 2.0])
    f = croton.function([x], [croton.Out(x * 2, borrow=True), croton.Out(x + 1)])
    doubled, plus = f(data)
    np.testing.assert_array_equal(doubled, data * 2)
    np.testing.assert_array_equal(plus, data + 1)
    single = croton.function([x], croton.Out(x * 3))
    np.testing.assert_array_equal(single(data), data * 3)


@pytest.mark.parametrize("mode", ["FAST_RUN", "NONE"])
def test_outputs_do_not_alias_inputs_or_each_other(mode):
    x = T.dvector("x")
    f = croton.function([x], [x, x, x * 2, x * 2, x[1:], x.dimshuffle(0)], mode=mode)
    data = np.array([1.0, 2.0, 3.0])
    outputs = f(data)
    for out in outputs:
        assert not np.shares_memory(out, data)
    for i, a in enumerate(outputs):
        for b in outputs[i + 1 :]:
            assert not np.shares_memory(a, b)
    outputs[0][:] = -1
    outputs[2][:] = -1
    np.testing.assert_array_equal(outputs[1], data)
    np.testing.assert_array_equal(outputs[3], data * 2)


#: an expression of a shared vector, and the same in numpy
VIEWS = {
    "itself": (lambda s: s, lambda a: a),
    "slice": (lambda s: s[1:], lambda a: a[1:]),
    "dimshuffle": (lambda s: s.dimshuffle(0), lambda a: a),
    "transpose": (lambda s: s.T, lambda a: a.T),
    "reshape": (lambda s: s.reshape((2, 2)), lambda a: a.reshape((2, 2))),
}


@pytest.mark.parametrize("borrow", [False, True])
@pytest.mark.parametrize("view", VIEWS)
def test_mutating_an_output_does_not_change_a_shared_value(view, borrow):
    build, reference = VIEWS[view]
    s = croton.shared(np.arange(4.0), name="s")
    f = croton.function([], croton.Out(build(s), borrow=borrow))
    first = f()
    np.testing.assert_array_equal(first, reference(np.arange(4.0)))
    if not borrow:  # a borrowed output may alias the shared value
        first[...] = -7.0
        np.testing.assert_array_equal(s.get_value(), np.arange(4.0))
        np.testing.assert_array_equal(f(), reference(np.arange(4.0)))


def test_mutating_an_output_does_not_change_later_results():
    x = T.dvector("x")
    const = T.constant(np.array([1.0, 2.0]))
    f = croton.function([x], [x + 1, const])
    data = np.array([5.0, 6.0])
    first = f(data)
    for out in first:
        out[...] = 0.0
    second = f(data)
    np.testing.assert_array_equal(second[0], data + 1)
    np.testing.assert_array_equal(second[1], [1.0, 2.0])
    assert not np.shares_memory(first[0], second[0])


# -- unused and missing inputs -----------------------------------------------------------


def test_unused_input_raises_naming_it():
    x, unused = T.dscalars("x", "forgotten")
    with pytest.raises(UnusedInputError, match="forgotten"):
        croton.function([x, unused], x * 2)
    with pytest.raises(UnusedInputError, match="'fn'"):
        croton.function([x, unused], x * 2, name="fn")


def test_unused_input_warns_and_still_takes_the_argument():
    x, unused = T.dscalars("x", "forgotten")
    with pytest.warns(UserWarning, match="forgotten") as record:
        f = croton.function([x, unused], x * 2, on_unused_input="warn")
    assert record[0].filename == __file__
    assert f(1.5, 100.0) == np.float64(1.5) * 2
    with pytest.raises(TypeError, match="missing input 1"):
        f(1.5)


def test_unused_input_ignored_silently():
    x, unused = T.dscalars("x", "forgotten")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = croton.function([x, unused], x * 2, on_unused_input="ignore")
    assert f(1.5, 100.0) == np.float64(1.5) * 2


def test_on_unused_input_comes_from_config():
    x, unused = T.dscalars("x", "forgotten")
    with croton.config.change(on_unused_input="ignore"):
        f = croton.function([x, unused], x - 1)
    assert f(3.0, 0.0) == np.float64(3.0) - 1
    with pytest.raises(UnusedInputError):
        croton.function([x, unused], x - 1)


def test_invalid_on_unused_input_value():
    x = T.dscalar("x")
    with pytest.raises(ValueError, match="on_unused_input must be"):
        croton.function([x], x, on_unused_input="sometimes")


def test_input_used_only_by_an_update_is_used():
    x = T.dscalar("x")
    s = croton.shared(0.0, name="s")
    f = croton.function([x], [], updates=[(s, x)])
    f(4.5)
    assert s.get_value() == 4.5


def test_missing_input_error_names_the_variable_and_where_it_was_made():
    x = T.dscalar("x")
    hidden = T.dscalar("hidden")  # the line the error must point to
    line = _line_of("hidden = T.dscalar")
    with pytest.raises(MissingInputError, match="hidden") as info:
        croton.function([x], x * hidden)
    assert f"line {line}" in str(info.value)
    assert __file__ in str(info.value)


def _line_of(text: str) -> int:
    """The line of this file holding ``text``."""
    with open(__file__) as source:
        for number, line in enumerate(source, 1):
            if text in line and "_line_of" not in line:
                return number
    raise AssertionError(text)


# -- givens -------------------------------------------------------------------------------


def test_givens_replace_by_an_expression():
    x, y, z = T.dscalars("x", "y", "z")
    f = croton.function([z], x * y, givens={x: z + 1, y: z * 2})
    value = np.float64(3.0)
    assert f(value) == (value + 1) * (value * 2)
    g = croton.function([z], x * y, givens=[(x, z + 1), (y, z * 2)])
    assert g(value) == f(value)


def test_givens_replace_by_a_shared_variable():
    v = T.dvector("v")
    data = croton.shared(np.arange(5.0), name="data")
    f = croton.function([], (v**2).sum(), givens={v: data})
    assert f() == (np.arange(5.0) ** 2).sum()
    data.set_value(np.array([3.0, 4.0]))
    assert f() == 25.0


def test_givens_minibatch_slice_of_a_shared_variable():
    index = T.lscalar("index")
    x = T.dvector("x")
    data = np.arange(12.0) * 1.5
    shared_data = croton.shared(data, name="data")
    f = croton.function([index], x.sum(), givens={x: shared_data[index * 4 : (index + 1) * 4]})
    for i in range(3):
        assert f(i) == data[i * 4 : (i + 1) * 4].sum()


def test_givens_safe_upcast_is_allowed():
    x = T.dscalar("x")
    f32 = T.fscalar("f32")
    f = croton.function([f32], x * 2, givens={x: f32})
    result = f(np.float32(1.25))
    assert result.dtype == np.float64 and result == 2.5


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (T.dscalar("old"), T.dvector("new")),
        (T.fscalar("old"), T.dscalar("new")),
        (T.lscalar("old"), T.dscalar("new")),
    ],
)
def test_givens_of_wrong_type_raise(old, new):
    with pytest.raises(TypeError, match="givens"):
        croton.function([new], old * 2, givens={old: new})


def test_givens_with_conflicting_static_shape_raise():
    fixed = TensorType("float64", shape=(3,))("fixed")
    other = TensorType("float64", shape=(4,))("other")
    with pytest.raises(TypeError, match="fixed"):
        croton.function([other], fixed + 1, givens={fixed: other})


def test_givens_with_unknown_length_are_checked_at_run_time():
    fixed = TensorType("float64", shape=(3,))("fixed")
    data = croton.shared(np.arange(3.0), name="data")
    f = croton.function([], fixed * 2, givens={fixed: data})
    np.testing.assert_array_equal(f(), np.arange(3.0) * 2)
    data.set_value(np.arange(4.0))
    with pytest.raises(ValueError, match="length 3"):
        f()


def test_givens_key_must_be_a_variable():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="givens keys"):
        croton.function([x], x, givens={1.0: x})


# -- modes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE", "NONE", "fast_run", None])
def test_every_mode_gives_the_same_values(mode):
    x, y = T.dvectors("x", "y")
    expr = T.log(1 + T.exp(x)) * y - (x * 1 + 0) / (y * y)
    f = croton.function([x, y], expr, mode=mode)
    a, b = np.array([-3.0, 0.0, 2.5]), np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(f(a, b), np.log1p(np.exp(a)) * b - a / (b * b), rtol=1e-12)
    assert f.maker.mode == (mode or croton.config.mode).upper()


def test_unknown_mode_and_backend_raise():
    x = T.dscalar("x")
    with pytest.raises(ValueError, match="unknown mode"):
        croton.function([x], x, mode="TURBO")
    with pytest.raises(Exception, match="unknown croton backend 'no-such-backend'"):
        croton.function([x], x, backend="no-such-backend")


def test_maker_keeps_the_rewritten_graph():
    x = T.dvector("x")
    f = croton.function([x], x * 1 + 0, name="identity-ish")
    assert f.maker.fgraph.outputs[0].type == x.type
    assert [i.variable for i in f.maker.inputs] == [x]
    assert "identity-ish" in repr(f)
    data = np.array([1.0, 2.0])
    np.testing.assert_array_equal(f(data), data * 1 + 0)


# -- deep graphs -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["FAST_RUN", "NONE"])
def test_a_very_deep_graph_compiles_and_runs(mode):
    depth = 5000
    x = T.dvector("x")
    out = x
    for i in range(depth):
        out = T.tanh(out) if i % 2 else out * 0.999 + 0.25
    f = croton.function([x], out, mode=mode)
    data = np.array([-1.0, 0.0, 3.0])
    expected = data.copy()
    for i in range(depth):
        expected = np.tanh(expected) if i % 2 else expected * 0.999 + 0.25
    np.testing.assert_allclose(f(data), expected, rtol=1e-10)


def test_source_does_not_embed_user_names():
    evil = "x'); import os; os.system('echo pwned') #"
    x = T.dvector(evil)
    y = (x * 2).sum()
    y.name = "\nraise SystemExit\n"
    f = croton.function([x], y)
    source = f.source()
    assert evil not in source and "SystemExit" not in source
    assert not re.search(r"os\.system", source)
    data = np.array([1.0, 2.0])
    assert f(data) == (data * 2).sum()
