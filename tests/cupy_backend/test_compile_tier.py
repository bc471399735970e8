"""The compile tier: every kernel the conformance cases generate compiles with NVRTC.

Runs without a GPU (NVRTC needs no driver); skipped where cupy, NVRTC or the CUDA
runtime headers are not installed (``pip install "croton[cuda-compile]"``).
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
import pytest

from croton_cupy import compile_tier, kernels

_reason = compile_tier.unavailable_reason()
pytestmark = pytest.mark.skipif(_reason is not None, reason=f"compile tier unavailable: {_reason}")


def _record(kernel) -> kernels.KernelSource:
    """The `kernels.GENERATED` record of a kernel object made by the kernel factory."""
    return kernels.GENERATED[kernel.name]


# ---------------------------------------------------------------------------------------
# every conformance case


def _graphs_of(case, backend):
    """Compile ``case`` as `check_case` does (forward, gradients) and as users do (FAST_RUN)."""
    import croton
    from croton.testing.compare import _gradient_function, _weights, run_case

    for mode in ("NONE", "FAST_RUN"):
        inputs, outputs = case.build()
        croton.function(inputs, outputs, backend=backend, mode=mode, on_unused_input="ignore")
    if case.grad:
        rng = np.random.default_rng(0)
        values = case.values(rng)
        with np.errstate(all="ignore"):
            expected = run_case(case, "numpy", values)
        _gradient_function(case, backend, _weights(rng, expected))


def _op_named(message: str) -> str:
    """The op class a `MissingLoweringError` names ("croton.ops.reduce.Reduce")."""
    match = re.search(r"\(([\w.]+)\)\. Backends that lower it", message)
    return match.group(1) if match else message.splitlines()[0]


def _listing(by_reason: dict[str, list[str]], shown: int = 6) -> str:
    return "\n".join(
        f"  {reason}: {len(ids)} case(s): {', '.join(sorted(ids)[:shown])}{', ...' if len(ids) > shown else ''}"
        for reason, ids in sorted(by_reason.items())
    )


def test_every_conformance_case_compiles(cupy_backend):
    from croton.backend import MissingLoweringError
    from croton.testing.cases import all_cases

    missing, broken = defaultdict(list), defaultdict(list)
    with kernels.recording() as names:  # what the cases need, not what other tests made
        for case in all_cases():
            try:
                _graphs_of(case, cupy_backend)
            except MissingLoweringError as err:
                missing[_op_named(str(err))].append(case.id)
            except Exception as err:  # a rule that fails while lowering: reported below
                first_line = str(err).splitlines()[0] if str(err) else ""
                broken[f"{type(err).__name__}: {first_line}"].append(case.id)
    made = [kernels.GENERATED[name] for name in sorted(names)]
    problems = []
    try:
        compiled = compile_tier.compile_sources(made, compile_tier.DEFAULT_ARCHS)
    except compile_tier.KernelCompileError as err:
        compiled = "not all"
        problems.append(str(err))
    if broken:
        problems.append(f"cases that fail while lowering on cupy:\n{_listing(broken)}")
    if missing:
        problems.append(
            f"ops the cupy backend does not lower yet, and the cases that need them:\n{_listing(missing)}"
        )
    assert not problems, (
        f"({len(made)} kernels generated, {compiled} programs compiled)\n" + "\n\n".join(problems)
    )


def _random_recipes(count: int, seed: int = 0):
    """Recipes like the conformance suite's random graphs, drawn from a fixed seed."""
    from croton.testing.graphs import OPERATIONS, Recipe

    rng = np.random.default_rng(seed)
    for _ in range(count):
        steps = [
            (OPERATIONS[rng.integers(len(OPERATIONS))], *(int(v) for v in rng.integers(0, 16, 2)))
            + (int(rng.integers(0, 6)),)
            for _ in range(rng.integers(1, 9))
        ]
        yield Recipe(tuple(steps))


def test_random_graphs_compile(cupy_backend):
    # what the suite's random graphs give under FAST_RUN: fused elementwise chains and
    # reductions with fused prologues of every shape the rewrites produce
    import croton

    with kernels.recording() as names:
        for recipe in _random_recipes(150):
            inputs, outputs = recipe.build()
            croton.function(
                inputs, outputs, backend=cupy_backend, mode="FAST_RUN", on_unused_input="ignore"
            )
    assert names
    compile_tier.compile_sources([kernels.GENERATED[n] for n in sorted(names)])


def test_recording_names_kernels_made_before_the_block():
    earlier = kernels.elementwise("float32 x", "float32 y", "y = x - 1.0f")
    with kernels.recording() as names:
        again = kernels.elementwise("float32 x", "float32 y", "y = x - 1.0f")
        with kernels.recording() as inner:
            fresh = kernels.raw('extern "C" __global__ void KERNEL() {}')
    assert again is earlier
    assert names == {earlier.name, fresh.name} and inner == {fresh.name}
    kernels.elementwise("float32 x", "float32 y", "y = x - 2.0f")
    assert len(names) == 2


# ---------------------------------------------------------------------------------------
# the tier catches errors


def test_a_broken_kernel_is_named_with_the_compiler_message():
    good = kernels.elementwise("float32 x", "float32 y", "y = x * 2.0f")
    bad = kernels.elementwise("float32 x", "float32 y", "y = x + croton_no_such_name")
    with pytest.raises(compile_tier.KernelCompileError) as caught:
        compile_tier.compile_sources([_record(good), _record(bad)], "sm_80")
    message = str(caught.value)
    assert bad.name in message
    assert good.name not in message
    assert 'identifier "croton_no_such_name" is undefined' in message
    # the numbered program the log's line numbers refer to
    assert "| y = x + croton_no_such_name;" in message
    [failure] = caught.value.failures
    assert failure.kernel == bad.name and failure.arch == "sm_80"


def test_a_type_error_fails_for_every_arch():
    bad = kernels.elementwise("float32 x", "bool y", "y = x.real_part()")
    with pytest.raises(compile_tier.KernelCompileError) as caught:
        compile_tier.compile_sources([_record(bad)], ("sm_80", "sm_90"))
    assert sorted(f.arch for f in caught.value.failures) == ["sm_80", "sm_90"]


def test_a_bad_kernel_is_found_in_a_large_batch():
    made = [
        _record(kernels.elementwise("float64 x", "float64 y", f"y = x + {n}.0")) for n in range(40)
    ]
    bad = _record(kernels.elementwise("int32 x", "int32 y", "y = x +* 1"))
    made.insert(17, bad)
    with pytest.raises(compile_tier.KernelCompileError) as caught:
        compile_tier.compile_sources(made, "sm_90", batch_size=100)
    assert [f.kernel for f in caught.value.failures] == [bad.name]


@pytest.mark.parametrize(
    ("helper", "needs_it"),
    [
        (
            '#include <cuda_fp16.h>\nextern "C" __global__ void KERNEL(__half* x) { x[0] = 1; }',
            'extern "C" __global__ void KERNEL(__half* x) { x[0] = __float2half(2.0f); }',
        ),
        (
            '#define CROTON_TWO 2\nextern "C" __global__ void KERNEL(int* x) { x[0] = CROTON_TWO; }',
            'extern "C" __global__ void KERNEL(int* x) { x[0] = CROTON_TWO + 1; }',
        ),
    ],
    ids=["header", "macro"],
)
def test_a_batch_does_not_lend_one_kernel_what_another_declares(helper, needs_it):
    # alone, as CuPy compiles it, the second kernel lacks what the first includes or defines
    lender, borrower = kernels.raw(helper), kernels.raw(needs_it)
    with pytest.raises(compile_tier.KernelCompileError) as caught:
        compile_tier.compile_sources([_record(lender), _record(borrower)], "sm_80")
    assert [f.kernel for f in caught.value.failures] == [borrower.name]


def test_good_kernels_of_every_kind_compile():
    made = [
        kernels.elementwise(
            "float16 h, complex64 z, raw float64 w",
            "complex128 y, bool b",
            "y = complex<double>(z) * (double)h + w[0]; b = isnan((float)h)",
            "__device__ double croton_twice(double v) { return 2 * v; }",
        ),
        kernels.reduction("float32 x", "float64 y", "x * x", "a + b", "y = sqrt(a)", "0", "double"),
        kernels.reduction(
            "float16 x, int64 n",
            "float32 y",
            "(float)x * n",
            "max(a, b)",
            "y = a",
            "-CUDART_INF_F",
            "float",
        ),
        kernels.raw(
            'extern "C" __global__ void KERNEL(float* x, int n) { if (threadIdx.x < n) x[threadIdx.x] = 1; }'
        ),
    ]
    # a reduction is CuPy's own kernel plus, for one input and one output, three CUB kernels
    assert compile_tier.compile_sources([_record(k) for k in made], ("sm_80", "sm_90")) == 2 * (
        1 + 4 + 1 + 1
    )


def test_the_cub_path_of_a_reduction_is_compiled():
    # CuPy runs a one-input reduction of a long contiguous axis through CUB, after
    # renaming its parameters in0/out0 by text replacement: "exp(x)" would become
    # "ein0p(in0)" for an input named "x", and fail there only
    bad = kernels.reduction("float32 x", "float32 y", "exp(x)", "a + b", "y = a", "0", "float")
    with pytest.raises(compile_tier.KernelCompileError) as caught:
        compile_tier.compile_sources([_record(bad)], "sm_80")
    assert {f.form for f in caught.value.failures} >= {"cub reduction"}
    assert "reduction" not in {f.form for f in caught.value.failures}


def test_unavailable_reason_names_the_extra(monkeypatch):
    monkeypatch.setattr(compile_tier, "_package_dir", lambda name: None)
    compile_tier.unavailable_reason.cache_clear()
    try:
        assert 'pip install "croton[cuda-compile]"' in compile_tier.unavailable_reason()
    finally:
        monkeypatch.undo()
        compile_tier.unavailable_reason.cache_clear()


def test_a_bad_arch_is_refused():
    with pytest.raises(ValueError, match="sm_80"):
        compile_tier.compile_sources([], "ampere")
