"""croton_numba.mathlib: accuracy against numpy over the whole float range, numpy's special
values, and vectorized loops."""

from __future__ import annotations

import functools
import math
import platform
import re

import numpy as np
import pytest

pytest.importorskip("numba")

import numba  # noqa: E402

from croton_numba.mathlib import MATH  # noqa: E402
from croton_numpy.scalar_kernels import SCALAR_KERNELS  # noqa: E402

FUNCTIONS = sorted(MATH)
NAMES = sorted({name for name, _ in MATH})

#: max error in ulps against an extended-precision oracle (measured maximum, plus margin)
ULP_BOUND = {
    "exp": 1.0, "expm1": 1.5, "exp2": 1.0, "log": 1.0, "log1p": 1.0, "log2": 1.0,
    "log10": 1.0, "sin": 1.2, "cos": 1.2, "tanh": 3.0, "sigmoid": 3.0, "softplus": 2.0,
    "erf": 1.5, "erfc": 4.0,
}  # fmt: skip
#: relative tolerance against croton's numpy reference backend
RTOL = {"float64": 1e-13, "float32": 2e-6}

#: |x| where each function's interesting range ends (float64, float32); past it the result
#: is constant, overflows or underflows, which the samples over the whole range also check
SPAN = {
    "exp": (746, 104), "expm1": (746, 104), "exp2": (1076, 150), "sin": (1e308, 3e38),
    "cos": (1e308, 3e38), "tanh": (20, 10), "sigmoid": (746, 104), "softplus": (746, 104),
    "erf": (6, 4), "erfc": (28, 10.1), "log": (1e308, 3e38), "log1p": (1e308, 3e38),
    "log2": (1e308, 3e38), "log10": (1e308, 3e38),
}  # fmt: skip


@functools.cache
def kernel(name: str, dtype: str):
    """The loop form the code generator emits: a prange loop, numpy error model."""
    function = MATH[(name, dtype)]

    @numba.njit(parallel=True, error_model="numpy", fastmath={"contract"})
    def loop(x, out):
        for i in numba.prange(x.size):
            out[i] = function(x[i])

    return loop


def apply(name: str, x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    kernel(name, x.dtype.name)(x, out)
    return out


def reference(name: str, x: np.ndarray) -> np.ndarray:
    """croton's numpy backend, the oracle of the conformance suite."""
    with np.errstate(all="ignore"):
        return np.asarray(SCALAR_KERNELS[name](x), dtype=x.dtype)


def _softplus_long(x):
    return np.where(x > 40, x + np.log1p(np.exp(-x)), np.log1p(np.exp(np.minimum(x, 40))))


_erf_long = np.frompyfunc(math.erf, 1, 1)
_erfc_long = np.frompyfunc(math.erfc, 1, 1)

#: extended-precision versions, for errors measured in ulps
ORACLE = {
    "exp": np.exp, "expm1": np.expm1, "exp2": np.exp2, "log": np.log, "log1p": np.log1p,
    "log2": np.log2, "log10": np.log10, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)), "softplus": _softplus_long,
}  # fmt: skip
LONG_IS_WIDER = np.finfo(np.longdouble).nmant >= 63


def ulp_error(name: str, x: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """|actual - exact| in units of the last place of the exact value rounded to x's dtype.

    erf and erfc use libm's float64 values (good to ~1 ulp of float64), so only their
    float32 errors are measured this way.
    """
    if name in ORACLE:
        with np.errstate(all="ignore"):
            exact = ORACLE[name](x.astype(np.longdouble))
    else:
        fn = _erf_long if name == "erf" else _erfc_long
        exact = fn(x.astype(np.float64)).astype(np.longdouble)
    with np.errstate(all="ignore"):
        rounded = exact.astype(x.dtype)
        error = np.abs(actual.astype(np.longdouble) - exact) / np.spacing(np.abs(rounded))
    special = ~np.isfinite(rounded)
    error[special] = np.where(
        (actual[special] == rounded[special])
        | (np.isnan(actual[special]) & np.isnan(rounded[special])),
        0,
        np.inf,
    )
    return error.astype(np.float64)


def samples(name: str, dtype: str, count: int = 60_000, seed: int = 0) -> np.ndarray:
    """Log-uniform magnitudes over every binade of the dtype, denser in the function's
    interesting range, both signs, plus edge values."""
    rng = np.random.default_rng(seed)
    info = np.finfo(dtype)
    tiny_exp, max_exp = math.log2(info.smallest_subnormal), math.log2(info.max)
    span = math.log2(SPAN[name][0 if dtype == "float64" else 1])
    exponents = np.concatenate(
        [rng.uniform(tiny_exp, max_exp, count // 3), rng.uniform(-30, span, count - count // 3)]
    )
    x = np.exp2(exponents) * rng.choice([-1.0, 1.0], exponents.size)
    edges = [0.0, 1.0, 2.0, 0.5, 3.0, 10.0, info.max, info.tiny, info.smallest_subnormal]
    edges += [math.pi / 4, math.pi / 2, math.pi, 100 * math.pi, math.log(2), 0.34657, 0.5, 0.84]
    edges = np.array(edges + [-e for e in edges] + [np.inf, -np.inf, np.nan])
    return np.concatenate([x, edges]).astype(dtype)


@pytest.mark.parametrize("name, dtype", FUNCTIONS)
def test_agrees_with_numpy_over_the_whole_range(name, dtype):
    x = samples(name, dtype)
    actual = apply(name, x)
    expected = reference(name, x)
    atol = np.finfo(dtype).smallest_subnormal * 2  # subnormal results are rounded once more
    np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype], atol=atol, equal_nan=True)


@pytest.mark.skipif(not LONG_IS_WIDER, reason="needs long double wider than double")
@pytest.mark.parametrize(
    "name, dtype",
    # float64 erf and erfc have no long-double oracle in numpy
    [f for f in FUNCTIONS if not (f[0] in ("erf", "erfc") and f[1] == "float64")],
)
def test_error_in_ulps(name, dtype):
    x = samples(name, dtype, seed=1)
    error = ulp_error(name, x, apply(name, x))
    worst = int(np.argmax(error))
    assert error[worst] <= ULP_BOUND[name], f"{error[worst]:.2f} ulp at x={x[worst]!r}"


SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 1e-300, -1e-300, 5e-324, -5e-324]


@pytest.mark.parametrize("name, dtype", FUNCTIONS)
def test_special_values_match_numpy_exactly(name, dtype):
    x = np.array(SPECIAL, dtype=dtype)
    actual, expected = apply(name, x), reference(name, x)
    assert np.array_equal(np.isnan(actual), np.isnan(expected)), (x, actual, expected)
    exact = np.isinf(expected) | (expected == 0)
    assert np.array_equal(actual[exact], expected[exact]), (x, actual, expected)
    assert np.array_equal(np.signbit(actual[exact]), np.signbit(expected[exact]))
    np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype], equal_nan=True)


EDGES = {
    # name: (float64 values, float32 values) where results overflow, underflow or saturate
    "exp": ([709.782712893384, 709.7827128933841, -708.39, -745.1332191019411, -745.1332191019412, -746.0], [88.72283, 88.72284, -87.33, -103.97207, -103.97208]),
    "expm1": ([709.782712893384, 709.7827128933841, -37.5, -38.0, 1e-17, -1e-17], [88.72283, 88.72284, -16.6, -17.4, 1e-9, -1e-9]),
    "exp2": ([1023.9999999999999, 1024.0, -1022.0, -1074.0, -1075.0, -1075.0000000000002], [127.99999, 128.0, -126.0, -149.0, -150.0, -150.00002]),
    "log": ([2.2250738585072014e-308, 2.2250738585072009e-308, 1.0000000000000002, 0.9999999999999999], [1.1754944e-38, 1.1754942e-38, 1.0000001, 0.99999994]),
    "log1p": ([-0.9999999999999999, 1e-300, -1e-16, 1e300, 2**53, -0.5], [-0.99999994, 1e-30, -1e-8, 1e30, 2**24, -0.5]),
    "log2": ([2.0**-1074, 2.0**-1022, 2.0**1023, 3.0], [2.0**-149, 2.0**-126, 2.0**127, 3.0]),
    "log10": ([1e-320, 1e-300, 1e300, 1000.0], [1e-44, 1e-30, 1e30, 1000.0]),
    "sin": ([6381956970095103.0 * 2.0**797, 1e22, 2.0**1023, 355.0, 3.141592653589793, 1e-310], [1e20, 3.4e38, 355.0, 3.1415927, 1e-40]),
    "cos": ([6381956970095103.0 * 2.0**797, 1e22, 2.0**1023, 1.5707963267948966, 1e-310], [1e20, 3.4e38, 1.5707964, 1e-40]),
    "tanh": ([19.0, 20.0, 21.0, 1e300, 1e-310], [9.0, 10.0, 11.0, 1e30, 1e-40]),
    "sigmoid": ([36.0, 40.0, -708.0, -745.0, -746.0], [16.0, 17.0, -87.0, -103.0, -104.0]),
    "softplus": ([36.0, 40.0, 1e300, -708.0, -745.0, -746.0], [16.0, 17.0, 1e30, -87.0, -103.0, -104.0]),
    "erf": ([5.9, 6.0, 1e-310, 0.99999, 1.00001], [3.9, 4.0, 1e-40, 0.99999, 1.00001]),
    "erfc": ([0.49999, 0.50001, 26.5, 27.2, 27.3, 28.0, -6.0], [0.49999, 0.50001, 9.9, 10.0, 10.1, -4.0]),
}  # fmt: skip


@pytest.mark.parametrize("name, dtype", FUNCTIONS)
def test_edges_of_the_range(name, dtype):
    values = np.array(EDGES[name][0 if dtype == "float64" else 1], dtype=dtype)
    x = np.concatenate([values, -values])
    actual, expected = apply(name, x), reference(name, x)
    assert np.array_equal(np.isinf(actual), np.isinf(expected)), (x, actual, expected)
    atol = np.finfo(dtype).smallest_subnormal * 2
    np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype], atol=atol, equal_nan=True)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_log2_is_exact_at_powers_of_two(dtype):
    info = np.finfo(dtype)
    k = np.arange(int(math.log2(info.smallest_subnormal)), info.maxexp, dtype=dtype)
    np.testing.assert_array_equal(apply("log2", np.exp2(k)), k)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_exp2_is_exact_at_integers(dtype):
    info = np.finfo(dtype)
    k = np.arange(int(math.log2(info.smallest_subnormal)), info.maxexp, dtype=dtype)
    # exact powers of two (numpy's own float32 exp2(127) is an ulp off)
    np.testing.assert_array_equal(apply("exp2", k), np.ldexp(np.ones_like(k), k.astype(int)))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sin_cos_near_multiples_of_half_pi(dtype):
    # the reduced argument is tiny there, so a short reduction would lose every digit
    k = np.unique(np.geomspace(1, 2**60, 4000).astype(np.int64))
    x = (k.astype(np.longdouble) * (np.pi / np.longdouble(2))).astype(dtype)
    x = np.concatenate([x, np.nextafter(x, np.inf)])
    for name in ("sin", "cos"):
        actual = apply(name, x)
        np.testing.assert_allclose(actual, reference(name, x), rtol=RTOL[dtype])
        if LONG_IS_WIDER:
            assert ulp_error(name, x, actual).max() <= ULP_BOUND[name]


def test_the_table_of_two_over_pi_is_split_off_enough_bits():
    # (the import splits each row's words off its first 256 bits, not all 1400)
    from croton_numba.mathlib import _TWO_OVER_PI, _two_over_pi_table

    np.testing.assert_array_equal(_TWO_OVER_PI, _two_over_pi_table(window=1400))


# sin, cos and erfc's tail compute in float64 on purpose
@pytest.mark.parametrize("name", [n for n in NAMES if n not in ("sin", "cos", "erfc")])
def test_float32_functions_compute_in_float32(name):
    x = np.ones(4, dtype="float32")
    apply(name, x)
    llvm = "\n".join(kernel(name, "float32").inspect_llvm().values())
    assert not re.search(r"\b(fadd|fsub|fmul|fdiv)\b[^\n]*\bdouble\b", llvm)


PACKED_ARITHMETIC = re.compile(
    r"\bv?(add|sub|mul|div|fn?m(add|sub)\d{3})p[sd]\s+[^\n]*%[xyz]mm"
    r"|\bf(add|sub|mul|div|mla|mls)\s+v\d+\.\d+[sd]"  # AArch64 NEON
)


def _host_has_avx512() -> bool:
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    return "+avx512f" in llvm.get_host_cpu_features().flatten().split(",")


_HOST_HAS_AVX512 = _host_has_avx512()


LIBM_CALL = re.compile(
    r"call [^\n]*@(llvm\.)?(exp|exp2|expm1|log|log1p|log2|log10|sin|cos|tanh|erfc?)"
    r"(f|\.f32|\.f64|\.v\d+f\d+)?\("
)


@pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64", "aarch64", "arm64"),
    reason="assembly patterns known for x86-64 and AArch64",
)
@pytest.mark.parametrize("name, dtype", FUNCTIONS)
def test_prange_loop_is_vectorized(name, dtype):
    x = np.ones(8, dtype=dtype)
    apply(name, x)
    asm = "\n".join(kernel(name, dtype).inspect_asm().values())
    packed = PACKED_ARITHMETIC.findall(asm)
    assert len(packed) >= 8, f"{len(packed)} packed arithmetic instructions"
    if _HOST_HAS_AVX512:  # the loop holding the math is marked for 512-bit vectors
        wide = [m.group(0) for m in PACKED_ARITHMETIC.finditer(asm) if "%zmm" in m.group(0)]
        assert len(wide) >= 8, f"{len(wide)} packed instructions on zmm registers"
    # and no math-library call was kept (LLVM can vectorize around one, lane by lane)
    llvm = "\n".join(kernel(name, dtype).inspect_llvm().values())
    assert not LIBM_CALL.search(llvm), LIBM_CALL.search(llvm).group(0)


def test_table_names_the_module_attributes():
    # the code generator imports each function by its __name__
    import croton_numba.mathlib as mathlib

    for (name, dtype), function in MATH.items():
        assert getattr(mathlib, function.__name__) is function
        assert dtype in ("float32", "float64") and name in SCALAR_KERNELS


def test_callable_from_python():
    from croton_numba.mathlib import exp64, sin32

    assert exp64(1.0) == pytest.approx(math.e, rel=1e-15)
    assert sin32(np.float32(1.0)) == pytest.approx(math.sin(1.0), rel=1e-7)
