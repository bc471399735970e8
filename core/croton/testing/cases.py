"""The conformance catalogue: cases that exercise every op on every dtype it supports.

A `Case` builds a small graph and draws input values for it. The catalogue has

- for every scalar op of the elementwise table, and ``cast`` to each dtype: each input
  dtype the op accepts, special values (nan, +-inf, -0.0, integer extremes where NumPy
  defines the result), broadcasting of every input against the others, zero-size,
  one-element, 0-d, non-contiguous and negatively strided inputs, and a gradient case;
- for every other op: hand-written cases covering its parameters (axes, keepdims,
  slices with negative steps, integer-array and boolean-mask indexing, repeated indices).

Case ids read ``<op>/<dtype>/<variant>`` (``elemwise.add/float32/broadcast-1``), so a
backend can name the cases it does not support with glob patterns.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Case", "all_cases", "DTYPES", "FLOAT_DTYPES"]

#: the dtypes elementwise cases are generated for
DTYPES = ("bool", "int8", "uint8", "int32", "int64", "float16", "float32", "float64", "complex128")
FLOAT_DTYPES = ("float16", "float32", "float64")


@dataclass(frozen=True)
class Case:
    """One conformance case.

    Attributes
    ----------
    id
        ``<op>/<dtype>/<variant>``.
    build
        ``build() -> (inputs, outputs)``: fresh symbolic inputs and a list of outputs.
    values
        ``values(rng) -> list of arrays``, one per input (views allowed: strided cases
        pass non-contiguous arrays).
    grad
        Also compare the gradients of ``sum(output * weights)`` with respect to every
        floating-point input.
    """

    id: str
    build: Callable
    values: Callable
    grad: bool = False
    tags: tuple = field(default=())


# -- elementwise cases ---------------------------------------------------------------------

#: (low, high) of the values drawn for each input, where the default range does not fit
_DOMAINS: dict[str, tuple] = {
    "log": ((0.1, 5.0),),
    "log2": ((0.1, 5.0),),
    "log10": ((0.1, 5.0),),
    "log1p": ((-0.9, 5.0),),
    "sqrt": ((0.1, 5.0),),
    "reciprocal": ((0.5, 4.0),),
    "true_div": ((-3.0, 3.0), (0.5, 3.0)),
    "int_div": ((-9.0, 9.0), (1.0, 4.0)),
    "mod": ((-9.0, 9.0), (1.0, 4.0)),
    "pow": ((0.5, 3.0), (-2.0, 2.0)),
    "arcsin": ((-0.9, 0.9),),
    "arccos": ((-0.9, 0.9),),
    "arctanh": ((-0.9, 0.9),),
    "arccosh": ((1.1, 5.0),),
    "tan": ((-1.2, 1.2),),
    "exp": ((-4.0, 4.0),),
    "exp2": ((-4.0, 4.0),),
    "expm1": ((-4.0, 4.0),),
    "sinh": ((-4.0, 4.0),),
    "cosh": ((-4.0, 4.0),),
    "gamma": ((0.2, 5.0),),
    "gammaln": ((0.2, 5.0),),
    "psi": ((0.2, 5.0),),
    "tri_gamma": ((0.2, 5.0),),
    "erfinv": ((-0.9, 0.9),),
    "erfcinv": ((0.1, 1.9),),
}

#: ops with an integer division inside: no zero divisors and no ``min // -1``
_DIVIDING = {"int_div", "mod", "true_div", "reciprocal"}
#: ops whose integer results at the dtype's extremes NumPy defines (wrapping)
_INTEGER_EDGES = {
    "add", "sub", "mul", "neg", "abs", "sign", "minimum", "maximum", "lt", "gt", "le",
    "ge", "eq", "neq", "and", "or", "xor", "invert", "switch", "clip", "identity", "sqr",
}  # fmt: skip
_FLOAT_SPECIALS = (np.nan, np.inf, -np.inf, -0.0, 0.0, 1.0, -1.0, 0.5, -2.5)


def _accepts(op, dtype: str) -> tuple[list[str], str] | None:
    """``(input dtypes, output dtype)`` if ``op`` takes inputs of ``dtype`` as they are."""
    inputs = [dtype] * op.nin
    if op.name == "switch":
        inputs[0] = "bool"
    try:
        resolved, out = op.resolve(inputs)
    except TypeError:
        return None
    if resolved != inputs:
        return None
    if op.name in ("pow", "int_div", "mod") and dtype == "bool":
        return None
    return resolved, out


def _draw(rng, dtype: str, shape, domain) -> np.ndarray:
    kind = np.dtype(dtype).kind
    if kind == "b":
        return rng.random(shape) < 0.5
    low, high = domain or (-3.0, 3.0)
    if kind in "iu":
        low, high = (0, 4) if kind == "u" else (int(np.floor(low)), int(np.ceil(high)))
        if domain is not None and domain[0] > 0:
            low = max(1, int(np.ceil(domain[0])))
        return rng.integers(low, high + 1, size=shape).astype(dtype)
    values = rng.uniform(low, high, size=shape)
    if kind == "c":
        values = values + 1j * rng.uniform(low, high, size=shape) * 0.5
    return values.astype(dtype)


def _int_pow_exponents(rng, dtype: str, shape) -> np.ndarray:
    """Integer powers need exponents >= 0 (NumPy raises otherwise)."""
    return rng.integers(0, 4, size=shape).astype(dtype)


def _elemwise_values(name: str, dtypes: list[str], shapes, strided: bool = False):
    domains = _DOMAINS.get(name, ())

    def values(rng):
        arrays = []
        for position, (dtype, shape) in enumerate(zip(dtypes, shapes)):
            domain = domains[min(position, len(domains) - 1)] if domains else None
            if name == "pow" and position == 1 and np.dtype(dtype).kind in "iu":
                array = _int_pow_exponents(rng, dtype, shape)
            else:
                array = _draw(rng, dtype, shape, domain)
            if strided:  # the same values through a non-contiguous, reversed view
                wide = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), dtype=array.dtype)
                wide[..., ::2] = array[..., ::-1]
                array = wide[..., ::-2]
            arrays.append(array)
        return arrays

    return values


def _special_values(name: str, dtypes: list[str]):
    """Every combination of special values across the inputs, as 1-d arrays."""
    kind = np.dtype(dtypes[-1]).kind
    if kind in "fc":
        specials = list(_FLOAT_SPECIALS)
    elif kind in "iu":
        info = np.iinfo(dtypes[-1])
        specials = [int(info.min), int(info.max), 0, 1] + ([-1] if kind == "i" else [])
    else:
        specials = [False, True]
    nin = len(dtypes)
    combos = list(itertools.product(specials, repeat=nin)) if nin < 3 else None
    if combos is None:  # three inputs: pair each special with fixed companions
        combos = [(s, t, u) for s in specials for t, u in zip(specials, specials[::-1])]
    if name in ("int_div", "mod") and kind in "iu":
        info = np.iinfo(dtypes[-1])
        combos = [c for c in combos if c[1] != 0 and not (c[0] == info.min and c[1] == -1)]
    if name == "pow" and kind in "iu":
        combos = [c for c in combos if c[1] >= 0 and c[1] <= 2]

    def values(rng):
        columns = list(zip(*combos))
        arrays = [np.array(column, dtype=dtype) for column, dtype in zip(columns, dtypes)]
        if name == "switch":
            arrays[0] = np.arange(len(combos)) % 2 == 0
        return arrays

    return values


def _elemwise_build(op_factory, dtypes: list[str], shapes):
    from croton.tensor.basic import tensor

    def build():
        inputs = [
            tensor(dtype=d, shape=tuple(1 if n == 1 else None for n in s), name=f"x{i}")
            for i, (d, s) in enumerate(zip(dtypes, shapes))
        ]
        return inputs, [op_factory()(*inputs)]

    return build


def _broadcast_shapes(nin: int):
    """Shapes putting a length-1 or missing axis on every input in turn."""
    full = (3, 4)
    layouts = {}
    for position in range(nin):
        for label, small in (("row", (1, 4)), ("col", (3, 1)), ("0d", ())):
            shapes = [full] * nin
            shapes[position] = small
            layouts[f"broadcast-{position}-{label}"] = shapes
    if nin == 2:
        layouts["broadcast-outer"] = [(3, 1), (1, 4)]
    return layouts


def _elemwise_cases() -> list[Case]:
    from croton.ops.elemwise import Elemwise
    from croton.ops.scalar import GRADIENT_NOT_IMPLEMENTED, SCALAR_OPS, cast_op

    cases = []
    for name, scalar_op in SCALAR_OPS.items():
        supported = [d for d in DTYPES if _accepts(scalar_op, d) is not None]
        for dtype in supported:
            dtypes = [dtype] * scalar_op.nin
            if name == "switch":
                dtypes[0] = "bool"

            def factory(scalar_op=scalar_op):
                return Elemwise(scalar_op)

            prefix = f"elemwise.{name}/{dtype}"
            basic_shapes = [(3, 4)] * scalar_op.nin
            cases.append(
                Case(
                    f"{prefix}/basic",
                    _elemwise_build(factory, dtypes, basic_shapes),
                    _elemwise_values(name, dtypes, basic_shapes),
                )
            )
            kind = np.dtype(dtype).kind
            if kind in "fc" or (kind in "iu" and name in _INTEGER_EDGES) or kind == "b":
                n = len(_special_values(name, dtypes)(None)[0])
                cases.append(
                    Case(
                        f"{prefix}/special",
                        _elemwise_build(factory, dtypes, [(n,)] * scalar_op.nin),
                        _special_values(name, dtypes),
                    )
                )
            if dtype != supported[-1] and not (dtype == "float64" and "float64" in supported):
                continue
            # layouts once per op, on its widest dtype (float64 where it applies)
            layouts = dict(_broadcast_shapes(scalar_op.nin))
            layouts.update(
                {
                    "empty": [(0, 4)] * scalar_op.nin,
                    "one-element": [(1,)] * scalar_op.nin,
                    "0d": [()] * scalar_op.nin,
                }
            )
            for label, shapes in layouts.items():
                cases.append(
                    Case(
                        f"{prefix}/{label}",
                        _elemwise_build(factory, dtypes, shapes),
                        _elemwise_values(name, dtypes, shapes),
                    )
                )
            cases.append(
                Case(
                    f"{prefix}/strided",
                    _elemwise_build(factory, dtypes, basic_shapes),
                    _elemwise_values(name, dtypes, basic_shapes, strided=True),
                )
            )
            if (
                scalar_op.grad_rule is not None
                and np.dtype(dtype).kind == "f"
                and name not in GRADIENT_NOT_IMPLEMENTED
            ):
                cases.append(
                    Case(
                        f"{prefix}/grad",
                        _elemwise_build(factory, dtypes, [(3, 1), (1, 4), (3, 4)][: scalar_op.nin]),
                        _elemwise_values(name, dtypes, [(3, 1), (1, 4), (3, 4)][: scalar_op.nin]),
                        grad=True,
                    )
                )
    # cast: from every dtype to every dtype, special values included
    for source, target in itertools.product(DTYPES, DTYPES):
        if np.dtype(source).kind == "c" and np.dtype(target).kind != "c":
            continue  # complex -> real drops the imaginary part with a warning in NumPy

        def factory(target=target):
            return Elemwise(cast_op(target))

        shapes = [(3, 4)]
        cases.append(
            Case(
                f"elemwise.cast/{source}-{target}/basic",
                _elemwise_build(factory, [source], shapes),
                _elemwise_values("cast", [source], shapes),
                grad=np.dtype(source).kind == "f" and np.dtype(target).kind == "f",
            )
        )
    return cases


# -- the other ops -------------------------------------------------------------------------


def _normal(*shape, dtype="float64"):
    return lambda rng: rng.normal(size=shape).astype(dtype)


def _conditioned(n, dtype="float64"):
    """A square matrix far from singular: normal values plus ``n`` on the diagonal."""
    return lambda rng: (rng.normal(size=(n, n)) + n * np.eye(n)).astype(dtype)


def _positive_definite(n, dtype="float64", garbage=None):
    """A symmetric positive-definite matrix; with ``garbage`` ("upper" or "lower"), that
    triangle replaced by other values (a factor must not read it)."""

    def make(rng):
        m = rng.normal(size=(n, n))
        a = m @ m.T + n * np.eye(n)
        if garbage is not None:
            rows, columns = np.indices((n, n))
            unread = columns > rows if garbage == "upper" else columns < rows
            a = np.where(unread, rng.normal(size=(n, n)), a)
        return a.astype(dtype)

    return make


def _case(id, build, *value_makers, grad=False):
    """A hand-written case: ``build(*inputs) -> outputs`` over inputs declared in ``id``."""
    return Case(id, build, lambda rng: [make(rng) for make in value_makers], grad=grad)


def _graph(*specs, outputs):
    """``build`` for inputs given as ``(dtype, static shape)`` and ``outputs(*inputs)``."""
    from croton.tensor.basic import tensor

    def build():
        inputs = [tensor(dtype=d, shape=s, name=f"x{i}") for i, (d, s) in enumerate(specs)]
        result = outputs(*inputs)
        return inputs, list(result) if isinstance(result, (list, tuple)) else [result]

    return build


def _reduce_cases() -> list[Case]:
    import croton.tensor as T

    cases = []
    matrix = ("float64", (None, None, None))
    for kind in ("sum", "prod", "max", "min", "all", "any", "mean", "var", "std", "logsumexp"):
        for axis, keepdims in ((None, False), (0, False), (1, True), ((0, 2), False), (-1, True)):
            label = f"axis={axis}{'-keepdims' if keepdims else ''}".replace(" ", "")

            def out(x, kind=kind, axis=axis, keepdims=keepdims):
                return getattr(T, kind)(x, axis=axis, keepdims=keepdims)

            differentiable = kind not in ("all", "any")
            cases.append(
                _case(
                    f"Reduce.{kind}/float64/{label}",
                    _graph(matrix, outputs=out),
                    _normal(3, 4, 5),
                    grad=differentiable,
                )
            )
        for dtype in ("bool", "int8", "int64", "float32"):
            if kind in ("var", "std", "logsumexp") and dtype != "float32":
                continue

            def out_typed(x, kind=kind):
                return getattr(T, kind)(x, axis=1)

            cases.append(
                _case(
                    f"Reduce.{kind}/{dtype}/axis=1",
                    _graph((dtype, (None, None)), outputs=out_typed),
                    lambda rng, dtype=dtype: _draw(rng, dtype, (4, 6), None),
                )
            )
        # special values: nan and inf propagate as in numpy; empty reductions where defined
        cases.append(
            _case(
                f"Reduce.{kind}/float64/special",
                _graph(
                    ("float64", (None, None)),
                    outputs=lambda x, kind=kind: getattr(T, kind)(x, axis=0),
                ),
                lambda rng: np.array(
                    [[np.nan, 1.0, np.inf, -np.inf, 0.0], [1.0, np.inf, np.inf, 2.0, -0.0]]
                ),
            )
        )
        if kind in ("sum", "prod", "all", "any"):
            cases.append(
                _case(
                    f"Reduce.{kind}/float64/empty",
                    _graph(matrix, outputs=lambda x, kind=kind: getattr(T, kind)(x, axis=1)),
                    lambda rng: np.zeros((3, 0, 2)),
                )
            )
    cases.append(
        _case(
            "Reduce.sum/float32/strided",
            _graph(("float32", (None, None)), outputs=lambda x: T.sum(x, axis=0)),
            lambda rng: rng.normal(size=(6, 10)).astype("float32")[::-2, 1::3],
        )
    )
    cases.append(
        _case(
            "Reduce.sum/int8/dtype=int64",
            _graph(("int8", (None,)), outputs=lambda x: T.sum(x, dtype="int64")),
            lambda rng: np.full(300, 100, dtype="int8"),
        )
    )
    cases.append(
        _case(
            "Reduce.prologue/float64/sum-squared-difference",
            _graph(("float64", (None, None)), ("float64", (None, None)), outputs=_fused_reduction),
            _normal(5, 7),
            _normal(5, 7),
        )
    )
    for kind in ("argmax", "argmin"):
        for axis in (None, 0, -1):
            cases.append(
                _case(
                    f"Argmax.{kind}/float64/axis={axis}",
                    _graph(
                        matrix,
                        outputs=lambda x, kind=kind, axis=axis: getattr(T, kind)(x, axis=axis),
                    ),
                    _normal(3, 4, 5),
                )
            )
        cases.append(
            _case(
                f"Argmax.{kind}/int32/ties",
                _graph(("int32", (None,)), outputs=lambda x, kind=kind: getattr(T, kind)(x)),
                lambda rng: np.array([3, 1, 3, 1, 2], dtype="int32"),
            )
        )
        cases.append(
            _case(
                f"Argmax.{kind}/float64/nan",
                _graph(("float64", (None,)), outputs=lambda x, kind=kind: getattr(T, kind)(x)),
                lambda rng: np.array([1.0, np.nan, 3.0, np.nan]),
            )
        )
    return cases


def _fused_reduction(x, y):
    from croton.ops.composite import Composite
    from croton.ops.reduce import Reduce
    from croton.ops.scalar import SCALAR_OPS

    program = [
        (SCALAR_OPS["sub"], (("input", 0), ("input", 1)), "float64"),
        (SCALAR_OPS["sqr"], (("step", 0),), "float64"),
    ]
    return Reduce("sum", (1,), prologue=Composite(["float64", "float64"], program))(x, y)


def _composite(x, y):
    from croton.ops.composite import Composite
    from croton.ops.elemwise import Elemwise
    from croton.ops.scalar import SCALAR_OPS, cast_op

    program = [
        (SCALAR_OPS["mul"], (("input", 0), ("input", 1)), "float32"),
        (SCALAR_OPS["exp"], (("step", 0),), "float32"),
        (SCALAR_OPS["add"], (("step", 1), ("literal", 1.5, "float32")), "float32"),
        (cast_op("float64"), (("step", 2),), "float64"),
        (SCALAR_OPS["log"], (("step", 3),), "float64"),
    ]
    return Elemwise(Composite(["float32", "float32"], program))(x, y)


def _other_cases() -> list[Case]:
    import croton.tensor as T
    from croton.autodiff import jacobian
    from croton.ops.blas import Gemm
    from croton.tensor import nnet

    f64 = "float64"
    vec, mat = (f64, (None,)), (f64, (None, None))
    t3 = (f64, (None, None, None))
    cases = [
        # dimshuffle: transpose, add and drop broadcastable axes
        _case(
            "DimShuffle/float64/transpose",
            _graph(mat, outputs=lambda x: x.T),
            _normal(3, 4),
            grad=True,
        ),
        _case(
            "DimShuffle/float64/permute-3d",
            _graph(t3, outputs=lambda x: x.dimshuffle(2, 0, 1)),
            _normal(2, 3, 4),
            grad=True,
        ),
        _case(
            "DimShuffle/int32/add-axes",
            _graph(("int32", (None,)), outputs=lambda x: x.dimshuffle("x", 0, "x")),
            lambda rng: rng.integers(-5, 5, size=4).astype("int32"),
        ),
        _case(
            "DimShuffle/float64/drop-axis",
            _graph((f64, (None, 1)), outputs=lambda x: x.dimshuffle(0)),
            _normal(4, 1),
            grad=True,
        ),
        _case(
            "DimShuffle/float64/negative-strides",
            _graph(mat, outputs=lambda x: x.T * 2),
            lambda rng: rng.normal(size=(4, 6))[::-1, ::-2],
        ),
        # blas
        _case(
            "Dot/float64/vector-vector",
            _graph(vec, vec, outputs=T.dot),
            _normal(5),
            _normal(5),
            grad=True,
        ),
        _case(
            "Dot/float64/matrix-vector",
            _graph(mat, vec, outputs=T.dot),
            _normal(3, 5),
            _normal(5),
            grad=True,
        ),
        _case(
            "Dot/float64/vector-matrix",
            _graph(vec, mat, outputs=T.dot),
            _normal(3),
            _normal(3, 5),
            grad=True,
        ),
        _case(
            "Dot/float64/matrix-matrix",
            _graph(mat, mat, outputs=T.dot),
            _normal(3, 5),
            _normal(5, 2),
            grad=True,
        ),
        _case(
            "Dot/float64/tensor3-matrix",
            _graph(t3, mat, outputs=T.dot),
            _normal(2, 3, 5),
            _normal(5, 4),
            grad=True,
        ),
        _case(
            "Dot/float64/empty-inner", _graph(mat, mat, outputs=T.dot), _normal(3, 0), _normal(0, 2)
        ),
        _case(
            "Dot/float32/matrix-matrix",
            _graph(("float32", (None, None)), ("float32", (None, None)), outputs=T.dot),
            _normal(4, 6, dtype="float32"),
            _normal(6, 3, dtype="float32"),
        ),
        _case(
            "Dot/int64/matrix-matrix",
            _graph(("int64", (None, None)), ("int64", (None, None)), outputs=T.dot),
            lambda rng: rng.integers(-5, 5, size=(3, 4)),
            lambda rng: rng.integers(-5, 5, size=(4, 2)),
        ),
        _case(
            "Dot/float64/strided",
            _graph(mat, mat, outputs=T.dot),
            lambda rng: rng.normal(size=(6, 8))[::2, ::-2],
            lambda rng: rng.normal(size=(4, 3)).T.T,
        ),
        _case(
            "Matmul/float64/batched",
            _graph(t3, t3, outputs=T.matmul),
            _normal(2, 3, 4),
            _normal(2, 4, 5),
            grad=True,
        ),
        _case(
            "Matmul/float64/broadcast-batch",
            _graph((f64, (1, None, None)), t3, outputs=T.matmul),
            _normal(1, 3, 4),
            _normal(2, 4, 5),
            grad=True,
        ),
        _case(
            "Gemm/float64/scaled",
            _graph(
                mat,
                (f64, ()),
                mat,
                mat,
                (f64, ()),
                outputs=lambda c, a, x, y, b: Gemm()(c, a, x, y, b),
            ),
            _normal(3, 2),
            lambda rng: np.asarray(0.7),
            _normal(3, 5),
            _normal(5, 2),
            lambda rng: np.asarray(-1.3),
            grad=True,
        ),
        # nnet
        _case(
            "Softmax/float64/axis=-1", _graph(mat, outputs=nnet.softmax), _normal(3, 5), grad=True
        ),
        _case(
            "Softmax/float64/axis=0",
            _graph(t3, outputs=lambda x: nnet.softmax(x, axis=0)),
            _normal(3, 2, 4),
            grad=True,
        ),
        _case(
            "Softmax/float32/large",
            _graph(("float32", (None, None)), outputs=nnet.softmax),
            lambda rng: np.array([[1000.0, -1000.0, 0.0], [-np.inf, 1.0, 2.0]], dtype="float32"),
        ),
        _case(
            "LogSoftmax/float64/axis=-1",
            _graph(mat, outputs=nnet.logsoftmax),
            _normal(3, 5),
            grad=True,
        ),
        _case(
            "LogSoftmax/float64/axis=1-large",
            _graph(t3, outputs=lambda x: nnet.logsoftmax(x, axis=1)),
            lambda rng: rng.normal(size=(2, 3, 4)) * 500,
            grad=True,
        ),
        _case(
            "CrossEntropySoftmax/float64/integer-targets",
            _graph(mat, ("int64", (None,)), outputs=_crossentropy_softmax),
            _normal(4, 5),
            lambda rng: np.array([0, 4, 2, 2]),
            grad=True,
        ),
        # shape ops
        _case("Shape/float64/3d", _graph(t3, outputs=lambda x: x.shape), _normal(2, 0, 4)),
        _case(
            "Reshape/float64/infer",
            _graph(t3, outputs=lambda x: x.reshape((x.shape[0], -1))),
            _normal(2, 3, 4),
            grad=True,
        ),
        _case(
            "Reshape/int8/strided-flatten",
            _graph(("int8", (None, None)), outputs=lambda x: x.flatten()),
            lambda rng: np.arange(24, dtype="int8").reshape(4, 6)[::-1, ::2],
        ),
        _case(
            "SpecifyShape/float64/matrix",
            _graph(mat, outputs=lambda x: T.specify_shape(x, (3, None)) + 1),
            _normal(3, 4),
        ),
        _case(
            "Alloc/float64/broadcast-to",
            _graph(vec, ("int64", ()), outputs=lambda x, n: T.alloc(x, n, x.shape[0])),
            _normal(4),
            lambda rng: np.asarray(3),
            grad=True,
        ),
        _case(
            "Alloc/float32/zeros",
            _graph(vec, outputs=lambda x: T.zeros_like(x, dtype="float32")),
            _normal(5),
        ),
        _case(
            "Join/float64/axis=1",
            _graph(mat, mat, outputs=lambda a, b: T.concatenate([a, b, a], axis=1)),
            _normal(3, 2),
            _normal(3, 0),
            grad=True,
        ),
        _case(
            "Join/int32/stack",
            _graph(("int32", (None,)), ("int32", (None,)), outputs=lambda a, b: T.stack([a, b])),
            lambda rng: np.arange(4, dtype="int32"),
            lambda rng: -np.arange(4, dtype="int32"),
        ),
        _case(
            "Split/float64/axis=0",
            _graph(mat, outputs=lambda x: T.split(x, [1, 0, 3], 3, axis=0)),
            _normal(4, 3),
            grad=True,
        ),
        _case(
            "ARange/int64/stop",
            _graph(("int64", ()), outputs=lambda n: T.arange(n)),
            lambda rng: np.asarray(5),
        ),
        _case(
            "ARange/float64/negative-step",
            _graph((f64, ()), (f64, ()), outputs=lambda a, b: T.arange(a, b, -0.5)),
            lambda rng: np.asarray(3.0),
            lambda rng: np.asarray(-1.0),
        ),
        _case(
            "ARange/int64/empty",
            _graph(("int64", ()), outputs=lambda n: T.arange(n)),
            lambda rng: np.asarray(-2),
        ),
        _case(
            "Eye/float32/offset",
            _graph(("int64", ()), outputs=lambda n: T.eye(n, n + 1, 1, dtype="float32")),
            lambda rng: np.asarray(3),
        ),
        _case(
            "Repeat/float64/axis=0",
            _graph(mat, outputs=lambda x: T.repeat(x, 3, axis=0)),
            _normal(2, 3),
            grad=True,
        ),
        _case(
            "Repeat/int64/counts",
            _graph(("int64", (None,)), ("int64", (None,)), outputs=lambda x, r: T.repeat(x, r)),
            lambda rng: np.arange(4),
            lambda rng: np.array([0, 2, 1, 3]),
        ),
        _case(
            "Repeat/float64/tile",
            _graph(mat, outputs=lambda x: T.tile(x, (2, 3))),
            _normal(2, 2),
            grad=True,
        ),
        _case(
            "CumOp/float64/cumsum-axis=0",
            _graph(mat, outputs=lambda x: T.cumsum(x, axis=0)),
            _normal(4, 3),
            grad=True,
        ),
        _case(
            "CumOp/float32/cumsum-flattened",
            _graph(("float32", (None, None, None)), outputs=lambda x: T.cumsum(x)),
            _normal(2, 3, 4, dtype="float32"),
            grad=True,
        ),
        _case(
            "CumOp/float64/cumprod-last-axis",
            _graph(t3, outputs=lambda x: T.cumprod(x, axis=-1)),
            lambda rng: rng.uniform(0.5, 1.5, size=(2, 3, 4)),
            grad=True,
        ),
        _case(
            "CumOp/int32/cumsum-widens",
            _graph(("int32", (None,)), outputs=lambda x: T.cumsum(x)),
            lambda rng: rng.integers(-1000, 1000, size=7).astype("int32"),
        ),
        _case(
            "CumOp/uint8/cumprod-widens",
            _graph(("uint8", (None, None)), outputs=lambda x: T.cumprod(x, axis=1)),
            lambda rng: rng.integers(0, 6, size=(3, 5)).astype("uint8"),
        ),
        _case(
            "CumOp/bool/cumsum-empty-axis",
            _graph(("bool", (None, None)), outputs=lambda x: T.cumsum(x, axis=0)),
            lambda rng: np.zeros((0, 3), dtype=bool),
        ),
        _case(
            "Sort/float64/last-axis-with-nan",
            _graph(mat, outputs=lambda x: T.sort(x)),
            lambda rng: np.where(rng.random((4, 5)) < 0.2, np.nan, rng.normal(size=(4, 5))),
        ),
        _case(
            "Sort/float32/axis=0",
            _graph(("float32", (None, None, None)), outputs=lambda x: T.sort(x, axis=0)),
            _normal(3, 2, 4, dtype="float32"),
            grad=True,
        ),
        _case(
            "Sort/float64/flattened",
            _graph(mat, outputs=lambda x: T.sort(x, axis=None)),
            _normal(3, 4),
            grad=True,
        ),
        _case(
            "Sort/int8/axis=1",
            _graph(("int8", (None, None)), outputs=lambda x: T.sort(x, axis=1)),
            lambda rng: rng.integers(-100, 100, size=(3, 6)).astype("int8"),
        ),
        _case(
            "ArgSort/float64/axis=1",
            _graph(mat, outputs=lambda x: T.argsort(x, axis=1)),
            _normal(4, 6),
        ),
        _case(
            "ArgSort/int32/stable-ties",
            _graph(("int32", (None, None)), outputs=lambda x: T.argsort(x, 0, kind="stable")),
            lambda rng: rng.integers(0, 3, size=(9, 4)).astype("int32"),
        ),
        # linear algebra (well-conditioned matrices; the triangle a solve or factor does
        # not read holds other values)
        _case(
            "MatrixInverse/float64/square",
            _graph(mat, outputs=lambda x: T.nlinalg.matrix_inverse(x)),
            _conditioned(4),
            grad=True,
        ),
        _case(
            "MatrixInverse/float32/transposed",
            _graph(("float32", (None, None)), outputs=lambda x: T.nlinalg.matrix_inverse(x.T)),
            _conditioned(3, dtype="float32"),
        ),
        _case(
            "MatrixInverse/int64/cast",
            _graph(("int64", (None, None)), outputs=lambda x: T.nlinalg.matrix_inverse(x)),
            lambda rng: rng.integers(-2, 3, size=(3, 3)) + 6 * np.eye(3, dtype="int64"),
        ),
        _case(
            "Det/float64/square",
            _graph(mat, outputs=lambda x: T.nlinalg.det(x)),
            _conditioned(4),
            grad=True,
        ),
        _case(
            "Det/float32/square",
            _graph(("float32", (None, None)), outputs=lambda x: T.nlinalg.det(x)),
            _conditioned(3, dtype="float32"),
        ),
        _case(
            "Cholesky/float64/lower",
            _graph(mat, outputs=lambda x: T.slinalg.cholesky(x)),
            _positive_definite(4, garbage="upper"),
            grad=True,
        ),
        _case(
            "Cholesky/float64/upper",
            _graph(mat, outputs=lambda x: T.slinalg.cholesky(x, lower=False)),
            _positive_definite(4, garbage="lower"),
            grad=True,
        ),
        _case(
            "Cholesky/float32/lower",
            _graph(("float32", (None, None)), outputs=lambda x: T.slinalg.cholesky(x)),
            _positive_definite(3, dtype="float32"),
        ),
        _case(
            "Solve/float64/vector",
            _graph(mat, vec, outputs=lambda a, b: T.slinalg.solve(a, b)),
            _conditioned(4),
            _normal(4),
            grad=True,
        ),
        _case(
            "Solve/float64/matrix",
            _graph(mat, mat, outputs=lambda a, b: T.slinalg.solve(a, b)),
            _conditioned(4),
            _normal(4, 2),
            grad=True,
        ),
        _case(
            "Solve/float32/matrix",
            _graph(("float32", (None, None)), ("float32", (None, None)), outputs=T.slinalg.solve),
            _conditioned(3, dtype="float32"),
            _normal(3, 3, dtype="float32"),
        ),
        _case(
            "SolveTriangular/float64/lower-matrix",
            _graph(mat, mat, outputs=lambda a, b: T.slinalg.solve_triangular(a, b, lower=True)),
            _conditioned(4),
            _normal(4, 3),
            grad=True,
        ),
        _case(
            "SolveTriangular/float64/upper-vector",
            _graph(mat, vec, outputs=lambda a, b: T.slinalg.solve_triangular(a, b)),
            _conditioned(4),
            _normal(4),
            grad=True,
        ),
        _case(
            "SolveTriangular/float32/lower-vector",
            _graph(
                ("float32", (None, None)),
                ("float32", (None,)),
                outputs=lambda a, b: T.slinalg.solve_triangular(a, b, lower=True),
            ),
            _conditioned(3, dtype="float32"),
            _normal(3, dtype="float32"),
        ),
        # indexing
        _case(
            "Subtensor/float64/slices",
            _graph(mat, outputs=lambda x: x[1:, ::2]),
            _normal(4, 5),
            grad=True,
        ),
        _case(
            "Subtensor/float64/negative-steps",
            _graph(mat, outputs=lambda x: x[::-1, -1:0:-2]),
            _normal(4, 5),
            grad=True,
        ),
        _case(
            "Subtensor/float64/integers",
            _graph(t3, outputs=lambda x: x[1, :, -1]),
            _normal(2, 3, 4),
            grad=True,
        ),
        _case(
            "Subtensor/float64/symbolic-bounds",
            _graph(mat, ("int64", ()), outputs=lambda x, i: x[i:, i - 1]),
            _normal(4, 5),
            lambda rng: np.asarray(2),
            grad=True,
        ),
        _case(
            "Subtensor/float64/empty-slice",
            _graph(mat, outputs=lambda x: x[3:1]),
            _normal(4, 5),
        ),
        _case(
            "Subtensor/float64/integer-array-repeated",
            _graph(mat, ("int64", (None,)), outputs=lambda x, i: x[i]),
            _normal(4, 3),
            lambda rng: np.array([0, 3, 3, -1, 2]),
            grad=True,
        ),
        _case(
            "Subtensor/float64/integer-arrays-2",
            _graph(mat, ("int64", (None,)), outputs=lambda x, i: x[i, i[::-1]]),
            _normal(4, 4),
            lambda rng: np.array([0, 3, 1, 1]),
            grad=True,
        ),
        _case(
            "Subtensor/float64/boolean-mask",
            _graph(mat, outputs=lambda x: x[x > 0]),
            _normal(4, 5),
            grad=True,
        ),
        _case(
            "IncSubtensor/float64/set-slice",
            _graph(mat, vec, outputs=lambda x, v: T.set_subtensor(x[1:3], v)),
            _normal(4, 3),
            _normal(3),
            grad=True,
        ),
        _case(
            "IncSubtensor/float64/inc-negative-step",
            _graph(mat, mat, outputs=lambda x, v: T.inc_subtensor(x[::-2, 1:], v)),
            _normal(4, 3),
            _normal(2, 2),
            grad=True,
        ),
        _case(
            "IncSubtensor/float64/inc-repeated-indices",
            _graph(vec, vec, ("int64", (None,)), outputs=lambda x, v, i: T.inc_subtensor(x[i], v)),
            _normal(5),
            _normal(6),
            lambda rng: np.array([0, 2, 2, 4, 0, 2]),
            grad=True,
        ),
        _case(
            "IncSubtensor/int32/set-integer",
            _graph(("int32", (None, None)), outputs=lambda x: T.set_subtensor(x[1, -1], 7)),
            lambda rng: np.zeros((3, 4), dtype="int32"),
        ),
        _case(
            "IncSubtensor/float64/set-mask",
            _graph(mat, outputs=lambda x: T.set_subtensor(x[x < 0], 0.0)),
            _normal(3, 4),
        ),
        # loops and fused programs
        _case(
            "Map/float64/jacobian",
            _graph(vec, outputs=lambda x: jacobian(T.tanh(x) * x.sum(), x)),
            _normal(4),
        ),
        _case(
            "Elemwise.composite/float32/mixed-dtypes",
            _graph(("float32", (None, 1)), ("float32", (1, None)), outputs=_composite),
            lambda rng: rng.uniform(-1, 1, size=(3, 1)).astype("float32"),
            lambda rng: rng.uniform(-1, 1, size=(1, 4)).astype("float32"),
        ),
    ]
    return cases


def _crossentropy_softmax(x, targets):
    from croton.ops.nnet import CrossEntropySoftmax

    return CrossEntropySoftmax()(x, targets)


def all_cases() -> list[Case]:
    """Every case of the catalogue, in a stable order."""
    cases = _elemwise_cases() + _reduce_cases() + _other_cases()
    # (the catalogues of ops with modules of their own import this module's helpers)
    from croton.testing import (
        cases_conv,
        cases_ifelse,
        cases_nnet,
        cases_pool,
        cases_random,
        cases_scan,
    )

    cases += cases_ifelse.ifelse_cases() + cases_scan.scan_cases() + cases_conv.conv_cases()
    cases += cases_pool.pool_cases() + cases_random.random_cases() + cases_nnet.nnet_cases()
    duplicated = {i for i, n in Counter(c.id for c in cases).items() if n > 1}
    if duplicated:
        raise AssertionError(f"conformance case ids are not unique: {sorted(duplicated)}")
    return cases
