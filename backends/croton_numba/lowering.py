"""The numba backend's lowering rules: ``rule(op, node, name, context) -> source``.

A rule returns the source of one function called ``name`` that takes the node's input
values (arrays; 0-d arrays for scalars) and returns its output (a tuple for several),
valid in numba's nopython mode. Functions carry no closures and read no globals but
numpy, numba, the generated module's prelude and `croton_numba.mathlib`, so the module
can be cached on disk.

A rule raises `NotLowerable` for a node it cannot compile; such a node runs as a
Python step (the numpy backend's kernel) between jitted segments, and compiling
reports it with a `SegmentWarning`. A rule raises `HostStep` (a `NotLowerable`) for a
node that runs as a Python step by design; compiling does not warn about it.
"""

from __future__ import annotations

from typing import NamedTuple

from croton.backend import LoweringRegistry
from croton.ops.blas import Dot, Gemm, Matmul
from croton.ops.cumulative import CumOp
from croton.ops.elemwise import DimShuffle, Elemwise
from croton.ops.map import Map
from croton.ops.nnet import CrossEntropySoftmax, LogSoftmax, Softmax
from croton.ops.reduce import Argmax, Reduce
from croton.ops.shape import Alloc, ARange, Eye, Join, Repeat, Reshape, Shape, SpecifyShape, Split
from croton.ops.sort import ArgSort, Sort
from croton.ops.subtensor import IncSubtensor, Subtensor
from croton_numba.inlining import call_or_inline, jit_flags
from croton_numba.loops import (
    allocation,
    contiguous_copy,
    decorator,
    elemwise_function,
    reduce_function,
    threaded,
)
from croton_numba.scalar_code import literal, numba_dtype


class NotLowerable(Exception):
    """A node numba's nopython mode cannot run; it becomes a Python step."""


class HostStep(NotLowerable):
    """A node that runs as a Python step by design (no `SegmentWarning`).

    For ops whose numpy kernel is the specification, such as random draws that must
    give numpy's numbers.
    """


registry = LoweringRegistry("numba")
lowers = registry.lowers


def _function(
    name: str, args: list[str], body: list[str], parallel: bool = False, inline: bool = True
) -> str:
    """A kernel's source. ``inline=False`` keeps it a function its segment calls: for
    loops over inner graphs, whose bodies dwarf a call, and which may take more
    arguments than numba's inliner accepts."""
    if not parallel:
        body = [line.replace("numba.prange", "range") for line in body]
    lines = [decorator(parallel, inline=inline), f"def {name}({', '.join(args)}):"]
    return "\n".join(lines + ["    " + line for line in body]) + "\n"


def _as_array(expression: str, dtype: str) -> str:
    """Source making a 0-d array of ``dtype`` from a scalar expression."""
    return f"_scalar_array({expression}, {numba_dtype(dtype)})"


def _check_dtypes(node, programs=(), complex_ok: bool = False, half_ok: bool = False) -> None:
    """Raise `NotLowerable` for dtypes the generated code does not handle.

    Half precision (computed in single precision on float16 bits) only where
    ``half_ok``; complex numbers only where ``complex_ok``.
    """
    dtypes = {v.dtype for v in node.inputs + node.outputs}
    for program in programs:
        dtypes |= {step[2] for step in program}
    for dtype in sorted(dtypes):
        if (dtype == "float16" and not half_ok) or (dtype.startswith("complex") and not complex_ok):
            raise NotLowerable(f"{dtype} arithmetic (numba has no fused loops for it)")


@lowers(Elemwise)
def _elemwise(op, node, name, context):
    programs = [op.scalar_op.program] if hasattr(op.scalar_op, "program") else []
    _check_dtypes(node, programs, complex_ok=True, half_ok=True)
    return elemwise_function(
        name, op, node, context.mathlib, context.threshold, reuse=context.reuse.get(node)
    )


@lowers(Reduce)
def _reduce(op, node, name, context):
    programs = [op.prologue.program] if op.prologue is not None else []
    _check_dtypes(node, programs, complex_ok=op.kind in ("sum", "prod"))
    return reduce_function(name, op, node, context.mathlib, context.threshold)


@lowers(DimShuffle)
def _dimshuffle(op, node, name, context):
    (x,) = node.inputs
    kept = list(op.kept)
    body = []
    value = "x"
    if op.dropped:
        index = ", ".join("0" if d in op.dropped else ":" for d in range(op.input_ndim))
        body.append(f"y = x[{index}]")
        value = "y"
        remaining = sorted(kept)
        kept = [remaining.index(d) for d in kept]
    if not kept and op.dropped:  # every axis dropped: a scalar (a 0-d input stays a view)
        body.append(f"y = {_as_array(value, x.dtype)}")
        value = "y"
    elif kept != sorted(kept):
        body.append(f"y = {_permuted(value, kept)}")
        value = "y"
    for position, d in enumerate(op.new_order):
        if d == "x":
            body.append(f"y = np.expand_dims({value}, {position})")
            value = "y"
    if value == "x":
        body.append("y = x")
    body.append("return y")
    return _function(name, ["x"], body)


def _permuted(value: str, order: list[int]) -> str:
    """A view of ``value`` with its axes in ``order``.

    Not ``np.transpose(value, axes)``: numba compiles that with error-message string
    formatting that costs seconds of every cold compile.
    """
    if order == list(range(len(order)))[::-1]:
        return f"{value}.T"
    shape = ", ".join(f"{value}.shape[{d}]" for d in order)
    strides = ", ".join(f"{value}.strides[{d}]" for d in order)
    return f"np.lib.stride_tricks.as_strided({value}, ({shape},), ({strides},))"


def _float_dtype(dtype: str) -> bool:
    return dtype in ("float32", "float64")


def _operand(name: str, value: str, dtype: str, want: str) -> str:
    """``name = value`` as a BLAS operand: converted only if its dtype differs.

    The products of `croton_numba.blas` take C- and F-ordered arrays as they are (a
    transposed matrix needs no copy) and copy other layouts themselves.
    """
    if dtype == want:
        return f"{name} = {value}"
    return f"{name} = {value}.astype({numba_dtype(want)})"


def _product(target: str, x: str, y: str, x_ndim: int, y_ndim: int, dtype: str) -> list[str]:
    """Lines setting ``target`` to ``numpy.dot(x, y)`` for 1-d and 2-d operands of ``dtype``.

    Floating-point products go to BLAS (`croton_numba.blas`); integers and booleans
    (which BLAS does not take) run as loops, wrapping around on overflow as NumPy's do.
    """
    inner = "0" if y_ndim == 1 else "-2"
    if dtype.startswith(("float", "complex")):
        if x_ndim == 1 and y_ndim == 2:  # v @ y is y.T @ v
            return [f"{target} = _matvec(_layout_free({y}.T), _layout_free({x}))"]
        call = {(2, 2): "_matmul", (2, 1): "_matvec", (1, 1): "_vecdot"}[x_ndim, y_ndim]
        return [f"{target} = {call}(_layout_free({x}), _layout_free({y}))"]
    lines = [
        f"k = {x}.shape[-1]",
        f"if {y}.shape[{inner}] != k:",
        "    raise ValueError('dot: shapes are not aligned')",
    ]
    rows = [f"{x}.shape[0]"] if x_ndim == 2 else []
    columns = [f"{y}.shape[1]"] if y_ndim == 2 else []
    shape = ", ".join(rows + columns)
    lines.append(f"p = np.zeros(({shape}{',' if shape else ''}), dtype={numba_dtype(dtype)})")
    i = ["i"] if x_ndim == 2 else []
    j = ["j"] if y_ndim == 2 else []
    at = ", ".join(i + j) or "()"
    x_at, y_at = ", ".join(i + ["l"]), ", ".join(["l"] + j)
    update = (
        [f"if {x}[{x_at}] and {y}[{y_at}]:", f"    p[{at}] = True"]
        if dtype == "bool"
        else [f"p[{at}] += {x}[{x_at}] * {y}[{y_at}]"]
    )
    loops = [f"for i in range({x}.shape[0]):"] if x_ndim == 2 else []
    loops.append("for l in range(k):")
    if y_ndim == 2:
        loops.append(f"for j in range({y}.shape[1]):")
    for depth, loop in enumerate(loops):
        lines.append("    " * depth + loop)
    lines += ["    " * len(loops) + line for line in update]
    lines.append(f"{target} = p")
    return lines


@lowers(Dot)
def _dot(op, node, name, context):
    a, b = node.inputs
    out = node.outputs[0]
    _check_dtypes(node, complex_ok=True)
    body = [_operand("x", "a", a.dtype, out.dtype), _operand("y", "b", b.dtype, out.dtype)]
    body += _product("p", "x", "y", a.ndim, b.ndim, out.dtype)
    body.append("return p")
    return _function(name, ["a", "b"], body)


@lowers(Gemm)
def _gemm(op, node, name, context):
    out = node.outputs[0]
    c, _, a, b, _ = node.inputs
    if not _float_dtype(out.dtype) or a.ndim != 2 or b.ndim != 2:
        raise NotLowerable("gemm of non-float matrices")
    dtype = numba_dtype(out.dtype)
    # the scaling is a loop over dot's fresh result, not an array expression: numba
    # compiles broadcasting expressions slowly, and this allocates nothing more
    body = [
        _operand("x", "a", a.dtype, out.dtype),
        _operand("y", "b", b.dtype, out.dtype),
        "out = _matmul(_layout_free(x), _layout_free(y))",
        "n, m = out.shape",
    ]
    for axis, length in enumerate(("n", "m")):
        if c.type.shape[axis] != 1:
            body += [
                f"if c.shape[{axis}] != {length}:",
                f"    raise ValueError('Gemm: C and dot(A, B) differ along axis {axis}')",
            ]
    row = "0" if c.type.shape[0] == 1 else "i"
    column = "0" if c.type.shape[1] == 1 else "j"
    body += [
        f"scale, shift = {dtype}(alpha[()]), {dtype}(beta[()])",
        "for i in range(n):",
        "    for j in range(m):",
        f"        out[i, j] = shift * c[{row}, {column}] + scale * out[i, j]",
        "return out",
    ]
    return _function(name, ["c", "alpha", "a", "b", "beta"], body)


@lowers(Matmul)
def _matmul(op, node, name, context):
    a, b = node.inputs
    out = node.outputs[0]
    if a.ndim == 2:
        return _dot(op, node, name, context)
    _check_dtypes(node, complex_ok=True)
    batch = a.ndim - 2
    body = [_operand("x", "a", a.dtype, out.dtype), _operand("y", "b", b.dtype, out.dtype)]
    for axis in range(batch):
        owners = [v for v, t in (("x", a.type), ("y", b.type)) if t.shape[axis] != 1]
        body.append(f"n{axis} = {owners[0]}.shape[{axis}]" if owners else f"n{axis} = 1")
        if len(owners) == 2:
            body += [
                f"if y.shape[{axis}] != n{axis}:",
                f"    raise ValueError('matmul batch axes do not match along axis {axis}: lengths "
                f"of unknown static size do not broadcast at run time')",
            ]
    body += [
        "if y.shape[-2] != x.shape[-1]:",
        "    raise ValueError('matmul: shapes are not aligned')",
        "rows, columns = x.shape[-2], y.shape[-1]",
    ]
    batch_shape = "".join(f"n{d}, " for d in range(batch))
    body.append(allocation("out", f"({batch_shape}rows, columns)", numba_dtype(out.dtype)))
    for d in range(batch):
        body.append("    " * d + f"for i{d} in range(n{d}):")
    index = ", ".join(f"i{d}" for d in range(batch))
    pick = {
        v: ", ".join("0" if t.shape[d] == 1 else f"i{d}" for d in range(batch))
        for v, t in (("x", a.type), ("y", b.type))
    }
    step = [f"xs = x[{pick['x']}]", f"ys = y[{pick['y']}]"]
    step += _product("p", "xs", "ys", 2, 2, out.dtype)
    step.append(f"out[{index}] = p")
    body += ["    " * batch + line for line in step]
    body.append("return out")
    return _function(name, ["a", "b"], body)


@lowers(Softmax, LogSoftmax)
def _softmax(op, node, name, context):
    """Softmax along any axis: per line along it, its peak, the sum of shifted exps, the
    result. The outer axes loop in order (the first one on threads when large)."""
    (x,) = node.inputs
    _check_dtypes(node)
    ndim, axis = x.ndim, op.axis % x.ndim
    dtype = node.outputs[0].dtype
    exp = context.mathlib.get(("exp", dtype), "np.exp")
    log = context.mathlib.get(("log", "float64"), "np.log")  # of the float64 total
    at = ", ".join("j" if d == axis else f"i{d}" for d in range(ndim))
    outer = [d for d in range(ndim) if d != axis]
    body = [allocation("out", "x.shape", numba_dtype(dtype)), f"m = x.shape[{axis}]"]
    for depth, d in enumerate(outer):
        loop = "numba.prange" if depth == 0 else "range"
        body.append("    " * depth + f"for i{d} in {loop}(x.shape[{d}]):")
    if isinstance(op, LogSoftmax):
        finish = [
            f"lt = {log}(total)",
            "for j in range(m):",
            f"    out[{at}] = x[{at}] - top - lt",
        ]
    else:
        finish = ["for j in range(m):", f"    out[{at}] = {exp}(x[{at}] - top) / total"]
    typed = numba_dtype(dtype)
    line = [
        f"top = {typed}(-np.inf)",
        "for j in range(m):",
        f"    if x[{at}] > top or x[{at}] != x[{at}]:",
        f"        top = x[{at}]",
        "if top == -np.inf:",
        f"    top = {typed}(0.0)",
        "total = 0.0",
        "for j in range(m):",
        f"    total += {exp}(x[{at}] - top)",
        *finish,
    ]
    body += ["    " * len(outer) + text for text in line]
    body.append("return out")
    body, parallel = threaded(body, "x.size", context.threshold)
    return _function(name, ["x"], body, parallel=parallel)


@lowers(CrossEntropySoftmax)
def _crossentropy_softmax(op, node, name, context):
    x, _ = node.inputs
    if not _float_dtype(x.dtype):
        raise NotLowerable("crossentropy of half precision")
    dtype = numba_dtype(node.outputs[0].dtype)
    body = [
        "n, m = x.shape",
        "if t.shape[0] != n:",
        "    raise ValueError('CrossEntropySoftmax: one target per row of logits is needed')",
        "for i in range(n):",
        "    if t[i] < 0 or t[i] >= m:",
        "        raise IndexError('CrossEntropySoftmax: a target is out of range')",
        f"out = _empty(n, dtype={dtype})",
        "for i in numba.prange(n):",
        "    top = -np.inf",
        "    for j in range(m):",
        "        if x[i, j] > top:",
        "            top = x[i, j]",
        "    total = 0.0",
        "    for j in range(m):",
        "        total += np.exp(x[i, j] - top)",
        "    out[i] = top + np.log(total) - x[i, t[i]]",
        "return out",
    ]
    body, parallel = threaded(body, "x.size", context.threshold)
    return _function(name, ["x", "t"], body, parallel=parallel)


@lowers(Shape)
def _shape(op, node, name, context):
    ndim = node.inputs[0].ndim
    body = [f"out = _empty({ndim}, dtype=np.int64)"]
    body += [f"out[{d}] = x.shape[{d}]" for d in range(ndim)]
    body.append("return out")
    return _function(name, ["x"], body)


@lowers(Reshape)
def _reshape(op, node, name, context):
    shape = ", ".join(f"s[{d}]" for d in range(op.ndim))
    body = [
        f"if s.shape[0] != {op.ndim}:",
        "    raise ValueError('reshape: the shape has the wrong length')",
    ]
    if op.ndim == 0:
        body.append(f"return {_as_array('x.ravel()[0]', node.outputs[0].dtype)}")
        return _function(name, ["x", "s"], body)
    x = node.inputs[0]
    if x.ndim == 0:
        body.append(f"return x.reshape(({shape},))")
        return _function(name, ["x", "s"], body)
    body += contiguous_copy("contiguous", "x", x.ndim, context.threshold)
    body.append(f"return contiguous.reshape(({shape},))")
    parallel = context.threshold is not None
    return _function(name, ["x", "s"], body, parallel=parallel)


@lowers(SpecifyShape)
def _specify_shape(op, node, name, context):
    body = []
    for d, length in enumerate(op.shape):
        if length is not None:
            body += [
                f"if x.shape[{d}] != {int(length)}:",
                f"    raise ValueError('SpecifyShape: axis {d} should have length {int(length)}')",
            ]
    body.append("return x")
    return _function(name, ["x"] + [f"s{k}" for k in range(len(node.inputs) - 1)], body)


@lowers(Alloc)
def _alloc(op, node, name, context):
    value, *shape = node.inputs
    out = node.outputs[0]
    if out.ndim == 0:
        return _function(name, ["v"], [f"return {_as_array('v[()]', out.dtype)}"])
    lengths = [f"s{k}" for k in range(len(shape))]
    dims = ", ".join(f"{s}[()]" for s in lengths)
    lead = out.ndim - value.ndim
    body = [allocation("out", f"({dims},)", numba_dtype(out.dtype))]
    if value.ndim == 0:
        body.append("out.fill(v[()])")
    else:
        checks = []
        for d in range(value.ndim):
            checks += [
                f"if v.shape[{d}] != 1 and v.shape[{d}] != out.shape[{lead + d}]:",
                "    raise ValueError('alloc: the value does not broadcast to the shape')",
            ]
        body += checks
        body.append("out[...] = np.broadcast_to(v, out.shape)")
    body.append("return out")
    return _function(name, ["v"] + lengths, body)


@lowers(Join)
def _join(op, node, name, context):
    args = [f"a{k}" for k in range(len(node.inputs))]
    if node.outputs[0].ndim == 0 or len(args) < 1:
        raise NotLowerable("a join of scalars")
    out = node.outputs[0]
    axis = op.axis % out.ndim
    body = [f"total = {' + '.join(f'{a}.shape[{axis}]' for a in args)}"]
    for a in args[1:]:
        for d in range(out.ndim):
            if d != axis:
                body += [
                    f"if {a}.shape[{d}] != {args[0]}.shape[{d}]:",
                    f"    raise ValueError('join: the inputs differ in length along axis {d}')",
                ]
    shape = ", ".join("total" if d == axis else f"{args[0]}.shape[{d}]" for d in range(out.ndim))
    body += [allocation("out", f"({shape},)", numba_dtype(out.dtype)), "at = 0"]
    lead = ":, " * axis
    for a in args:
        body += [f"out[{lead}at:at + {a}.shape[{axis}]] = {a}", f"at += {a}.shape[{axis}]"]
    body.append("return out")
    return _function(name, args, body)


@lowers(ARange)
def _arange(op, node, name, context):
    _check_dtypes(node)
    dtype = numba_dtype(op.dtype)
    body = [
        "if step[()] == 0:",
        '    raise ValueError("arange step must not be zero")',
        f"return np.arange(start[()], stop[()], step[()]).astype({dtype})",
    ]
    return _function(name, ["start", "stop", "step"], body)


@lowers(Eye)
def _eye(op, node, name, context):
    _check_dtypes(node)
    dtype = numba_dtype(op.dtype)
    body = [
        "if n[()] < 0 or m[()] < 0:",
        "    raise ValueError('eye: negative dimensions are not allowed')",
        f"out = np.zeros((n[()], m[()]), dtype={dtype})",
        "for i in range(out.shape[0]):",
        "    j = i + k[()]",
        "    if 0 <= j < out.shape[1]:",
        "        out[i, j] = 1",
        "return out",
    ]
    return _function(name, ["n", "m", "k"], body)


def _basic_index(spec, first_input: int) -> tuple[list[str], list[str], list[str]] | None:
    """The entries of a basic index (ints and slices) of ``x``, its index argument names,
    and lines checking that its integers are in bounds (numba does not check)."""
    entries, names, checks = [], [], []

    def bound(entry):
        if entry is None:
            return ""
        if entry == "in":
            names.append(f"i{first_input + len(names)}")
            return f"{names[-1]}[()]"
        return str(int(entry))

    for axis, entry in enumerate(spec):
        if entry[0] == "int":
            entries.append(bound(entry[1]))
            checks += [
                f"if not -x.shape[{axis}] <= {entries[-1]} < x.shape[{axis}]:",
                f"    raise IndexError('index out of bounds for axis {axis}')",
            ]
        elif entry[0] == "slice":
            start, stop, step = (bound(e) for e in entry[1:])
            entries.append(f"{start}:{stop}" + (f":{step}" if step else ""))
        else:
            return None
    return entries, names, checks


@lowers(Subtensor)
def _subtensor(op, node, name, context):
    """Basic indexing (integers and slices, symbolic bounds too) as a view; advanced
    indexing by `_gather`."""
    basic = _basic_index(op.spec, 0)
    if basic is None:
        return _gather(op, node, name)
    entries, names, body = basic
    out = node.outputs[0]
    expression = f"x[{', '.join(entries)},]" if entries else "x"
    if out.ndim == 0:
        body.append(f"return {_as_array(expression, out.dtype)}")
    else:
        body.append(f"return {expression}")
    return _function(name, ["x"] + names, body)


class _Advanced:
    """An index with integer arrays, masks and integers next to each other (slices around
    them), as code: ``lines`` take the view ``v`` of ``source`` that applies the slices
    and keeps the advanced axes, make one int64 vector per indexed axis (a mask stands
    for the positions it selects, an integer for a vector of one) and their broadcast
    length ``n``; ``pick`` is the loop body setting ``p<axis>`` to position ``k`` of each
    vector, checked and wrapped; ``target`` is the slab they select. Anything else
    raises `NotLowerable`.
    """

    def __init__(self, spec, index_inputs, source: str, first_argument: int):
        kinds = [entry[0] for entry in spec]
        advanced = [k for k, kind in enumerate(kinds) if kind in ("array", "mask", "int")]
        if advanced != list(range(advanced[0], advanced[-1] + 1)):
            raise NotLowerable("advanced indices separated by slices")
        self.arguments, view, body, self.vectors = [], [], [], []

        def argument() -> tuple[str, int]:
            position = len(self.arguments)
            self.arguments.append(f"b{first_argument + position}")
            return self.arguments[-1], index_inputs[position].ndim

        def vector(axis: int, source_line: str) -> None:
            body.append(f"j{len(self.vectors)} = {source_line}")
            self.vectors.append((f"j{len(self.vectors)}", axis))

        for entry in spec:
            if entry[0] == "slice":
                bounds = [
                    f"{argument()[0]}[()]" if b == "in" else ("" if b is None else str(int(b)))
                    for b in entry[1:]
                ]
                view.append(f"{bounds[0]}:{bounds[1]}" + (f":{bounds[2]}" if bounds[2] else ""))
            elif entry[0] == "int":
                view.append(":")
                value = f"{argument()[0]}[()]" if entry[1] == "in" else str(int(entry[1]))
                vector(len(view) - 1, f"np.full(1, {value}, dtype=np.int64)")
            elif entry[0] == "array":
                view.append(":")
                name, ndim = argument()
                if ndim != 1:
                    raise NotLowerable("advanced indexing by arrays of more than one dimension")
                vector(len(view) - 1, name)
            else:  # a mask over as many axes as it has dimensions
                name, ndim = argument()
                axes = list(range(len(view), len(view) + ndim))
                view += [":"] * ndim
                for d, axis in enumerate(axes):
                    body += [
                        f"if {name}.shape[{d}] != v.shape[{axis}]:",
                        "    raise IndexError('boolean index did not match the indexed axes')",
                    ]
                body.append(f"nz{axes[0]} = np.nonzero({name})")
                for d, axis in enumerate(axes):
                    vector(axis, f"nz{axes[0]}[{d}]")
        self.first = self.vectors[0][1]
        self.after = self.first + len(self.vectors)
        self.lines = [f"v = {source}[{', '.join(view)},]"] + body + ["n = 1"]
        for name, _ in self.vectors:
            self.lines += [
                f"if {name}.shape[0] != 1:",
                f"    if n != 1 and {name}.shape[0] != n:",
                "        raise IndexError('shape mismatch: indexing arrays could not be "
                "broadcast together')",
                f"    n = {name}.shape[0]",
            ]
        self.pick = []
        for name, axis in self.vectors:
            self.pick += [
                f"p{axis} = np.int64({name}[k if {name}.shape[0] != 1 else 0])",
                f"if p{axis} < 0:",
                f"    p{axis} += v.shape[{axis}]",
                f"if p{axis} < 0 or p{axis} >= v.shape[{axis}]:",
                "    raise IndexError('index out of bounds')",
            ]
        self.lead = ":, " * self.first
        self.target = f"v[{self.lead}{', '.join(f'p{axis}' for _, axis in self.vectors)}]"


def _gather(op, node, name):
    """``x[index]`` with advanced indices (`_Advanced`): a loop over the broadcast index
    positions copying one slab each."""
    x, out = node.inputs[0], node.outputs[0]
    index = _Advanced(op.spec, node.inputs[1:], "x", 1)
    shape = "".join(f"v.shape[{d}], " for d in range(index.first)) + "n, "
    shape += "".join(f"v.shape[{d}], " for d in range(index.after, x.ndim))
    body = index.lines + [allocation("out", f"({shape})", numba_dtype(out.dtype))]
    body += ["for k in range(n):", *["    " + line for line in index.pick]]
    body += [f"    out[{index.lead}k] = {index.target}", "return out"]
    return _function(name, ["x"] + index.arguments, body)


def _scatter(op, node, name):
    """``x[index] = y`` or ``+= y`` with advanced indices (`_Advanced`) on a copy of
    ``x``; repeated positions accumulate. ``y`` is a scalar or has the result's rank
    (length 1 broadcasting along the indexed block)."""
    x, y = node.inputs[:2]
    operator = "=" if op.set_instead_of_inc else "+="
    index = _Advanced(op.spec, node.inputs[2:], "out", 2)
    rank = index.first + 1 + (x.ndim - index.after)
    body = _copied("x") + index.lines
    if y.ndim == 0:
        value = "y[()]"
    elif y.ndim == rank:
        body += [
            f"if y.shape[{index.first}] != 1 and y.shape[{index.first}] != n:",
            "    raise ValueError('shape mismatch: the value does not match the indices')",
        ]
        value = f"y[{index.lead}k if y.shape[{index.first}] != 1 else 0]"
    else:
        raise NotLowerable("a value of another rank than the indexed result")
    body += ["for k in range(n):", *["    " + line for line in index.pick]]
    body += [f"    {index.target} {operator} {value}", "return out"]
    return _function(name, ["x", "y"] + index.arguments, body)


def _copied(x: str) -> list[str]:
    """Lines setting ``out`` to a C-contiguous copy of ``x``. (Not a new array advised
    huge pages and ``out[...] = x``: numba's compile of that assignment added 5 s to
    the cold compile of the MLP training step.)"""
    return [f"out = {x}.copy()"]


@lowers(IncSubtensor)
def _incsubtensor(op, node, name, context):
    """``x[index] = y`` or ``+= y`` on a copy of ``x``: basic indices as a slice
    assignment, advanced ones by `_scatter`."""
    x, y = node.inputs[:2]
    operator = "=" if op.set_instead_of_inc else "+="
    if not op.set_instead_of_inc:
        _check_dtypes(node, complex_ok=True)  # (adding float16 bits would be wrong)
    elif x.dtype != y.dtype:
        _check_dtypes(node, complex_ok=True)  # (a value converted to float16 bits)
    basic = _basic_index(op.spec, 0)
    body = _copied("x")
    if basic is not None:
        entries, names, checks = basic
        body = checks + body
        target = f"out[{', '.join(entries)},]" if entries else "out[...]"
        if y.ndim == 0:
            body.append(f"{target} {operator} y[()]")
        else:
            # (numba's slice assignment does not check that y broadcasts to the slice)
            body.append(f"t = {target}")
            lead = node.outputs[0].ndim - sum(e[0] == "int" for e in op.spec) - y.ndim
            for d in range(y.ndim):
                body += [
                    f"if y.shape[{d}] != 1 and y.shape[{d}] != t.shape[{lead + d}]:",
                    "    raise ValueError('shape mismatch: the value does not broadcast to "
                    "the indexed part of x')",
                ]
            body.append(f"{target} {operator} y")
        body.append("return out")
        return _function(name, ["x", "y"] + names, body)
    return _scatter(op, node, name)


def _axis_index(ndim: int, axis: int, entry: str) -> str:
    return ", ".join(entry if d == axis else ":" for d in range(ndim))


@lowers(Argmax)
def _argmax(op, node, name, context):
    """The first index of the extreme along an axis (nan counts as the extreme, as in
    NumPy), any rank, booleans and integers included."""
    (x,) = node.inputs
    _check_dtypes(node)
    compare = ">" if op.kind == "max" else "<"
    better = f"best == best and (v {compare} best or v != v)"
    empty = f"    raise ValueError('attempt to get arg{op.kind} of an empty sequence')"
    if op.axis is None or x.ndim <= 1:
        body = ["flat = x.ravel()", "if flat.shape[0] == 0:", empty, "best, at = flat[0], 0"]
        body += ["for j in range(1, flat.shape[0]):", "    v = flat[j]", f"    if {better}:"]
        body += ["        best, at = v, j", f"return {_as_array('at', 'int64')}"]
        return _function(name, ["x"], body)
    axis = op.axis % x.ndim
    outer = [d for d in range(x.ndim) if d != axis]
    shape = "".join(f"x.shape[{d}], " for d in outer)
    at = ", ".join("j" if d == axis else f"i{d}" for d in range(x.ndim))
    first = ", ".join("0" if d == axis else f"i{d}" for d in range(x.ndim))
    body = [f"if x.shape[{axis}] == 0:", empty, f"out = _empty(({shape}), dtype=np.int64)"]
    for depth, d in enumerate(outer):
        loop = "numba.prange" if depth == 0 else "range"
        body.append("    " * depth + f"for i{d} in {loop}(x.shape[{d}]):")
    if axis == x.ndim - 1 and x.dtype in _ORDERED_BITS:
        inner = _first_extreme_of_float_row(op.kind, x.dtype, at)
    elif axis == x.ndim - 1:
        inner = _first_extreme_of_row(op.kind, x.dtype, at, first)
    else:
        inner = [f"best, position = x[{first}], 0", f"for j in range(1, x.shape[{axis}]):"]
        inner += [f"    v = x[{at}]", f"    if {better}:", "        best, position = v, j"]
    inner.append(f"out[{', '.join(f'i{d}' for d in outer)}] = position")
    body += ["    " * len(outer) + line for line in inner]
    body.append("return out")
    body, parallel = threaded(body, "x.size", context.threshold)
    return _function(name, ["x"], body, parallel=parallel)


# float dtype: (its bits as a signed integer, the bits of +inf)
_ORDERED_BITS = {"float32": ("int32", 0x7F800000), "float64": ("int64", 0x7FF0000000000000)}


def _first_extreme_of_float_row(kind: str, dtype: str, at: str) -> list[str]:
    """Lines setting ``position`` to the first index of a float row's extreme (its first
    nan, if it has one), with integer arithmetic that vectorizes.

    LLVM vectorizes no float maximum that keeps nan (nor, in numba, one that ignores
    it). Each float's bits become an integer key ordered as the floats are: the
    magnitude bits, negated for a negative sign (so -0.0 and 0.0 share key 0), and a
    magnitude above +inf's is a nan. Blocks of keys are reduced to their extreme and
    their largest magnitude, both in vector lanes; the first block with a nan, or else
    the first block holding the extreme, is then searched for the first matching index
    (a minimum of indices, also in lanes). Blocks are of 64 keys in rows shorter than
    4096, of 256 in longer ones: the search costs a block, each block a reduction of
    its lanes (on rows of 100, 64 took 0.8-0.85x the time of 128; on rows of 100000,
    256 took 0.85-0.9x the time of 128).
    """
    integer, infinity = _ORDERED_BITS[dtype]
    width = int(integer[3:])
    magnitude = f"np.{integer}({2 ** (width - 1) - 1})"  # (also the largest key)
    start = magnitude if kind == "min" else f"np.{integer}({-(2 ** (width - 1))})"
    compare = ">" if kind == "max" else "<"
    key = [
        f"    bits = np.{dtype}(x[{at}]).view(np.{integer})",
        f"    mag = np.{integer}(bits & {magnitude})",
        f"    sign = np.{integer}(bits >> np.{integer}({width - 1}))",
        f"    key = np.{integer}(np.{integer}(mag ^ sign) - sign)",
    ]
    infinity = f"np.{integer}({infinity})"
    return [
        "m = x.shape[-1]",
        "size = 64 if m < 4096 else 256",
        f"best, block, found_nan = {start}, 0, False",
        "for b0 in range(0, m, size):",
        f"    q, largest = {start}, np.{integer}(0)",
        "    for j in range(np.uint64(b0), np.uint64(min(b0 + size, m))):",
        *["    " + line for line in key],
        f"        q = key if key {compare} q else q",
        "        largest = mag if mag > largest else largest",
        f"    if largest > {infinity}:",
        "        block, found_nan = b0, True",
        "        break",
        f"    if q {compare} best:",
        "        best, block = q, b0",
        "position = np.uint64(m)",
        "for j in range(np.uint64(block), np.uint64(min(block + size, m))):",
        *key,
        f"    hit = mag > {infinity} if found_nan else key == best",
        "    here = j if hit else np.uint64(m)",
        "    position = here if here < position else position",
    ]


def _first_extreme_of_row(kind: str, dtype: str, at: str, first: str) -> list[str]:
    """Lines setting ``position`` to the first index of a row's extreme (its first nan,
    if it has one) in two passes: the extreme in four lanes that do not wait on each
    other, then the first element equal to it."""
    compare = ">" if kind == "max" else "<"
    inexact = dtype.startswith(("float", "complex"))
    nan = " or v != v" if inexact else ""
    lanes = ["q0", "q1", "q2", "q3"]
    lines = [f"{' = '.join(lanes)} = x[{first}]", "m = x.shape[-1]", "full = m - m % 4"]
    lines.append("for j0 in range(0, full, 4):")
    for k, lane in enumerate(lanes):  # (selects, not branches: they vectorize)
        lines += [f"    j = j0 + {k}", f"    v = x[{at}]"]
        lines.append(f"    {lane} = v if v {compare} {lane}{nan} else {lane}")
    lines += ["for j in range(full, m):", f"    v = x[{at}]", f"    if v {compare} q0{nan}:"]
    lines.append("        q0 = v")
    lines.append("best = q0")
    for lane in lanes[1:]:
        lines += [f"if {lane} {compare} best{' or ' + lane + ' != ' + lane if inexact else ''}:"]
        lines.append(f"    best = {lane}")
    if inexact:
        lines.append("found = best != best")  # a nan: the first nan
        equal = "(v != v if found else v == best)"
    else:
        equal = "v == best"
    lines += ["position = 0", "for j in range(m):", f"    v = x[{at}]", f"    if {equal}:"]
    lines += ["        position = j", "        break"]
    return lines


@lowers(CumOp)
def _cumulative(op, node, name, context):
    """In memory order: the output as (before, along, after) the axis, each of its rows
    along the axis adds (or multiplies) the input's row into the previous one."""
    (x,), (out,) = node.inputs, node.outputs
    _check_dtypes(node)
    axis, symbol = op.axis, "+" if op.mode == "add" else "*"
    before = " * ".join(f"x.shape[{d}]" for d in range(axis)) or "1"
    after = " * ".join(f"x.shape[{d}]" for d in range(axis + 1, x.ndim)) or "1"
    body = [
        allocation("out", "x.shape", numba_dtype(out.dtype)),
        f"m = x.shape[{axis}]",
        "if out.size > 0:",
        *["    " + line for line in contiguous_copy("contiguous", "x", x.ndim, None)],
        f"    o = out.reshape(({before}, m, {after}))",
        f"    v = contiguous.reshape(({before}, m, {after}))",
        "    for p in range(o.shape[0]):",
        "        o[p, 0] = v[p, 0]",
        "        for i in range(1, m):",
        "            for q in range(o.shape[2]):",
        f"                o[p, i, q] = o[p, i - 1, q] {symbol} v[p, i, q]",
        "return out",
    ]
    return _function(name, ["x"], body)


@lowers(Sort, ArgSort)
def _sort(op, node, name, context):
    """NumPy's own sort in a host step, but in an inner graph (a scan's step, a Map's).

    NumPy sorts numbers with vectorized sorting networks, 3 to 9 times numba's quicksort
    on rows of 2000; a host step costs microseconds. In an inner graph, where a host
    step would make the whole loop one, each line along the axis is sorted by numba's
    ``np.sort``/``np.argsort`` (nan last, as NumPy): the axis is moved last and the
    lines are the rows of a contiguous copy. ``argsort`` is a merge sort for the stable
    kinds, numba's quicksort otherwise (ties may come in another order than NumPy's)."""
    (x,), (out,) = node.inputs, node.outputs
    if context.outer:
        raise HostStep("NumPy's vectorized sort")
    _check_dtypes(node)
    axis, ndim = op.axis, x.ndim
    order = [d for d in range(ndim) if d != axis] + [axis]
    back = [order.index(d) for d in range(ndim)]
    if isinstance(op, Sort):
        line = "np.sort(rows[r])"
    else:
        kind = "mergesort" if op.kind in ("mergesort", "stable") else "quicksort"
        line = f"np.argsort(rows[r], kind='{kind}')"
    moved = f"x.transpose(({', '.join(map(str, order))},))" if ndim > 1 else "x"
    restored = f"result.transpose(({', '.join(map(str, back))},))" if ndim > 1 else "result"
    body = [
        f"moved = {moved}",
        *contiguous_copy("contiguous", "moved", ndim, None),
        f"rows = contiguous.reshape((-1, x.shape[{axis}]))",
        allocation("done", "rows.shape", numba_dtype(out.dtype)),
        "for r in range(rows.shape[0]):",
        f"    done[r] = {line}",
        "result = done.reshape(moved.shape)",
        f"restored = {restored}",
        *contiguous_copy("sorted_", "restored", ndim, None),
        "return sorted_",
    ]
    return _function(name, ["x"], body)


@lowers(Split)
def _split(op, node, name, context):
    x = node.inputs[0]
    axis = op.axis % x.ndim
    body = [
        f"if s.shape[0] != {op.n_splits}:",
        f"    raise ValueError('split: expected {op.n_splits} lengths')",
        "total = 0",
        f"for k in range({op.n_splits}):",
        "    if s[k] < 0:",
        "        raise ValueError('split: lengths must not be negative')",
        "    total += s[k]",
        f"if total != x.shape[{axis}]:",
        "    raise ValueError('split: the lengths do not add up to the length of the axis')",
        "start = 0",
    ]
    pieces = []
    for k in range(op.n_splits):
        body += [
            f"p{k} = x[{_axis_index(x.ndim, axis, f'start:start + s[{k}]')},]",
            f"start += s[{k}]",
        ]
        pieces.append(f"p{k}")
    body.append(f"return ({', '.join(pieces)},)" if len(pieces) > 1 else f"return {pieces[0]}")
    return _function(name, ["x", "s"], body)


@lowers(Repeat)
def _repeat(op, node, name, context):
    x, repeats = node.inputs
    if op.axis is None or x.ndim == 0:
        raise NotLowerable("repeat of a flattened array")
    axis = op.axis % x.ndim
    out = node.outputs[0]
    length = f"x.shape[{axis}]"
    shape = ", ".join(f"x.shape[{d}]" if d != axis else "total" for d in range(x.ndim))
    if repeats.ndim == 0:
        body = [
            "r = repeats[()]",
            "if r < 0:",
            "    raise ValueError('repeat: negative repeats')",
            f"total = {length} * r",
            allocation("out", f"({shape},)", numba_dtype(out.dtype)),
            "for i in range(total):",
            f"    out[{_axis_index(x.ndim, axis, 'i')},] = x[{_axis_index(x.ndim, axis, 'i // r')},]",
        ]
    else:
        body = [
            f"if repeats.shape[0] != {length}:",
            "    raise ValueError('repeat: one count per element of the axis is needed')",
            "total = 0",
            f"for k in range({length}):",
            "    if repeats[k] < 0:",
            "        raise ValueError('repeat: negative repeats')",
            "    total += repeats[k]",
            allocation("out", f"({shape},)", numba_dtype(out.dtype)),
            "i = 0",
            f"for k in range({length}):",
            "    for _ in range(repeats[k]):",
            f"        out[{_axis_index(x.ndim, axis, 'i')},] = x[{_axis_index(x.ndim, axis, 'k')},]",
            "        i += 1",
        ]
    body.append("return out")
    return _function(name, ["x", "repeats"], body)


@lowers(Map)
def _map(op, node, name, context):
    """A loop calling the inner graph, compiled as one more jitted function, at every
    index; the first step gives the results' shapes (the others must match)."""
    inner = f"{name}_inner"
    functions, call = _inner_graph(op, inner, context)
    outputs = op.inner_outputs
    arguments = ["n_steps"] + [f"a{k}" for k in range(1, len(node.inputs))]
    invariants = "".join(f", {a}" for a in arguments[1:])
    body = ["n = n_steps[()]", "if n <= 0:"]
    for k, (out, inner_out) in enumerate(zip(node.outputs, outputs)):
        lengths = "".join(f"{0 if s is None else s}, " for s in inner_out.type.shape)
        body.append(f"    out{k} = _empty((0, {lengths}), dtype={numba_dtype(out.dtype)})")
    body += ["else:", f"    first = {call('_scalar_array(0, np.int64)', invariants)}"]
    for k, (out, inner_out) in enumerate(zip(node.outputs, outputs)):
        element = "[()]" if inner_out.ndim == 0 else ""
        body += [
            "    " + allocation(f"out{k}", f"(n,) + first[{k}].shape", numba_dtype(out.dtype)),
            f"    out{k}[0] = first[{k}]{element}",
        ]
    body += [
        "    for i in range(1, n):",
        f"        step = {call('_scalar_array(i, np.int64)', invariants)}",
    ]
    for k, inner_out in enumerate(outputs):
        element = "[()]" if inner_out.ndim == 0 else ""
        body += [
            f"        if step[{k}].shape != first[{k}].shape:",
            "            raise ValueError('Map: the steps give results of different shapes')",
            f"        out{k}[i] = step[{k}]{element}",
        ]
    results = ", ".join(f"out{k}" for k in range(len(outputs)))
    body.append(f"return ({results},)" if len(outputs) > 1 else f"return {results}")
    return _function(name, arguments, body, inline=False) + "\n\n" + functions


class InnerBody(NamedTuple):
    """An inner graph's nodes as statements: its kernels' bodies written in order."""

    functions: list  # the kernels that stay functions the statements call
    parameters: list  # the names of the inner inputs
    statements: list
    results: list  # the names (or constants' names) of the inner outputs
    kernels: list  # every node's kernel source (what `jit_flags` reads)


def inner_body(op, name: str, context, what: str = "a Map", prefix: str = "") -> InnerBody:
    """The statements running an inner graph (a Map's, a scan's step, an `IfElse`
    branch): its nodes lowered by these rules and written one after the other, constants
    written into the source. Values are named ``{prefix}v0, {prefix}v1, ...``."""
    from croton.graph.basic import Constant
    from croton.graph.traversal import toposort

    names = {var: f"{prefix}v{k}" for k, var in enumerate(op.inner_inputs)}
    functions, lines, kernels = [], [], []
    serial = type(context)(context.mathlib, None, {}, outer=False)

    def constant(var):
        names[var] = f"{prefix}c{len(names)}"
        lines.append(f"{names[var]} = {_constant_source(var)}")

    for j, node in enumerate(toposort(op.inner_outputs, stop_at=op.inner_inputs)):
        for var in node.inputs:
            if var not in names:
                if not isinstance(var, Constant):
                    raise NotLowerable(f"{what} whose inner graph reads a variable not given")
                constant(var)
        rule = registry.lookup(node.op)
        if rule is None:
            raise NotLowerable(f"{what} whose inner graph has {node.op}")
        source = rule(node.op, node, f"{name}_{j}", serial)
        for out in node.outputs:
            names[out] = f"{prefix}v{len(names)}"
        called, statements = call_or_inline(
            source,
            f"{name}_{j}",
            [names[v] for v in node.inputs],
            [names[out] for out in node.outputs],
        )
        kernels.append(source)
        functions += called
        lines += statements
    for var in op.inner_outputs:
        if var not in names:
            constant(var)
    return InnerBody(
        functions,
        [names[v] for v in op.inner_inputs],
        lines,
        [names[v] for v in op.inner_outputs],
        kernels,
    )


def _inner_graph(op, name: str, context, what: str = "a Map"):
    """The source of ``name(index, *invariants)``, a jitted function running a Map's inner
    graph (`inner_body`), and a function making the source of a call to it."""
    body = inner_body(op, name, context, what)
    lines = body.statements + [f"return ({', '.join(body.results)},)"]
    source = "\n".join(
        [
            f"@numba.njit({jit_flags(body.kernels, cache=False)})",
            f"def {name}({', '.join(body.parameters)}):",
        ]
        + ["    " + line for line in lines]
    )
    return "\n\n".join(
        body.functions + [source]
    ) + "\n", lambda index, rest: f"{name}({index}{rest})"


def _constant_source(var) -> str:
    """A small constant as source (an array built from its values)."""
    import numpy as np

    data = np.asarray(var.data)
    if data.size > 64:
        raise NotLowerable("a Map whose inner graph holds a large constant")
    if data.dtype == np.float16:
        data = data.view(np.uint16)  # (float16 arrays hold their bits)
    dtype = numba_dtype(var.dtype)
    shape = "".join(f"{n}, " for n in data.shape)
    if data.size == 0:
        return f"_empty(({shape}), dtype={dtype})"
    if data.ndim == 0:
        return _as_array(literal(data.item(), data.dtype.name), var.dtype)
    values = ", ".join(literal(v, data.dtype.name) for v in data.ravel().tolist())
    return f"np.array([{values}], dtype={dtype}).reshape(({shape}))"


# the rules of the ops with modules of their own
from croton_numba import conv, ifelse, linalg, pool, random, scan  # noqa: E402,F401,I001
