"""``specialize``: cheaper forms (sqr, sqrt, reciprocal, dot, gemm) with the same values."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.graph.traversal import free_inputs
from croton.ops.blas import Gemm

RNG = np.random.default_rng(0)
A = RNG.normal(size=(3, 4))
B = RNG.normal(size=(4, 5))
C = RNG.normal(size=(3, 5))
U = RNG.normal(size=6)
V = RNG.normal(size=6)
#: powers are checked on special values as well as ordinary ones
SPECIAL = np.array([-2.5, -1.0, -0.0, 0.0, 0.25, 1.0, 3.0, np.inf, -np.inf, np.nan])


# -- powers ------------------------------------------------------------------------------

# (id, build(x), numpy, rewrite that must fire, op left, derivative)
POWER_CASES = [
    ("square", lambda x: x**2, np.square, "pow_two_sqr", "sqr", lambda a: 2 * a),
    ("square_float", lambda x: x**2.0, np.square, "pow_two_sqr", "sqr", lambda a: 2 * a),
    ("root", lambda x: x**0.5, np.sqrt, "pow_half_sqrt", "sqrt", lambda a: 0.5 / np.sqrt(a)),
    (
        "reciprocal",
        lambda x: x**-1,
        np.reciprocal,
        "pow_minus_one_reciprocal",
        "reciprocal",
        lambda a: -1 / a**2,
    ),
    ("self_product", lambda x: x * x, np.square, "mul_self_sqr", "sqr", lambda a: 2 * a),
    (
        "square_by_array",
        lambda x: x ** T.constant(np.full(6, 2.0)),
        np.square,
        "pow_two_sqr",
        "sqr",
        lambda a: 2 * a,
    ),
]


@pytest.mark.parametrize(
    "build, reference, rule, op, slope",
    [c[1:] for c in POWER_CASES],
    ids=[c[0] for c in POWER_CASES],
)
def test_power_becomes_cheaper_op(compile_both, build, reference, rule, op, slope):
    x = T.dvector("x")
    pair = compile_both([x], build(x))
    assert pair.fired[rule] == 1
    assert pair.names == {op: 1}, pair.names
    assert op not in pair.naive_names
    data = np.abs(U) + 0.1
    np.testing.assert_allclose(pair.check(data), reference(data), rtol=1e-15)
    gradient = croton.function([x], T.grad(build(x).sum(), x))
    np.testing.assert_allclose(gradient(data), slope(data), rtol=1e-14)


@pytest.mark.parametrize(
    "build", [c[1] for c in POWER_CASES[:5]], ids=[c[0] for c in POWER_CASES[:5]]
)
def test_power_keeps_special_values(compile_both, build):
    x = T.dvector("x")
    pair = compile_both([x], build(x))
    fast, naive = pair.run_both(SPECIAL)
    np.testing.assert_array_equal(fast, naive)
    np.testing.assert_array_equal(np.signbit(fast), np.signbit(naive))  # -0.0 stays -0.0
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(fast, build(SPECIAL))


@pytest.mark.parametrize("dtype", ["float32", "int32", "int64"])
def test_square_keeps_dtype(compile_both, dtype):
    x = T.vector("x", dtype=dtype)
    pair = compile_both([x], [x**2, x * x])
    assert pair.names == {"sqr": 1}, pair.names  # both squares merged into one
    data = np.array([-3, 0, 2, 7], dtype=dtype)
    for value in pair.check(data):
        assert value.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(value, data * data)


def test_square_root_of_float32_stays_float32(compile_both):
    x = T.fmatrix("x")
    pair = compile_both([x], x**0.5)
    assert pair.names == {"sqrt": 1}
    data = np.abs(A).astype("float32")
    value = pair.check(data)
    assert value.dtype == np.float32
    np.testing.assert_allclose(value, np.sqrt(data), rtol=1e-7)


@pytest.mark.parametrize(
    "build, reference",
    [
        (lambda x: x**2.0, lambda a: a.astype(float) ** 2),
        (lambda x: x**-1.0, lambda a: 1 / a.astype(float)),
        (lambda x: x**0.5, lambda a: np.sqrt(a.astype(float))),
    ],
    ids=["square", "reciprocal", "root"],
)
def test_integer_base_with_float_exponent_is_computed_in_floats(compile_both, build, reference):
    # an int64 square would overflow, an integer reciprocal would truncate to 0
    i = T.lvector("i")
    pair = compile_both([i], build(i))
    data = np.array([2, 3, 7, 2**40])
    value = pair.check(data, rtol=1e-15)
    assert value.dtype == np.float64
    np.testing.assert_allclose(value, reference(data), rtol=1e-15)


@pytest.mark.parametrize(
    "build, reference",
    [(lambda x: x**3, lambda a: a**3), (lambda x: x**-2, lambda a: a**-2.0)],
    ids=["cube", "minus_two"],
)
def test_other_powers_stay_powers(compile_both, build, reference):
    x = T.dvector("x")
    pair = compile_both([x], build(x))
    assert pair.names["pow"] == 1
    data = np.abs(U) + 0.1
    np.testing.assert_allclose(pair.check(data), reference(data), rtol=1e-15)


def test_product_of_two_variables_is_not_a_square(compile_both):
    x, y = T.dvectors("x", "y")
    pair = compile_both([x, y], x * y)
    assert pair.names == {"mul": 1}
    np.testing.assert_allclose(pair.check(U, V), U * V, rtol=1e-15)


# -- sum of a product -> dot -------------------------------------------------------------


def test_sum_of_vector_product_becomes_dot(compile_both):
    a, b = T.dvectors("a", "b")
    pair = compile_both([a, b], T.sum(a * b))
    assert pair.fired["sum_mul_dot"] == 1
    assert pair.names == {"Dot": 1}
    np.testing.assert_allclose(pair.check(U, V), np.dot(U, V), rtol=1e-13)
    ga, gb = croton.function([a, b], T.grad(T.sum(a * b), [a, b]))(U, V)
    np.testing.assert_allclose(ga, V, rtol=1e-15)
    np.testing.assert_allclose(gb, U, rtol=1e-15)


def test_sum_of_float32_vector_product_becomes_dot(compile_both):
    a, b = T.fvectors("a", "b")
    pair = compile_both([a, b], T.sum(a * b))
    assert pair.names == {"Dot": 1}
    value = pair.check(U.astype("float32"), V.astype("float32"), rtol=1e-6)
    assert value.dtype == np.float32
    np.testing.assert_allclose(value, np.dot(U, V), rtol=1e-5)


@pytest.mark.parametrize(
    "build, reference",
    [
        (lambda a, b: T.sum(a * b.dimshuffle(0, "x")), lambda u, v: np.sum(u * v[:, None])),
        (lambda a, b: T.sum(a * b, axis=0), lambda u, v: np.sum(u * v, axis=0)),
    ],
    ids=["outer_product", "matrix_columns"],
)
def test_sum_of_matrix_product_is_not_dot(compile_both, build, reference):
    a, b = T.dmatrix("a"), T.dvector("b")
    pair = compile_both([a, b], build(a, b))
    assert "Dot" not in pair.names
    data = RNG.normal(size=(6, 6))
    np.testing.assert_allclose(pair.check(data, V), reference(data, V), rtol=1e-13)


def test_sum_of_integer_vector_product_is_not_dot(compile_both):
    a, b = T.lvectors("a", "b")
    pair = compile_both([a, b], T.sum(a * b))
    assert "Dot" not in pair.names
    u, v = np.arange(6), np.arange(6) - 2
    assert pair.check(u, v) == np.dot(u, v)


def test_sum_of_product_with_broadcast_vector_is_not_dot(compile_both):
    a, b = T.dvector("a"), T.vector("b", dtype="float64", shape=(1,))
    pair = compile_both([a, b], T.sum(a * b))
    assert "Dot" not in pair.names
    np.testing.assert_allclose(pair.check(U, V[:1]), np.sum(U * V[0]), rtol=1e-13)


# -- gemm --------------------------------------------------------------------------------


def _gemm_nodes(f):
    return [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Gemm)]


def _matrices(dtype="float64"):
    return (T.matrix(name, dtype=dtype) for name in "ABC")


S, R = 0.7, -1.3  # the values given to scalar variables s and r

# (id, build(A, B, C, s, r), numpy)
GEMM_CASES = [
    ("add", lambda a, b, c, s, r: c + T.dot(a, b), lambda a, b, c: c + a @ b),
    ("add_dot_first", lambda a, b, c, s, r: T.dot(a, b) + c, lambda a, b, c: a @ b + c),
    (
        "constant_scales",
        lambda a, b, c, s, r: 2 * c + 3 * T.dot(a, b),
        lambda a, b, c: 2 * c + 3 * (a @ b),
    ),
    (
        "constant_scales_on_the_right",
        lambda a, b, c, s, r: T.dot(a, b) * 3 + c * 2,
        lambda a, b, c: (a @ b) * 3 + c * 2,
    ),
    ("sub", lambda a, b, c, s, r: c - T.dot(a, b), lambda a, b, c: c - a @ b),
    ("sub_dot_first", lambda a, b, c, s, r: T.dot(a, b) - c, lambda a, b, c: a @ b - c),
    (
        "sub_scaled",
        lambda a, b, c, s, r: 0.5 * c - 2 * T.dot(a, b),
        lambda a, b, c: 0.5 * c - 2 * (a @ b),
    ),
    ("neg_dot", lambda a, b, c, s, r: -T.dot(a, b) + c, lambda a, b, c: -(a @ b) + c),
    (
        "variable_scales",
        lambda a, b, c, s, r: s * c + r * T.dot(a, b),
        lambda a, b, c: S * c + R * (a @ b),
    ),
    (
        "variable_scales_sub",
        lambda a, b, c, s, r: s * c - T.dot(a, b) * r,
        lambda a, b, c: S * c - (a @ b) * R,
    ),
    (
        "variable_scale_dot_first",
        lambda a, b, c, s, r: r * T.dot(a, b) + c,
        lambda a, b, c: R * (a @ b) + c,
    ),
    (
        "mixed_scales",
        lambda a, b, c, s, r: c * s - 4 * T.dot(a, b),
        lambda a, b, c: c * S - 4 * (a @ b),
    ),
]


@pytest.mark.parametrize(
    "build, reference", [c[1:] for c in GEMM_CASES], ids=[c[0] for c in GEMM_CASES]
)
def test_scale_and_add_becomes_gemm(compile_both, build, reference):
    a, b, c = _matrices()
    s, r = T.dscalars("s", "r")
    out = build(a, b, c, s, r)
    used = {id(v) for v in free_inputs([out])}
    scalars = [(var, value) for var, value in ((s, S), (r, R)) if id(var) in used]
    pair = compile_both([a, b, c, *(var for var, _ in scalars)], out)
    assert pair.fired["gemm"] == 1
    names = pair.names
    assert names["Gemm"] == 1 and not {"Dot", "add", "sub", "mul"} & set(names), names
    value = pair.check(A, B, C, *(value for _, value in scalars))
    np.testing.assert_allclose(value, reference(A, B, C), rtol=1e-13)


def test_gemm_with_shared_scalar_scales(compile_both):
    a, b, c = _matrices()
    alpha = croton.shared(np.asarray(0.25), name="alpha")
    beta = croton.shared(np.asarray(-2.0), name="beta")
    pair = compile_both([a, b, c], beta * c + alpha * T.dot(a, b))
    assert len(_gemm_nodes(pair.fast)) == 1
    np.testing.assert_allclose(pair.check(A, B, C), -2.0 * C + 0.25 * (A @ B), rtol=1e-13)
    alpha.set_value(np.asarray(3.0))
    np.testing.assert_allclose(pair.check(A, B, C), -2.0 * C + 3.0 * (A @ B), rtol=1e-13)


def test_gemm_with_a_one_by_one_scale(compile_both):
    a, b, c = _matrices()
    k = T.tensor("float64", shape=(1, 1), name="k")
    pair = compile_both([a, b, c, k], c + k * T.dot(a, b))
    assert len(_gemm_nodes(pair.fast)) == 1
    np.testing.assert_allclose(
        pair.check(A, B, C, np.array([[1.5]])), C + 1.5 * (A @ B), rtol=1e-13
    )


def test_gemm_with_a_scale_of_another_dtype(compile_both):
    a, b, c = _matrices()
    s, k = T.fscalar("s"), T.lscalar("k")
    pair = compile_both([a, b, c, s, k], k * c - s * T.dot(a, b))
    (node,) = _gemm_nodes(pair.fast)
    assert {v.dtype for v in node.inputs} == {"float64"}
    value = pair.check(A, B, C, np.float32(0.5), 3)
    np.testing.assert_allclose(value, 3 * C - 0.5 * (A @ B), rtol=1e-13)


def test_gemm_of_float32(compile_both):
    a, b, c = _matrices("float32")
    pair = compile_both([a, b, c], 0.5 * c + T.dot(a, b))
    (node,) = _gemm_nodes(pair.fast)
    assert node.outputs[0].dtype == "float32"
    args = [m.astype("float32") for m in (A, B, C)]
    value = pair.check(*args, rtol=1e-6)
    assert value.dtype == np.float32
    np.testing.assert_allclose(value, 0.5 * C + A @ B, rtol=1e-5, atol=1e-6)


def test_gemm_gradient_keeps_values():
    a, b, c = _matrices()
    s = T.dscalar("s")
    cost = T.sum((s * c - 2 * T.dot(a, b)) ** 2)
    grads = T.grad(cost, [a, b, c, s])
    fast = croton.function([a, b, c, s], grads)
    naive = croton.function([a, b, c, s], grads, mode="NONE")
    got = fast(A, B, C, S)
    for x, y in zip(got, naive(A, B, C, S)):
        np.testing.assert_allclose(x, y, rtol=1e-12)
    residual = 2 * (S * C - 2 * (A @ B))
    np.testing.assert_allclose(got[0], -2 * residual @ B.T, rtol=1e-12)
    np.testing.assert_allclose(got[1], -2 * A.T @ residual, rtol=1e-12)
    np.testing.assert_allclose(got[2], S * residual, rtol=1e-12)
    np.testing.assert_allclose(got[3], np.sum(residual * C), rtol=1e-12)


def test_two_products_make_one_gemm_and_one_dot(compile_both):
    a, b, c = _matrices()
    d = T.dmatrix("D")
    pair = compile_both([a, b, c, d], T.dot(a, b) + T.dot(c, d))
    names = pair.names
    assert names["Gemm"] == 1 and names["Dot"] == 1, names
    other = RNG.normal(size=(5, 5))
    np.testing.assert_allclose(pair.check(A, B, C, other), A @ B + C @ other, rtol=1e-13)


def test_broadcast_c_is_allowed_in_gemm(compile_both):
    # Gemm's C may broadcast (see its docstring): a row, a vector or a scalar
    a, b = T.dmatrices("A", "B")
    row, v, s = T.drow("row"), T.dvector("v"), T.dscalar("s")
    pair = compile_both(
        [a, b, row, v, s], [row + T.dot(a, b), T.dot(a, b) - v, s + 2 * T.dot(a, b)]
    )
    first, second, third = pair.check(A, B, C[:1], C[0], S)
    np.testing.assert_allclose(first, C[:1] + A @ B, rtol=1e-13)
    np.testing.assert_allclose(second, A @ B - C[0], rtol=1e-13)
    np.testing.assert_allclose(third, S + 2 * (A @ B), rtol=1e-13)
    assert first.shape == second.shape == third.shape == (3, 5)


def test_float32_c_is_cast_before_gemm(compile_both):
    a, b = T.dmatrices("A", "B")
    c = T.fmatrix("C")
    pair = compile_both([a, b, c], c + T.dot(a, b))
    (node,) = _gemm_nodes(pair.fast)
    assert {v.dtype for v in node.inputs} == {"float64"}
    c32 = C.astype("float32")
    np.testing.assert_allclose(pair.check(A, B, c32), c32 + A @ B, rtol=1e-13)


# -- what must not become gemm -----------------------------------------------------------


def test_dot_used_elsewhere_is_not_gemm(compile_both):
    a, b, c = _matrices()
    product = T.dot(a, b)
    pair = compile_both([a, b, c], [c + product, product * 2])
    names = pair.names
    assert "Gemm" not in names and names["Dot"] == 1, names
    total, twice = pair.check(A, B, C)
    np.testing.assert_allclose(total, C + A @ B, rtol=1e-13)
    np.testing.assert_allclose(twice, 2 * (A @ B), rtol=1e-13)


def test_scaled_dot_used_elsewhere_is_not_gemm(compile_both):
    a, b, c = _matrices()
    scaled = 3 * T.dot(a, b)
    pair = compile_both([a, b, c], [c + scaled, T.exp(scaled)])
    names = pair.names
    assert "Gemm" not in names and names["Dot"] == 1, names
    total, exponential = pair.check(A, B, C)
    np.testing.assert_allclose(total, C + 3 * (A @ B), rtol=1e-13)
    np.testing.assert_allclose(exponential, np.exp(3 * (A @ B)), rtol=1e-13)


@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_integer_matrices_are_not_gemm(compile_both, dtype):
    a, b, c = _matrices(dtype)
    pair = compile_both([a, b, c], 2 * c + T.dot(a, b))
    names = pair.names
    assert "Gemm" not in names and names["Dot"] == 1, names
    ints = [np.arange(m.size, dtype=dtype).reshape(m.shape) - 5 for m in (A, B, C)]
    np.testing.assert_array_equal(pair.check(*ints), 2 * ints[2] + ints[0] @ ints[1])


def test_broadcast_product_is_not_gemm(compile_both):
    # the product is one row, broadcast to C's rows: C, not A @ B, sets the shape
    a = T.tensor("float64", shape=(1, None), name="a")
    b, c = T.dmatrices("B", "C")
    pair = compile_both([a, b, c], c + T.dot(a, b))
    assert "Gemm" not in pair.names
    np.testing.assert_allclose(pair.check(A[:1], B, C), C + A[:1] @ B, rtol=1e-13)


def test_row_vector_scale_is_not_a_gemm_scale(compile_both):
    a, b, c = _matrices()
    v = T.dvector("v")
    pair = compile_both([a, b, c, v], c + v * T.dot(a, b))
    assert "Gemm" not in pair.names
    np.testing.assert_allclose(pair.check(A, B, C, C[1]), C + C[1] * (A @ B), rtol=1e-13)


def test_matrix_vector_dot_is_not_gemm(compile_both):
    a = T.dmatrix("A")
    x, y = T.dvectors("x", "y")
    pair = compile_both([a, x, y], y + T.dot(a, x))
    assert "Gemm" not in pair.names
    np.testing.assert_allclose(pair.check(A, B[:, 0], C[:, 0]), C[:, 0] + A @ B[:, 0], rtol=1e-13)
