"""Elementwise and reduction kernels of the cupy backend (croton_cupy/elemwise.py).

Without a GPU: every scalar op on every dtype the conformance cases use lowers to one
generated kernel with a content-hashed name, concrete parameter types and no user
string, and the whole program CuPy would hand NVRTC for it compiles for ``sm_80``. With
a GPU (the ``gpu`` fixture): values against numpy.
"""

from __future__ import annotations

import re

import host_cuda
import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.ops.composite import Composite
from croton.ops.elemwise import Elemwise
from croton.ops.reduce import Argmax, Reduce
from croton.ops.scalar import SCALAR_OPS, cast_op
from croton.testing.cases import DTYPES, _accepts
from croton_cupy import cuda_code, kernels
from croton_cupy.elemwise import elementwise_kernel

#: a variable name that must never reach generated source
SECRET = "secret_name"

ARCH = "sm_80"


# -- compiling with NVRTC, as CuPy would at the first launch --------------------------------


def compile_with_nvrtc(tier, sources, arch: str = ARCH) -> None:
    """Compile the whole programs CuPy would build for ``sources`` with the compile ``tier``."""
    assert tier.compile_sources(list(sources), arch) >= len({s.name for s in sources})


# -- every scalar op on every dtype ----------------------------------------------------------


def _op_dtypes():
    """(scalar op, input dtypes) for every op and dtype the conformance cases use, casts too."""
    pairs = []
    for name, scalar_op in SCALAR_OPS.items():
        for dtype in DTYPES:
            if _accepts(scalar_op, dtype) is None:
                continue
            dtypes = [dtype] * scalar_op.nin
            if name == "switch":
                dtypes[0] = "bool"
            pairs.append((scalar_op, dtypes))
    for source in DTYPES:
        for target in DTYPES:
            if np.dtype(source).kind == "c" and np.dtype(target).kind != "c":
                continue
            pairs.append((cast_op(target), [source]))
    return pairs


OP_DTYPES = _op_dtypes()


def _compiled(inputs, output, backend):
    f = croton.function(inputs, output, backend=backend)
    return f


def _elemwise_nodes(f):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Elemwise)]


def _kernel_source(node) -> kernels.KernelSource:
    """The generated source of an `Elemwise` node's kernel (made if it was not yet)."""
    kernel = elementwise_kernel(
        node.op.scalar_op, [x.type.dtype for x in node.inputs], node.outputs[0].type.dtype
    )
    return kernels.GENERATED[kernel.name]


@pytest.fixture(scope="module")
def every_op_kernel(cupy_backend):
    """``{(op name, input dtypes): generated source}`` from compiled one-op graphs."""
    found = {}
    for scalar_op, dtypes in OP_DTYPES:
        inputs = [T.tensor(dtype=d, shape=(None, None), name=SECRET) for d in dtypes]
        output = Elemwise(scalar_op)(*inputs)
        # the whole path compiles (rewrites may remove an op such as a cast to its own
        # dtype; the node itself is lowered below in any case)
        f = _compiled(inputs, output, cupy_backend)
        assert len(_elemwise_nodes(f)) <= 1
        found[(str(scalar_op), tuple(dtypes))] = _kernel_source(output.owner)
    return found


def test_every_scalar_op_and_dtype_has_a_kernel(every_op_kernel):
    assert len(every_op_kernel) == len(OP_DTYPES)
    names = set()
    for (op, dtypes), source in every_op_kernel.items():
        assert source.kind == "elementwise"
        assert re.fullmatch(r"croton_ew_[0-9a-f]{16}", source.name)
        assert kernels.GENERATED[source.name] is source
        expected = ", ".join(f"{d} in{k}" for k, d in enumerate(dtypes))
        assert source.fields["in_params"] == expected, op
        assert re.fullmatch(
            rf"\w+ out0(, raw int32 {cuda_code.ERROR})?", source.fields["out_params"]
        )
        assert "out0 = " in source.fields["operation"]
        names.add(source.name)
    # one kernel per distinct source (floor, ceil, trunc and identity of an integer are
    # one copy kernel), and distinct sources have distinct names
    assert len(names) == len({s.parts for s in every_op_kernel.values()}) > 300


def test_output_parameter_has_the_nodes_dtype(every_op_kernel):
    for (op, dtypes), source in every_op_kernel.items():
        name = op.split("{")[0]
        if name == "cast":
            out = op[len("cast{") : -1]
        else:
            out = SCALAR_OPS[name].resolve(list(dtypes))[1]
        # signed integer powers report negative exponents through an error flag
        raises = name == "pow" and np.dtype(dtypes[0]).kind == "i"
        error = f", raw int32 {cuda_code.ERROR}" if raises else ""
        assert source.fields["out_params"] == f"{out} out0{error}", op


def test_no_user_string_in_generated_source(every_op_kernel):
    for source in kernels.GENERATED.values():
        assert all(SECRET not in part for part in source.parts)


def test_every_kernel_compiles_with_nvrtc(nvrtc, every_op_kernel):
    compile_with_nvrtc(nvrtc, list(every_op_kernel.values()))


def test_same_graph_twice_reuses_the_kernel(cupy_backend):
    x = T.fmatrix(SECRET)
    f1 = _compiled([x], T.exp(x), cupy_backend)
    f2 = _compiled([x], T.exp(x), cupy_backend)
    (n1,), (n2,) = _elemwise_nodes(f1), _elemwise_nodes(f2)
    assert elementwise_kernel(n1.op.scalar_op, ["float32"], "float32") is elementwise_kernel(
        n2.op.scalar_op, ["float32"], "float32"
    )


# -- fused programs -----------------------------------------------------------------------


def test_a_fused_chain_is_one_kernel_with_one_local_per_step(nvrtc, cupy_backend):
    x, y = T.fmatrix(SECRET), T.fvector("y")
    f = _compiled([x, y], T.exp(x * 2 + y) / 3, cupy_backend)
    (node,) = _elemwise_nodes(f)
    assert isinstance(node.op.scalar_op, Composite)
    source = _kernel_source(node)
    operation = source.fields["operation"]
    assert source.fields["in_params"] == "float32 in0, float32 in1"
    assert source.fields["out_params"] == "float32 out0"
    steps = len(node.op.scalar_op.program)
    assert [f"const float s{j} = " in operation for j in range(steps)] == [True] * steps
    assert "exp(" in operation and "2.0f" in operation
    assert operation.splitlines()[-1] == f"out0 = s{steps - 1};"
    compile_with_nvrtc(nvrtc, [source])


def test_composite_with_special_literals_and_mixed_dtypes_compiles(nvrtc):
    composite = Composite(
        ["float16", "int8", "float64"],
        [
            (SCALAR_OPS["mul"], (("input", 0), ("literal", float("nan"), "float16")), "float16"),
            (cast_op("float64"), (("step", 0),), "float64"),
            (
                SCALAR_OPS["maximum"],
                (("step", 1), ("literal", float("-inf"), "float64")),
                "float64",
            ),
            (cast_op("float64"), (("input", 1),), "float64"),
            (SCALAR_OPS["add"], (("step", 2), ("step", 3)), "float64"),
            (SCALAR_OPS["mul"], (("step", 4), ("literal", -0.0, "float64")), "float64"),
            (SCALAR_OPS["lt"], (("step", 5), ("input", 2)), "bool"),
            (SCALAR_OPS["switch"], (("step", 6), ("input", 2), ("step", 5)), "float64"),
            (cast_op("float16"), (("step", 7),), "float16"),
        ],
    )
    kernel = elementwise_kernel(composite, ["float16", "int8", "float64"], "float16")
    source = kernels.GENERATED[kernel.name]
    operation = source.fields["operation"]
    assert "const float x0 = float(in0);" in operation
    assert "_nan_float()" in operation and "(-_inf_double())" in operation
    assert "-0.0" in operation
    assert source.fields["out_params"] == "float16 out0"
    assert operation.splitlines()[-1].startswith("out0 = float16(")
    assert '#include "cupy/float16.cuh"' in source.fields["preamble"]
    compile_with_nvrtc(nvrtc, [source])


# -- the scalar code itself -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "dtype", "text"),
    [
        (float("nan"), "float64", "_nan_double()"),
        (float("inf"), "float32", "_inf_float()"),
        (float("-inf"), "float64", "(-_inf_double())"),
        (-0.0, "float64", "-0.0"),
        (-0.0, "float32", "-0.0f"),
        (0.1, "float32", "0.10000000149011612f"),
        (0.1, "float16", "0.0999755859375f"),
        (0.1, "float64", "0.1"),
        (True, "bool", "true"),
        (-5, "int8", "((signed char)-5LL)"),
        (np.iinfo("int64").min, "int64", "(-9223372036854775807LL - 1)"),
        (np.iinfo("uint64").max, "uint64", "((unsigned long long)18446744073709551615ULL)"),
        (1 + 2j, "complex128", "complex<double>(1.0, 2.0)"),
    ],
)
def test_literal(value, dtype, text):
    assert cuda_code.literal(value, dtype) == text


def test_literal_out_of_range_is_an_error():
    with pytest.raises(ValueError, match="does not fit in uint8"):
        cuda_code.literal(300, "uint8")


@pytest.mark.parametrize(
    ("dtype", "name", "value_type"),
    [
        ("float32", "float32", "float"),
        ("float16", "float16", "float"),
        ("int64", "int64", "long long"),
        ("bool", "bool", "bool"),
        ("complex128", "complex128", "complex<double>"),
        ("uint8", "uint8", "unsigned char"),
    ],
)
def test_types(dtype, name, value_type):
    assert cuda_code.ctype(dtype) == name
    assert cuda_code.value_type(dtype) == value_type


def test_unsupported_dtype_is_a_clear_error():
    with pytest.raises(ValueError, match="'datetime64\\[s\\]' has no CUDA type.*Cast"):
        cuda_code.ctype("datetime64[s]")


@pytest.mark.parametrize(
    ("have", "want", "text"),
    [
        ("float64", "uint8", "static_cast<unsigned char>(_float_to_int32(v))"),
        ("float32", "uint64", "_float_to_uint64(v)"),
        ("float64", "int64", "_float_to_int64(v)"),
        ("float64", "bool", "static_cast<bool>(v)"),
        ("complex128", "bool", "_nonzero(v)"),
        ("int64", "float16", "_to_half(static_cast<double>(v))"),
        ("float32", "float16", "_to_half(static_cast<float>(v))"),
        ("int8", "int8", "static_cast<signed char>(v)"),
        ("float64", "complex64", "complex<float>(static_cast<float>(v))"),
    ],
)
def test_conversions_follow_numpy_casting(have, want, text):
    assert cuda_code.convert("v", have, want) == text


def test_the_table_is_the_cores_with_cuda_overrides():
    from croton.codegen import TEMPLATES

    assert cuda_code.SYNTAX.template("exp", "float32") == TEMPLATES["exp"]
    # CuPy's headers define a _floor_divide of their own, with C's float semantics
    assert cuda_code.SYNTAX.template("int_div", "float64") == "_numpy_floor_divide({0}, {1})"
    assert cuda_code.SYNTAX.template("lt", "complex128") == "_lt({0}, {1})"
    assert cuda_code.SYNTAX.template("add", "int64") == "_wrapping_add({0}, {1})"
    assert cuda_code.SYNTAX.template("minimum", "float16") == "_minimum_first({0}, {1})"


# -- run-time broadcasting checks -----------------------------------------------------------


def test_unknown_lengths_are_checked_before_launching(cupy_backend):
    from croton_cupy.lowering import registry

    x, y = T.dmatrix(SECRET), T.dmatrix("y")
    node = (x + y).owner
    rule = registry.lookup_class(Elemwise)
    kernel = rule(node.op, node)
    # numpy arrays stand in for device arrays: the check reads only their shapes
    with pytest.raises(ValueError, match="do not match along axis 0"):
        kernel(np.zeros((3, 4)), np.zeros((1, 4)))


def test_static_broadcasting_needs_no_check(cupy_backend):
    from croton_cupy.lowering import registry

    x, y = T.dmatrix(SECRET), T.dscalar("y")
    node = (x + y).owner
    kernel = registry.lookup_class(Elemwise)(node.op, node)
    assert kernel is elementwise_kernel(node.op.scalar_op, ["float64", "float64"], "float64")


# -- on a GPU -----------------------------------------------------------------------------


def test_gpu_chain_matches_numpy(gpu, cupy_backend):
    x, y = T.fmatrix(SECRET), T.fvector("y")
    expr = T.exp(x * 2 + y) / 3 - T.sqrt(T.abs(x))
    f = croton.function([x, y], expr, backend=cupy_backend)
    g = croton.function([x, y], expr, backend="numpy")
    rng = np.random.default_rng(0)
    xv = rng.normal(size=(5, 7)).astype("float32")
    yv = rng.normal(size=7).astype("float32")
    np.testing.assert_allclose(f(xv, yv), g(xv, yv), rtol=1e-5)
    assert f(xv, yv).dtype == np.float32


def test_gpu_composite_with_special_values_matches_numpy(gpu, cupy_backend):
    x, y = T.dvector(SECRET), T.dvector("y")
    expr = T.maximum(x, y) * T.floor_div(x, y) + T.mod(x, y) + T.sign(x) + T.clip(x, -1.0, 1.0)
    f = croton.function([x, y], expr, backend=cupy_backend)
    g = croton.function([x, y], expr, backend="numpy")
    special = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1.5, -2.5, 7.0, -7.0])
    xv = np.repeat(special, special.size)
    yv = np.tile(special, special.size)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(f(xv, yv), g(xv, yv))


def test_gpu_integer_and_half_ops_match_numpy(gpu, cupy_backend):
    for dtype in ("int8", "uint8", "int32", "int64", "float16"):
        x, y = T.tensor(dtype=dtype, shape=(None,)), T.tensor(dtype=dtype, shape=(None,))
        expr = T.floor_div(x, y) + T.mod(x, y) * x
        f = croton.function([x, y], expr, backend=cupy_backend)
        g = croton.function([x, y], expr, backend="numpy")
        info = np.iinfo(dtype) if dtype != "float16" else None
        values = [-7, -1, 0, 1, 3, 7] if info is None or info.min < 0 else [0, 1, 3, 7, 200]
        xv = np.array([a for a in values for _ in values], dtype=dtype)
        yv = np.array([b for _ in values for b in values], dtype=dtype)
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(f(xv, yv), g(xv, yv))


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64"])
def test_gpu_integer_powers_raise_for_negative_exponents_as_numpy(gpu, dtype):
    x, y = T.tensor(dtype=dtype, shape=(None,)), T.tensor(dtype=dtype, shape=(None,))
    w = croton.shared(np.zeros(2), name="w")
    outputs = [x**y, T.sum((x + 1) ** (y * 2)), T.exp(T.cast(x ** T.abs(y), "float64"))]
    f = croton.function([x, y], outputs, backend="cupy", updates=[(w, w + 1)])
    g = croton.function([x, y], outputs, backend="numpy")
    xv, yv = np.array([-3, -1, 0, 2, 3], dtype=dtype), np.array([0, 1, 2, 3, 1], dtype=dtype)
    for got, want in zip(f(xv, yv), g(xv, yv)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert w.get_value().tolist() == [1.0, 1.0]
    for exponents in ([0, 1, 2, -1, 1], [-2] * 5):
        with pytest.raises(ValueError, match="Integers to negative integer powers"):
            f(xv, np.array(exponents, dtype=dtype))
    assert w.get_value().tolist() == [1.0, 1.0]  # the failed calls updated nothing
    # a reduction whose prologue holds the power
    s = croton.function([x, y], T.sum(x ** (y - 1)), backend="cupy")
    assert s(xv, yv + 1) == g(xv, yv)[0].sum()
    with pytest.raises(ValueError, match="Integers to negative integer powers"):
        s(xv, yv)


# -- reductions -----------------------------------------------------------------------------

REDUCE_KINDS = ("sum", "prod", "max", "min", "all", "any")


def _reduce_sources(kind_dtypes, backend):
    """The generated sources of compiled ``T.<kind>(x, axis=1)`` graphs."""
    from croton_cupy.elemwise import reduction_kernel

    found = {}
    for kind, dtype in kind_dtypes:
        x = T.tensor(dtype=dtype, shape=(None, None), name=SECRET)
        f = _compiled([x], getattr(T, kind)(x, axis=1), backend)
        (node,) = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Reduce)]
        kernel = reduction_kernel(
            node.op.kind, node.op.prologue, [dtype], node.outputs[0].type.dtype
        )
        found[(kind, dtype)] = kernels.GENERATED[kernel.name]
    return found


@pytest.fixture(scope="module")
def every_reduction(cupy_backend):
    return _reduce_sources([(k, d) for k in REDUCE_KINDS for d in DTYPES], cupy_backend)


def test_every_reduction_has_a_kernel(every_reduction):
    for (_, dtype), source in every_reduction.items():
        assert source.kind == "reduction"
        assert re.fullmatch(r"croton_red_[0-9a-f]{16}", source.name)
        fields = source.fields
        assert fields["in_params"] == f"{dtype} croton_in0"
        # CuPy's CUB path renames the parameters to in0 and out0 in the expressions
        assert "croton_in0" in fields["map_expr"] and "_croton_map" not in fields["preamble"]
        assert fields["post_map_expr"].startswith("croton_out = ")
        assert SECRET not in "".join(source.parts)


@pytest.mark.parametrize(
    ("kind", "dtype", "out", "reduce_type", "reduce_expr", "identity"),
    [
        ("sum", "int8", "int64", "long long", "_wrapping_add(a, b)", "((long long)0LL)"),
        ("sum", "bool", "int64", "long long", "_wrapping_add(a, b)", "((long long)0LL)"),
        ("sum", "uint8", "uint64", "unsigned long long", "(a + b)", None),
        ("sum", "float16", "float16", "float", "(a + b)", "0.0f"),
        ("prod", "complex128", "complex128", "complex<double>", "_complex_multiply(a, b)", None),
        ("max", "float32", "float32", "float", "_maximum(a, b)", "(-_inf_float())"),
        (
            "min",
            "int64",
            "int64",
            "long long",
            "_minimum(a, b)",
            "((long long)9223372036854775807LL)",
        ),
        ("all", "float64", "bool", "bool", "(a && b)", "true"),
        ("any", "complex128", "bool", "bool", "(a || b)", "false"),
    ],
)
def test_reduction_types(every_reduction, kind, dtype, out, reduce_type, reduce_expr, identity):
    fields = every_reduction[(kind, dtype)].fields
    assert fields["out_params"] == f"{out} croton_out"
    assert fields["reduce_type"] == reduce_type
    assert fields["reduce_expr"] == reduce_expr
    if identity is not None:
        assert fields["identity"] == identity


def test_a_half_precision_sum_accumulates_in_single_and_rounds_once(every_reduction):
    fields = every_reduction[("sum", "float16")].fields
    assert fields["map_expr"] == "static_cast<float>(float(croton_in0))"
    assert fields["post_map_expr"] == "croton_out = float16(static_cast<float>(a))"


def test_every_reduction_compiles_with_nvrtc(nvrtc, every_reduction):
    compile_with_nvrtc(nvrtc, list(every_reduction.values()))


def test_a_prologue_is_fused_into_the_map_function(nvrtc, cupy_backend):
    x, y = T.fmatrix(SECRET), T.fmatrix("y")
    f = _compiled([x, y], T.sum((x - y) ** 2, axis=1), cupy_backend)
    nodes = f.maker.fgraph.toposort()
    (node,) = [n for n in nodes if isinstance(n.op, Reduce)]
    assert node.op.prologue is not None
    assert not _elemwise_nodes(f)
    from croton_cupy.elemwise import reduction_kernel

    kernel = reduction_kernel("sum", node.op.prologue, ["float32", "float32"], "float32")
    source = kernels.GENERATED[kernel.name]
    fields = source.fields
    assert fields["in_params"] == "float32 croton_in0, float32 croton_in1"
    assert fields["map_expr"] == "_croton_map(croton_in0, croton_in1)"
    assert "_croton_map(const float in0, const float in1)" in fields["preamble"]
    assert "const float s0 = " in fields["preamble"]
    compile_with_nvrtc(nvrtc, [source])


def test_a_max_over_an_empty_axis_raises_as_numpy_does(cupy_backend):
    from croton_cupy.lowering import registry

    x = T.dmatrix(SECRET)
    for kind, name in (("max", "maximum"), ("min", "minimum")):
        node = getattr(T, kind)(x, axis=1).owner
        kernel = registry.lookup_class(Reduce)(node.op, node)
        with pytest.raises(ValueError, match=f"zero-size array to reduction operation {name}"):
            kernel(np.zeros((3, 0)))


def test_argmax_kernels_compile(nvrtc, cupy_backend):
    from croton_cupy.elemwise import argmax_kernel

    sources = []
    for kind in ("max", "min"):
        for dtype in DTYPES:
            x = T.tensor(dtype=dtype, shape=(None, None), name=SECRET)
            _compiled([x], getattr(T, f"arg{kind}")(x, axis=1), cupy_backend)
            kernel = argmax_kernel(kind, dtype)
            source = kernels.GENERATED[kernel.name]
            assert source.fields["out_params"] == "int64 croton_out"
            assert f"_arg{kind}_pair(a, b)" == source.fields["reduce_expr"]
            assert "_J)" in source.fields["map_expr"]
            sources.append(source)
    compile_with_nvrtc(nvrtc, sources)


def test_argmax_of_an_empty_sequence_raises(cupy_backend):
    from croton_cupy.lowering import registry

    x = T.dmatrix(SECRET)
    node = T.argmax(x, axis=1).owner
    kernel = registry.lookup_class(Argmax)(node.op, node)
    with pytest.raises(ValueError, match="attempt to get argmax of an empty sequence"):
        kernel(np.zeros((3, 0)))


def test_gpu_reductions_with_a_prologue_match_numpy(gpu, cupy_backend):
    from croton.testing.compare import assert_conforms

    rng = np.random.default_rng(1)
    x, y = T.ftensor3(SECRET), T.ftensor3("y")
    xv = rng.normal(size=(3, 4, 5)).astype("float32")
    yv = rng.normal(size=(3, 4, 5)).astype("float32")
    xv[0, 1, 2] = np.nan
    for kind in REDUCE_KINDS:
        for axis in (None, 0, 1, 2, (0, 2), (1, 2)):
            expr = getattr(T, kind)((x - y) * x, axis=axis)
            f = croton.function([x, y], expr, backend=cupy_backend)
            g = croton.function([x, y], expr, backend="numpy")
            # a tree of partial sums on the device, pairwise sums in numpy
            assert_conforms(g(xv, yv), f(xv, yv), f"{kind} axis={axis}", scale=10)


def test_gpu_integer_sums_and_empty_reductions_match_numpy(gpu, cupy_backend):
    x = T.tensor(dtype="int8", shape=(None, None))
    f = croton.function([x], [T.sum(x, axis=0), T.prod(x, axis=1), T.max(x)], backend=cupy_backend)
    g = croton.function([x], [T.sum(x, axis=0), T.prod(x, axis=1), T.max(x)], backend="numpy")
    xv = np.full((300, 3), 100, dtype="int8")
    for got, want in zip(f(xv), g(xv), strict=True):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    empty = T.dmatrix()
    h = croton.function([empty], T.sum(empty, axis=1), backend=cupy_backend)
    np.testing.assert_array_equal(h(np.zeros((2, 0))), np.zeros(2))


def test_gpu_argmax_matches_numpy(gpu, cupy_backend):
    xv = np.array([[1.0, np.nan, 3.0, np.nan], [2.0, 2.0, -1.0, 2.0], [0.0, -0.0, 5.0, 5.0]])
    x = T.dmatrix(SECRET)
    for kind in ("argmax", "argmin"):
        for axis in (None, 0, 1, -1):
            f = croton.function([x], getattr(T, kind)(x, axis=axis), backend=cupy_backend)
            want = getattr(np, kind)(xv, axis=axis)
            np.testing.assert_array_equal(f(xv), want)
            np.testing.assert_array_equal(f(xv.T.copy().T), want)


# -- the generated code's values, on the host ------------------------------------------------
# Without a GPU the generated operations still run, compiled for the host by `host_cuda`
# (CUDA's spellings mapped to the standard library's: complex<T> is std::complex, float16
# the compiler's _Float16). This checks the templates, conversions and prelude against
# NumPy; CUDA's own math library (exp, sin, thrust's complex functions) is replaced by the
# host's and is not checked.


class HostKernels:
    """Recorded kernels (`kernels.GENERATED` entries) run on the host, by name."""

    def __init__(self, sources, directory=None):
        self._kernels = {s.name: host_cuda.host_kernel(s) for s in sources}

    def elementwise(self, name: str, arrays, out_dtype: str) -> np.ndarray:
        kernel = self._kernels[name]
        if len(kernel.outputs) == 1:
            return np.asarray(kernel(*arrays))
        # the error flag of a kernel that reports errors (`elementwise.checked_launch`)
        out = np.empty(np.broadcast_shapes(*(np.shape(a) for a in arrays)), out_dtype)
        kernel(*arrays, out, np.zeros(1, dtype=np.int32))
        return out

    def reduction(self, name: str, arrays, out_dtype: str) -> np.ndarray:
        """Reduce the last axis of ``arrays`` (broadcast together)."""
        return np.asarray(self._kernels[name](*arrays, axis=-1)).view(np.ndarray)


def _elemwise_cases():
    from croton.testing.cases import all_cases

    return [
        c
        for c in all_cases()
        if c.id.startswith("elemwise.") and c.id.rsplit("/", 1)[-1] in ("basic", "special")
    ]


def test_host_values_match_numpy_on_the_conformance_cases(tmp_path):
    from croton.testing.compare import assert_conforms, run_case

    cases = _elemwise_cases()
    assert len(cases) > 500
    runs = []
    for case in cases:
        inputs, (output,) = case.build()
        node = output.owner
        assert isinstance(node.op, Elemwise) and list(node.inputs) == list(inputs), case.id
        in_dtypes = [x.type.dtype for x in inputs]
        kernel = elementwise_kernel(node.op.scalar_op, in_dtypes, output.type.dtype)
        runs.append((case, kernel.name, output.type.dtype))
    host = HostKernels([kernels.GENERATED[name] for _, name, _ in runs], str(tmp_path))
    failures = []
    for case, name, out_dtype in runs:
        values = case.values(np.random.default_rng(0))
        with np.errstate(all="ignore"):
            (expected,) = run_case(case, "numpy", values)
        actual = host.elementwise(name, values, out_dtype)
        try:
            assert_conforms(expected, actual, case.id)
        except AssertionError as err:
            failures.append(f"{case.id}: {str(err)[-600:]}")
    assert not failures, "\n".join(failures)


def _reduction_values(dtype: str, rng) -> np.ndarray:
    kind = np.dtype(dtype).kind
    if kind == "b":
        return rng.integers(0, 2, size=(5, 7)).astype(bool)
    if kind in "iu":
        return rng.integers(0 if kind == "u" else -3, 4, size=(5, 7)).astype(dtype)
    values = rng.normal(size=(5, 7))
    if kind == "c":
        values = values + 1j * rng.normal(size=(5, 7))
    values = values.astype(dtype)
    values[1, 3] = np.nan
    values[2, :] = np.inf
    values[3, 2] = -np.inf
    return values


def test_host_reductions_match_numpy(every_reduction, tmp_path):
    from croton.testing.compare import assert_conforms
    from croton_cupy.elemwise import argmax_kernel

    argmax_sources = {
        (kind, dtype): kernels.GENERATED[argmax_kernel(kind, dtype).name]
        for kind in ("max", "min")
        for dtype in DTYPES
    }
    host = HostKernels([*every_reduction.values(), *argmax_sources.values()], str(tmp_path))
    rng = np.random.default_rng(2)
    for (kind, dtype), source in every_reduction.items():
        values = _reduction_values(dtype, rng)
        x = T.tensor(dtype=dtype, shape=(None, None))
        with np.errstate(all="ignore"):
            want = croton.function([x], getattr(T, kind)(x, axis=1), backend="numpy")(values)
        got = host.reduction(source.name, [values], want.dtype.name)
        assert_conforms(want, got, f"{kind}/{dtype}")
    for (kind, dtype), source in argmax_sources.items():
        values = _reduction_values(dtype, rng)
        values[4, 1] = values[4, 5] = values[4].max() if dtype != "bool" else True
        if np.dtype(dtype).kind in "fc":
            values[0, 2] = values[0, 5] = np.nan
        got = host.reduction(source.name, [values], "int64")
        np.testing.assert_array_equal(got, getattr(np, f"arg{kind}")(values, axis=1))


def test_host_fused_programs_match_numpy(cupy_backend, tmp_path):
    from croton.testing.compare import assert_conforms
    from croton_cupy.elemwise import reduction_kernel

    x, y = T.dmatrix(SECRET), T.tensor(dtype="float32", shape=(None, None))
    i = T.tensor(dtype="int8", shape=(None, None))
    outputs = [
        T.exp(x * 2 + y) / 3 - T.sqrt(T.abs(x)),
        T.switch(T.lt(x, 0.5), T.floor_div(x, y) + i, T.mod(i, 3) * x),
        T.maximum(T.clip(x, -1.0, 1.0), y) * T.sign(x + i),
        T.sum((x - y) ** 2, axis=1),
        T.max(T.cast(i, "float16") * 2, axis=1),
        T.any(T.isnan(x * y), axis=1),
    ]
    f = croton.function([x, y, i], outputs, backend=cupy_backend)
    g = croton.function([x, y, i], outputs, backend="numpy")
    runs = []
    for node in f.maker.fgraph.toposort():
        in_dtypes = [v.type.dtype for v in node.inputs]
        out_dtype = node.outputs[0].type.dtype
        if isinstance(node.op, Elemwise):
            kernel = elementwise_kernel(node.op.scalar_op, in_dtypes, out_dtype)
        elif isinstance(node.op, Reduce):
            if node.op.axis != (node.inputs[0].ndim - 1,):
                continue
            kernel = reduction_kernel(node.op.kind, node.op.prologue, in_dtypes, out_dtype)
        else:
            continue
        runs.append((node, kernel.name))
    # every node is a generated kernel; the chains are fused (a cast that several outputs
    # read stays a node of its own)
    assert len(runs) == len(f.maker.fgraph.toposort())
    composites = [
        n for n, _ in runs if isinstance(n.op, Elemwise) and isinstance(n.op.scalar_op, Composite)
    ]
    prologues = [n for n, _ in runs if isinstance(n.op, Reduce) and n.op.prologue is not None]
    assert len(composites) >= 3 and len(prologues) == 3
    host = HostKernels([kernels.GENERATED[name] for _, name in runs], str(tmp_path))
    rng = np.random.default_rng(3)
    values = [
        rng.normal(size=(4, 6)) * 3,
        rng.normal(size=(4, 6)).astype("float32"),
        rng.integers(-5, 6, size=(4, 6)).astype("int8"),
    ]
    values[0][0, 0], values[0][1, 1], values[1][2, 2] = np.nan, -0.0, np.inf
    with np.errstate(all="ignore"):
        want = g(*values)
    by_variable = dict(zip(f.maker.fgraph.inputs, values, strict=True))
    for node, name in runs:
        args = [by_variable[v] for v in node.inputs]
        out_dtype = node.outputs[0].type.dtype
        run = host.elementwise if isinstance(node.op, Elemwise) else host.reduction
        by_variable[node.outputs[0]] = run(name, args, out_dtype)
    for k, output in enumerate(f.maker.fgraph.outputs):
        assert_conforms(want[k], by_variable[output], f"output {k}")


def test_host_casts_of_special_values_match_numpy_on_x86(tmp_path):
    import platform

    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("NumPy's casts of nan and out-of-range floats to integers are x86-64's here")
    values = np.array([np.nan, np.inf, -np.inf, 300.0, -1.0, 3e9, -3e9, 1e19, -129.7, 2.5, -2.5])
    targets = ("int8", "uint8", "int16", "int32", "int64", "bool", "float16", "float32")
    sources = {
        d: kernels.GENERATED[elementwise_kernel(cast_op(d), ["float64"], d).name] for d in targets
    }
    host = HostKernels(list(sources.values()), str(tmp_path))
    for dtype, source in sources.items():
        with np.errstate(all="ignore"):
            want = values.astype(dtype)
        got = host.elementwise(source.name, [values], dtype)
        np.testing.assert_array_equal(got, want, err_msg=dtype)
