"""Generated loop nests: fused elementwise programs and reductions with a prologue.

An ``Elemwise`` node becomes one function that allocates its output and runs one loop
nest over it, reading each input with the static broadcasting pattern of its type
(an axis of static length 1 is read at index 0). Contiguous inputs of the output's
shape take a flat loop instead. A reduction runs one loop nest over its input (or
over the broadcast inputs of its prologue) in memory order, accumulating into the
output; trailing reduced axes accumulate in locals (see `_buffered_reduction` and
`_extreme_in_lanes` for how they are kept fast).

Large loops run on several threads (``prange``), small ones serially; the threshold
is ``croton.config.numba_parallel_threshold`` elements.
"""

from __future__ import annotations

import numpy as np

from croton_numba.scalar_code import literal, numba_dtype, scalar_expression

#: fastmath flags that keep nan, inf and signed-zero semantics
ELEMENTWISE_FASTMATH = "{'contract'}"


#: numba's parallel transformations: explicit ``numba.prange`` loops only (converting
#: array expressions and fusing loops costs compile time and gains nothing here)
PARALLEL_OPTIONS = (
    "{'prange': True, 'comprehension': False, 'reduction': False, 'inplace_binop': False, "
    "'setitem': False, 'numpy': False, 'stencil': False, 'fusion': False}"
)


#: the tiles of an elementwise loop over inputs of other layouts (rows x columns of
#: the last two axes): 8 rows of a transposed input share each cache line they read
_TILE_ROWS = 8
_TILE_COLUMNS = 256


def allocation(target: str, shape: str, dtype: str) -> str:
    """The line setting ``target`` to a new array of ``shape`` (a tuple expression) and
    ``dtype`` (numba's name), not yet written: large ones are backed by huge pages
    (``prelude._huge_pages``), as NumPy's are."""
    return (
        f"{target} = _empty({shape}, dtype={dtype}); "
        f"_huge_pages({target}.ctypes.data, {target}.nbytes)"
    )


def loop_nest(ndim: int, loop: str, element: list[str], across: list[str]) -> list[str]:
    """Loops over ``n0, n1, ...`` in C order running ``element`` at ``i0, i1, ...``, the
    first with ``loop`` (``range`` or ``numba.prange``).

    Where one of the arrays ``across`` is read across its rows (a transpose: its last
    stride is the larger of its last two, known at run time), the last two axes go in
    tiles, so that each cache line it loads serves all the tile's rows; otherwise the
    tiles are single rows."""
    if ndim == 1:
        return [f"for i0 in {loop}(n0):", *_indent(element, 1)]
    outer, rows, columns = ndim - 2, f"n{ndim - 2}", f"n{ndim - 1}"
    lines = ["    " * d + f"for i{d} in {loop if d == 0 else 'range'}(n{d}):" for d in range(outer)]
    if not across:
        plain = [f"for i{outer} in {loop if outer == 0 else 'range'}({rows}):"]
        plain += [f"    for i{outer + 1} in range({columns}):", *_indent(element, 2)]
        return lines + _indent(plain, outer)
    transposed = " or ".join(f"abs({a}.strides[-1]) > abs({a}.strides[-2])" for a in across)
    # one nest whose tile sizes are chosen at run time: rows (th = 1) unless an input is
    # transposed. A plain nest in a branch of its own ran serial loops over strided
    # inputs 10-15% faster, and made numba compile two loop nests per node: a graph of
    # unfused 2-d elementwise nodes compiled in 30% more time. Threads split the first
    # axis in tiles of th rows. The innermost index is unsigned: numba wraps negative
    # indices around, and a signed index from a range starting at a run-time value kept
    # LLVM from vectorizing (a select between two 256 x 256 arrays took 7x as long).
    nest = [
        f"if {transposed}:",
        f"    th, tw = {_TILE_ROWS}, {_TILE_COLUMNS}",
        "else:",
        f"    th, tw = 1, max({columns}, 1)",
    ]
    if outer == 0:
        nest += [f"for tile in {loop}(({rows} + th - 1) // th):", "    row0 = tile * th"]
    else:
        nest += [f"for row0 in range(0, {rows}, th):"]
    nest += [
        f"    for column0 in range(0, {columns}, tw):",
        f"        for i{outer} in range(row0, min(row0 + th, {rows})):",
        f"            for i{outer + 1} in range(np.uint64(column0), "
        f"np.uint64(min(column0 + tw, {columns}))):",
        *_indent(element, 4),
    ]
    return lines + _indent(nest, outer)


def contiguous_copy(target: str, source: str, ndim: int, threshold: int | None) -> list[str]:
    """Lines setting ``target`` to ``source`` itself if it is C-contiguous, else to a
    C-contiguous copy made in tiles where ``source`` is a transpose (numba's
    ``np.ascontiguousarray`` copies element by element in C order)."""
    indices = ", ".join(f"i{d}" for d in range(ndim))
    copy = [f"n{d} = {source}.shape[{d}]" for d in range(ndim)]
    copy.append(allocation(target, f"{source}.shape", f"{source}.dtype"))
    element = [f"{target}[{indices}] = {source}[{indices}]"]
    nest = loop_nest(ndim, "numba.prange", element, [source] if ndim >= 2 else [])
    serial = [line.replace("numba.prange", "range") for line in nest]
    if threshold is not None:
        copy += [f"if {source}.size >= {threshold}:", *_indent(nest, 1)]
        copy += ["else:", *_indent(serial, 1)]
    else:
        copy += serial
    return [
        f"if {source}.flags.c_contiguous:",
        f"    {target} = np.ascontiguousarray({source})",  # (no copy: typed C-contiguous)
        "else:",
        *_indent(copy, 1),
    ]


def decorator(parallel: bool, fastmath: bool = False, inline: bool = True) -> str:
    """A kernel's decorator line.

    Kernels are inlined into the jitted segment that calls them (numba compiles one
    function per segment, not one per node); the flags they carry say what the segment
    needs: ``parallel`` for ``numba.prange`` loops, ``fastmath`` for contraction. A
    kernel with ``inline=False`` stays a function the segment calls.
    """
    flags = "inline='always', error_model='numpy'" if inline else "error_model='numpy'"
    if parallel:
        flags += f", parallel={PARALLEL_OPTIONS}"
    if fastmath:
        flags += f", fastmath={ELEMENTWISE_FASTMATH}"
    return f"@numba.njit({flags})"


def _indent(lines: list[str], depth: int) -> list[str]:
    return ["    " * depth + line for line in lines]


def program_statements(
    program, inputs: list[str], input_dtypes, mathlib: dict
) -> tuple[list[str], str]:
    """Statements computing a `Composite` program on scalar ``inputs``; and its result."""
    statements, steps = [], []
    for j, (scalar_op, args, dtype) in enumerate(program):
        sources = []
        for ref in args:
            if ref[0] == "input":
                sources.append(inputs[ref[1]])
            elif ref[0] == "step":
                sources.append(steps[ref[1]])
            else:
                sources.append(literal(ref[1], ref[2]))
        in_dtypes = _step_input_dtypes(scalar_op, program, input_dtypes, args)
        statements.append(
            f"s{j} = {scalar_expression(scalar_op.name, sources, in_dtypes, dtype, mathlib)}"
        )
        steps.append(f"s{j}")
    return statements, steps[-1]


def _step_input_dtypes(scalar_op, program, input_dtypes, args):
    """The dtypes a program step computes in (what its scalar op resolves them to)."""

    def dtype_of(ref):
        if ref[0] == "step":
            return program[ref[1]][2]
        if ref[0] == "literal":
            return ref[2]
        return input_dtypes[ref[1]]

    if scalar_op.name == "cast":
        return [dtype_of(args[0])]
    return scalar_op.resolve([dtype_of(ref) for ref in args])[0]


def element_body(op, node_inputs, out_dtype: str, mathlib: dict, reads: list[str]):
    """Statements and result expression of one element of an elementwise op."""
    from croton.ops.composite import Composite

    scalar_op = op.scalar_op if hasattr(op, "scalar_op") else op
    if isinstance(scalar_op, Composite):
        return program_statements(scalar_op.program, reads, scalar_op.input_dtypes, mathlib)
    in_dtypes = [v.dtype for v in node_inputs]
    if scalar_op.name != "cast":
        in_dtypes = scalar_op.resolve(in_dtypes)[0]
    return [], scalar_expression(scalar_op.name, reads, in_dtypes, out_dtype, mathlib)


def _shape_code(inputs, ndim: int, names: list[str]) -> tuple[list[str], list[str]]:
    """Lengths ``n0..`` of the broadcast shape, and the run-time checks of unknown lengths."""
    lines, checks = [], []
    for axis in range(ndim):
        owners = [k for k, v in enumerate(inputs) if v.type.shape[axis] != 1]
        if not owners:
            lines.append(f"n{axis} = 1")
            continue
        lines.append(f"n{axis} = {names[owners[0]]}.shape[{axis}]")
        for k in owners[1:]:
            checks.append(
                f"if {names[k]}.shape[{axis}] != n{axis}:\n"
                f"    raise ValueError('input shapes do not match along axis {axis}: lengths "
                f"of unknown static size do not broadcast at run time')"
            )
    return lines, checks


def _read(name: str, var, indices: list[str]) -> str:
    if var.ndim == 0:
        return _value(f"{name}[()]", var.dtype)
    index = ", ".join("0" if var.type.shape[d] == 1 else indices[d] for d in range(var.ndim))
    return _value(f"{name}[{index}]", var.dtype)


def _scalar_reads(args: list[str], inputs) -> tuple[list[str], dict]:
    """``(lines, {position: name})``: the inputs of static length 1 along every axis
    (0-d ones too) read once into locals, before the loops.

    Read inside a loop, such a value is a load LLVM cannot move out (the output, a new
    allocation, might alias it), and the loop does not vectorize: ``maximum(h, 0)`` on
    256x256 float32 took twice as long.
    """
    lines, names = [], {}
    for k, (a, v) in enumerate(zip(args, inputs)):
        if all(length == 1 for length in v.type.shape):
            names[k] = f"scalar{k}"
            lines.append(f"scalar{k} = {_read(a, v, [])}")
    return lines, names


def _value(element: str, dtype: str) -> str:
    """The value of an array element read as ``element`` (float16 arrays hold bits)."""
    return f"_half_to_float({element})" if dtype == "float16" else element


def _stored(value: str, dtype: str) -> str:
    """What an array of ``dtype`` stores for ``value``."""
    return f"_float_to_half({value})" if dtype == "float16" else value


def elemwise_function(
    name: str, op, node, mathlib: dict, threshold: int, reuse: int | None = None
) -> str:
    """Source of ``name(a0, a1, ...)``: the fused loop of an ``Elemwise`` node.

    With ``reuse``, the output is written into that input's buffer (each element is
    read before it is written, at the same index).
    """
    inputs, out = node.inputs, node.outputs[0]
    ndim = out.ndim
    args = [f"a{k}" for k in range(len(inputs))]
    lines = [decorator(threshold is not None, fastmath=True), f"def {name}({', '.join(args)}):"]
    shape_lines, checks = _shape_code(inputs, ndim, args)
    body = shape_lines + [c for check in checks for c in check.split("\n")]
    shape = "(" + "".join(f"n{d}, " for d in range(ndim)) + ")"
    if reuse is None:
        body.append(allocation("out", shape, numba_dtype(out.dtype)))
    else:
        body.append(f"out = a{reuse}")
    if ndim == 0:
        reads = [_read(a, v, []) for a, v in zip(args, inputs)]
        statements, result = element_body(op, inputs, out.dtype, mathlib, reads)
        body += statements + [f"out[()] = {_stored(result, out.dtype)}", "return out"]
        lines[0] = decorator(False, fastmath=True)
        return "\n".join(lines + _indent(body, 1)) + "\n"
    size = " * ".join(f"n{d}" for d in range(ndim))
    body.append(f"size = {size}")
    full = [
        all(v.type.shape[d] != 1 or out.type.shape[d] == 1 for d in range(ndim)) for v in inputs
    ]
    scalar_lines, scalars = _scalar_reads(args, inputs)
    body += scalar_lines
    flat_reads = [_value(f"f{k}[i]", v.dtype) for k, v in enumerate(inputs)]
    flat_statements, flat_result = element_body(op, inputs, out.dtype, mathlib, flat_reads)
    indices = [f"i{d}" for d in range(ndim)]
    nested_reads = [
        scalars.get(k) or _read(a, v, indices) for k, (a, v) in enumerate(zip(args, inputs))
    ]
    nested_statements, nested_result = element_body(op, inputs, out.dtype, mathlib, nested_reads)

    def flat_loop(loop: str) -> list[str]:
        loop_lines = ["fo = out.reshape(size)"]
        loop_lines += [f"f{k} = {a}.ravel()" for k, a in enumerate(args)]
        loop_lines.append(f"for i in {loop}(size):")
        loop_lines += _indent(flat_statements + [f"fo[i] = {_stored(flat_result, out.dtype)}"], 1)
        return loop_lines

    # inputs that may be read across their rows (a transpose): their last two lengths
    # are not known to be 1, so their strides decide at run time
    across = [a for a, v in zip(args, inputs) if v.ndim >= 2 and 1 not in v.type.shape[-2:]]
    element = nested_statements + [
        f"out[{', '.join(indices)}] = {_stored(nested_result, out.dtype)}"
    ]

    def nested_loop(loop: str) -> list[str]:
        return loop_nest(ndim, loop, element, across)

    def both(loop: str) -> list[str]:
        if not all(full) or ndim == 1:  # (in one dimension the loops are the same)
            return nested_loop(loop)
        contiguous = " and ".join(f"{a}.flags.c_contiguous" for a in args) or "True"
        return (
            [f"if {contiguous}:"]
            + _indent(flat_loop(loop), 1)
            + ["else:"]
            + _indent(nested_loop(loop), 1)
        )

    if threshold is None:
        body += both("range")
    else:
        # the threaded copy splits the outermost axis: one parallel loop per kernel,
        # as each costs numba a separately compiled function
        body.append(f"if size >= {threshold}:")
        body += _indent(nested_loop("numba.prange"), 1)
        body.append("else:")
        body += _indent(both("range"), 1)
    body.append("return out")
    return "\n".join(lines + _indent(body, 1)) + "\n"


def threaded(body: list[str], work: str, threshold: int | None) -> tuple[list[str], bool]:
    """``body`` with its ``numba.prange`` loops serial, plus (given a ``threshold``) a
    multi-threaded copy that runs when ``work`` (elements) reaches it; and whether the
    function needs ``parallel=True``."""
    serial = [line.replace("numba.prange", "range") for line in body]
    if threshold is None or serial == body:
        return serial, False
    indent = ["    " + line for line in body]
    return [f"if {work} >= {threshold}:", *indent, "else:", *["    " + s for s in serial]], True


#: elements of a reduction's prologue computed ahead of accumulating them
_BLOCK = 512
#: blocks of the outermost axis a buffered reduction is split into (each thread
#: allocates one buffer per chunk)
_CHUNKS = 64

#: the shortest last axis a reduction keeping an earlier axis reads row by row
_SHORT_ROW = 16
#: the fewest output elements after the last reduced axis for which a sum adds four
#: steps of it at a time (below, its rows fit in cache and the plain loop was faster)
_LONG_ROW = 1024

_IDENTITY = {"sum": 0, "prod": 1, "all": True, "any": False}


def _accumulator_dtype(kind: str, out_dtype: str) -> str:
    """Sums and products of half and single precision accumulate in double."""
    if kind in ("sum", "prod") and out_dtype in ("float16", "float32"):
        return "float64"
    return out_dtype


def _combine(kind: str, acc: str, value: str, kind_of_dtype: str) -> list[str]:
    if kind == "sum":
        return [f"{acc} += {value}"]
    if kind == "prod":
        return [f"{acc} *= {value}"]
    if kind == "all":
        return [f"{acc} = {acc} and ({value} != 0)"]
    if kind == "any":
        return [f"{acc} = {acc} or ({value} != 0)"]
    # acc = maximum(acc, v) as numpy computes it: nan stays, a tie takes the new value
    compare = ">" if kind == "max" else "<"
    if kind_of_dtype in "fc":
        return [f"v = {value}", f"if {acc} == {acc} and not ({acc} {compare} v):", f"    {acc} = v"]
    return [f"v = {value}", f"if not ({acc} {compare} v):", f"    {acc} = v"]


def _initial(kind: str, dtype: str) -> str:
    if kind in _IDENTITY:
        return literal(_IDENTITY[kind], dtype)
    np_dtype = np.dtype(dtype)
    if np_dtype.kind == "f":
        return literal(-np.inf if kind == "max" else np.inf, dtype)
    if np_dtype.kind == "b":
        return literal(kind == "min", dtype)
    info = np.iinfo(np_dtype)
    return literal(info.min if kind == "max" else info.max, dtype)


def _block_sum(kind: str, acc_dtype: str) -> list[str]:
    """The line adding (multiplying) ``buf[:width]`` into ``acc``: in vector lanes, by a
    prelude function that may reorder the block's additions (and only those)."""
    operator = "+=" if kind == "sum" else "*="
    identity = literal(_IDENTITY[kind], acc_dtype)
    return [f"acc {operator} _{kind}_block(buf, width, {identity})"]


def _extreme_in_lanes(kind: str, ndim: int, inner: int, read, kind_of: str, line=None) -> list[str]:
    """Lines folding the maximum (minimum) over the trailing axes into ``acc``, the last
    axis in four independent lanes so that comparisons do not wait on each other. A nan
    sticks in its lane and wins in the end, as in a single pass. ``read(index)`` is the
    source reading the element at ``index`` along the last axis.

    ``line``, for floats, is the source of a view of the last axis: a line of finite
    values is reduced in vector lanes instead (`_max_line`; row maxima of 4000x4000 took
    half the time in float64, a quarter in float32), the lanes
    taking any line holding a nan or an infinity."""
    last = ndim - 1
    compare = ">" if kind == "max" else "<"
    nan = " or v != v" if kind_of in "fc" else ""
    lanes = [f"q{k}" for k in range(4)]
    lines = []
    for d in range(inner, last):
        lines += _indent([f"for i{d} in range(n{d}):"], d - inner)
    step = [f"{' = '.join(lanes)} = acc", f"full = n{last} - n{last} % 4"]
    step.append("for j in range(0, full, 4):")
    for k, lane in enumerate(lanes):
        step += [f"    v = {read(f'j + {k}')}", f"    if v {compare} {lane}{nan}:"]
        step.append(f"        {lane} = v")
    step += [f"for i{last} in range(full, n{last}):", f"    v = {read(f'i{last}')}"]
    step += [f"    if v {compare} {lanes[0]}{nan}:", f"        {lanes[0]} = v"]
    for lane in lanes:
        step += _combine(kind, "acc", lane, kind_of)
    if line is not None:
        lanes_step = step
        # (the reduced axes are not empty: line[0] exists)
        vector = _combine(kind, "acc", f"_{kind}_line(line, line[0])", kind_of)
        step = [f"line = {line}", "if _finite_line(line):", *_indent(vector, 1), "else:"]
        step += _indent(lanes_step, 1)
    lines += _indent(step, last - inner)
    return lines


def _extreme_in_chunks(kind, ndim, read, kind_of, line, initial, acc_dtype) -> list[str]:
    """`_extreme_in_lanes` over every axis: runs of the first axis on threads, each
    into a partial extreme, and the partials folded into ``acc`` in order (a nan
    sticks, ties take the later value, as in one pass)."""
    lanes = _extreme_in_lanes(kind, ndim, 1, read, kind_of, line)
    return [
        f"chunks = max(min(n0, {_CHUNKS}), 1)",
        f"partials = _empty(chunks, dtype={numba_dtype(acc_dtype)})",
        "for chunk in numba.prange(chunks):",
        "    acc = " + initial,
        "    for i0 in range(chunk * n0 // chunks, (chunk + 1) * n0 // chunks):",
        *_indent(lanes, 2),
        "    partials[chunk] = acc",
        "for chunk in range(chunks):",
        *_indent(_combine(kind, "acc", "partials[chunk]", kind_of), 1),
    ]


def _block(kind, last, statements, value, acc_dtype, kind_of) -> list[str]:
    """Lines folding the block of axis ``last`` starting at ``start`` into ``acc``: the
    values computed into ``buf`` (a loop that vectorizes), then accumulated."""
    accumulate = (
        _block_sum(kind, acc_dtype)
        if kind in ("sum", "prod")
        else ["for j in range(width):", *_indent(_combine(kind, "acc", "buf[j]", kind_of), 1)]
    )
    # (an unsigned index, so that numba adds no wrap-around of negative indices, which
    # keeps LLVM from vectorizing; see `loop_nest`)
    return [
        f"stop = min(start + {_BLOCK}, n{last})",
        "first = np.uint64(start)",
        f"for i{last} in range(first, np.uint64(stop)):",
        *_indent(statements + [f"buf[i{last} - first] = {value}"], 1),
        "width = stop - start",
        *accumulate,
    ]


def _kept_outside(
    kind, ndim, axes, statements, value, acc_dtype, kind_of, initial, kept_index
) -> list[str]:
    """A reduction whose last axis is reduced but an axis before it kept, with the kept
    axes looped outside and the reduced ones inside, the last in blocks.

    In memory order every element would be added into its output element in memory,
    one after the other (no vectorizing, no partial sums): ``sum(x, axis=(0, 2))`` ran
    1.3x slower than numpy's. Here each output element is one local accumulator; the
    first kept axis is split into chunks that run on threads.
    """
    kept = [d for d in range(ndim) if d not in axes]
    first, last = kept[0], ndim - 1
    typed = numba_dtype(acc_dtype)
    nest = [f"for i{first} in range(chunk * n{first} // chunks, (chunk + 1) * n{first} // chunks):"]
    nest += [f"for i{d} in range(n{d}):" for d in kept[1:]]
    reduced = [f"for i{d} in range(n{d}):" for d in range(last) if d in axes]
    lines = []
    for k, line in enumerate(nest):
        lines += _indent([line], k)
    step = [f"acc = {initial}"]
    for k, line in enumerate(reduced):
        step += _indent([line], k)
    step += _indent([f"for start in range(0, n{last}, {_BLOCK}):"], len(reduced))
    step += _indent(_block(kind, last, statements, value, acc_dtype, kind_of), len(reduced) + 1)
    step.append(f"acc_out[{kept_index}] = acc")
    lines += _indent(step, len(nest))
    return [
        f"chunks = max(min(n{first}, {_CHUNKS}), 1)",
        "for chunk in numba.prange(chunks):",
        f"    buf = _empty({_BLOCK}, dtype={typed})",
        *_indent(lines, 1),
    ]


def _rows_in_memory_order(
    kind, ndim, axes, statements, value, acc_dtype, kind_of, initial, kept_index
) -> list[str]:
    """A sum or product whose last axis is reduced and an earlier axis kept, read in
    memory order: each row of the trailing reduced axes goes into a local in blocks (as
    in `_buffered_reduction`) and is then added into its output element.

    With the kept axes outside (`_kept_outside`), each output element read its rows one
    after the other across the whole array (``sum(x, axis=(0, 2))`` of a 256 x 256 x 256
    array jumps 256 KB from row to row, and ran at 0.7x numpy's). The first kept axis is
    split into chunks that run on threads; each chunk writes its own output elements.
    """
    kept = [d for d in range(ndim) if d not in axes]
    first, last = kept[0], ndim - 1
    inner = ndim
    while inner - 1 in axes:
        inner -= 1
    operator = "+=" if kind == "sum" else "*="
    nest = [f"for i{d} in range(n{d}):" for d in range(first)]
    nest.append(
        f"for i{first} in range(chunk * n{first} // chunks, (chunk + 1) * n{first} // chunks):"
    )
    nest += [f"for i{d} in range(n{d}):" for d in range(first + 1, inner)]
    nest += [f"acc = {initial}"]
    nest += [f"for i{d} in range(n{d}):" for d in range(inner, last)]
    nest.append(f"for start in range(0, n{last}, {_BLOCK}):")
    lines = []
    for k, line in enumerate(nest[:inner]):
        lines += _indent([line], k)
    row = nest[inner:]
    step = [row[0]]
    for k, line in enumerate(row[1:]):
        step += _indent([line], k)
    step += _indent(_block(kind, last, statements, value, acc_dtype, kind_of), len(row) - 1)
    step.append(f"acc_out[{kept_index}] {operator} acc")
    lines += _indent(step, inner)
    return [
        f"acc_out.fill({initial})",
        f"chunks = max(min(n{first}, {_CHUNKS}), 1)",
        "for chunk in numba.prange(chunks):",
        f"    buf = _empty({_BLOCK}, dtype={numba_dtype(acc_dtype)})",
        *_indent(lines, 1),
    ]


def _unrolled_rows(kind, ndim, axes, element_at, initial, kept_index, kind_of) -> list[str]:
    """A reduction whose last axes are kept, four steps of the last reduced axis at a
    time: each output element is read and written once per four input elements (in
    memory order, once per element, a float32 sum over axis 0 of a 4000 x 4000 array
    ran at 0.8x numpy's, a float64 maximum at 0.75x). A maximum (minimum) takes the
    four in order. ``element_at(indices)`` gives the statements and value of the
    prologue's element at ``indices``."""
    reduced = max(axes)
    lines = [f"acc_out.fill({initial})"]
    for d in range(reduced):
        loop = "numba.prange" if d == 0 and d not in axes else "range"
        lines += _indent([f"for i{d} in {loop}(n{d}):"], d)
    indices = [f"i{d}" for d in range(ndim)]
    unrolled = []
    for k in range(4):
        statements, value = element_at(
            indices[:reduced] + [f"(i{reduced} + {k})"] + indices[reduced + 1 :]
        )
        unrolled += statements + [f"v{k} = {value}"]
    target = f"acc_out[{kept_index}]"
    statements, value = element_at(indices)
    if kind in ("sum", "prod"):
        operator, join = ("+=", "+") if kind == "sum" else ("*=", "*")
        unrolled.append(f"{target} {operator} (v0 {join} v1) {join} (v2 {join} v3)")
        single = statements + [f"{target} {operator} {value}"]
    else:
        unrolled.append(f"acc = {target}")
        for k in range(4):
            unrolled += _combine(kind, "acc", f"v{k}", kind_of)
        unrolled.append(f"{target} = acc")
        single = [*statements, f"acc = {target}", *_combine(kind, "acc", value, kind_of)]
        single.append(f"{target} = acc")
    kept_loops = [f"for i{d} in range(n{d}):" for d in range(reduced + 1, ndim)]
    step = [f"full = n{reduced} - n{reduced} % 4", f"for i{reduced} in range(0, full, 4):"]
    for k, line in enumerate(kept_loops):
        step += _indent([line], k + 1)
    step += _indent(unrolled, len(kept_loops) + 1)
    step.append(f"for i{reduced} in range(full, n{reduced}):")
    for k, line in enumerate(kept_loops):
        step += _indent([line], k + 1)
    step += _indent(single, len(kept_loops) + 1)
    return lines + _indent(step, reduced)


def _buffered_reduction(
    kind, ndim, inner, statements, value, acc_dtype, kind_of, initial, kept_index
) -> list[str]:
    """A reduction over trailing axes whose innermost axis goes in blocks of `_BLOCK`.

    Each block's values (the prologue's results) are computed into a buffer by a loop
    that vectorizes (its math runs on SIMD lanes), then accumulated: a loop that
    accumulates as it computes cannot vectorize without reordering the sum. Sums and
    products accumulate a block in four partial results. The outermost axis is split
    into chunks that run on threads; when every axis is reduced, each chunk keeps a
    partial result and the partials are combined in order (for max and min the result
    is the one a single pass finds).
    """
    last = ndim - 1
    typed = numba_dtype(acc_dtype)
    block = _block(kind, last, statements, value, acc_dtype, kind_of)
    if inner == 0 and ndim == 1:
        # one axis, all reduced: the chunks are runs of blocks
        lines = [
            f"blocks = (n0 + {_BLOCK - 1}) // {_BLOCK}",
            f"chunks = max(min(blocks, {_CHUNKS}), 1)",
            f"partials = _empty(chunks, dtype={typed})",
            "for chunk in numba.prange(chunks):",
            f"    buf = _empty({_BLOCK}, dtype={typed})",
            f"    acc = {initial}",
            "    for b in range(chunk * blocks // chunks, (chunk + 1) * blocks // chunks):",
            f"        start = b * {_BLOCK}",
            *_indent(block, 2),
            "    partials[chunk] = acc",
        ]
    else:
        chunked = inner if inner > 0 else 1  # loops from axis 0 up to here go in chunks
        lines = [
            f"chunks = max(min(n0, {_CHUNKS}), 1)",
            f"partials = _empty(chunks, dtype={typed})" if inner == 0 else "",
            "for chunk in numba.prange(chunks):",
            f"    buf = _empty({_BLOCK}, dtype={typed})",
        ]
        lines = [line for line in lines if line]
        per_chunk = [f"acc = {initial}"] if inner == 0 else []
        loops = ["for i0 in range(chunk * n0 // chunks, (chunk + 1) * n0 // chunks):"]
        loops += [f"for i{d} in range(n{d}):" for d in range(1, chunked)]
        body = [f"acc = {initial}"] if inner > 0 else []
        body += [f"for i{d} in range(n{d}):" for d in range(chunked, last)]
        depth = len(body) - (1 if inner > 0 else 0)
        body_lines = []
        for k, line in enumerate(body):
            shift = k - (1 if inner > 0 else 0)
            body_lines += _indent([line], max(shift, 0))
        body_lines += _indent([f"for start in range(0, n{last}, {_BLOCK}):"], depth)
        body_lines += _indent(block, depth + 1)
        if inner > 0:
            body_lines.append(f"acc_out[{kept_index}] = acc")
        nest = []
        for k, line in enumerate(loops):
            nest += _indent([line], k)
        nest += _indent(body_lines, len(loops))
        lines += _indent(per_chunk + nest + (["partials[chunk] = acc"] if inner == 0 else []), 1)
    if inner == 0:
        lines += [f"acc = {initial}", "for chunk in range(chunks):"]
        lines += _indent(_combine(kind, "acc", "partials[chunk]", kind_of), 1)
        lines.append("acc_out[()] = acc")
    return lines


def reduce_function(name: str, op, node, mathlib: dict, threshold: int) -> str:
    """Source of ``name(a0, ...)``: a reduction (with its prologue) in one loop nest."""
    out = node.outputs[0]
    if op.prologue is not None:
        mapped = op._mapped(node.inputs)
        element_inputs, element_op = mapped.inputs, mapped.op
        value_dtype = mapped.outputs[0].dtype
    else:
        element_inputs, element_op, value_dtype = node.inputs, None, node.inputs[0].dtype
    ndim = max(v.ndim for v in element_inputs)
    args = [f"a{k}" for k in range(len(node.inputs))]
    axes = set(op.axis)
    kept = [d for d in range(ndim) if d not in axes]
    acc_dtype = _accumulator_dtype(op.kind, out.dtype)
    kind_of = np.dtype(value_dtype).kind
    lines = [None, f"def {name}({', '.join(args)}):"]
    shape_lines, checks = _shape_code(element_inputs, ndim, args)
    body = shape_lines + [c for check in checks for c in check.split("\n")]
    if op.kind in ("max", "min") and axes:
        empty = " * ".join(f"n{d}" for d in sorted(axes))
        body += [
            f"if {empty} == 0:",
            f"    raise ValueError('zero-size array to reduction operation {op.kind}imum "
            f"which has no identity')",
        ]
    out_shape = "(" + "".join(f"n{d}, " for d in kept) + ")"
    indices = [f"i{d}" for d in range(ndim)]
    scalar_lines, scalars = _scalar_reads(args, element_inputs)
    body += scalar_lines

    def element_at(indices):
        reads = [
            scalars.get(k) or _read(a, v, indices)
            for k, (a, v) in enumerate(zip(args, element_inputs))
        ]
        if element_op is not None:
            statements, value = element_body(
                element_op, element_inputs, value_dtype, mathlib, reads
            )
        else:
            statements, value = [], reads[0]
        cast = acc_dtype != value_dtype
        return statements, f"{numba_dtype(acc_dtype)}({value})" if cast else value

    statements, value = element_at(indices)
    # loops in memory order; the trailing reduced axes accumulate in a local
    inner = ndim
    while inner > 0 and (inner - 1) in axes:
        inner -= 1
    initial = _initial(op.kind, acc_dtype)
    body.append(allocation("acc_out", out_shape, numba_dtype(acc_dtype)))
    kept_index = ", ".join(f"i{d}" for d in kept) if kept else "()"
    if not any(d in axes for d in range(inner)):
        # every reduced axis is trailing: one local accumulator per output element
        buffered = bool(statements or op.kind in ("sum", "prod")) and ndim > inner
        if buffered:
            body += _buffered_reduction(
                op.kind, ndim, inner, statements, value, acc_dtype, kind_of, initial, kept_index
            )
        else:
            loop_lines = []
            for d in range(inner):
                kind = "numba.prange" if d == 0 else "range"
                loop_lines += _indent([f"for i{d} in {kind}(n{d}):"], d)
            inner_lines = [f"acc = {initial}"]
            sequential = []
            for d in range(inner, ndim):
                sequential += _indent([f"for i{d} in range(n{d}):"], d - inner)
            sequential += _indent(
                statements + _combine(op.kind, "acc", value, kind_of), ndim - inner
            )
            if op.kind in ("max", "min") and not statements and ndim > inner:

                def read(index, x=element_inputs[0]):
                    return _read(args[0], x, indices[:-1] + [index])

                x = element_inputs[0]
                line = None
                if x.dtype in ("float32", "float64") and x.type.shape[-1] != 1:
                    line = _read(args[0], x, indices[:-1] + [":"])
                if inner == 0 and ndim > 1:
                    # every axis reduced: runs of the first axis go to threads, their
                    # extremes then taken in order
                    inner_lines += _extreme_in_chunks(
                        op.kind, ndim, read, kind_of, line, initial, acc_dtype
                    )
                else:
                    inner_lines += _extreme_in_lanes(op.kind, ndim, inner, read, kind_of, line)
                if kind_of == "f":
                    # lanes keep the first of tied values, a single pass the last: they
                    # differ only between 0.0 and -0.0, so a zero is found again in order
                    inner_lines += ["if acc == 0:", f"    acc = {initial}"]
                    inner_lines += _indent(sequential, 1)
            else:
                inner_lines += sequential
            inner_lines.append(f"acc_out[{kept_index}] = acc")
            body += loop_lines + _indent(inner_lines, inner)
    else:
        loop_lines = [f"acc_out.fill({initial})"]
        for d in range(ndim):
            parallel = d == 0 and d not in axes
            kind = "numba.prange" if parallel else "range"
            loop_lines += _indent([f"for i{d} in {kind}(n{d}):"], d)
        target = f"acc_out[{kept_index}]"
        loop_lines += _indent(
            statements
            + [f"acc = {target}"]
            + _combine(op.kind, "acc", value, kind_of)
            + [f"{target} = acc"],
            ndim,
        )
        summed = op.kind in ("sum", "prod")
        if ndim - 1 in axes:
            # the last axis reduced: its rows in blocks, unless they are so short that
            # a block per row would cost more
            rows = _rows_in_memory_order if summed else _kept_outside
            body += [f"if n{ndim - 1} >= {_SHORT_ROW}:"]
            body += _indent(
                rows(
                    op.kind, ndim, axes, statements, value, acc_dtype, kind_of, initial, kept_index
                ),
                1,
            )
            body += ["else:", *_indent(loop_lines, 1)]
        elif op.kind in ("sum", "prod", "max", "min"):
            kept_size = " * ".join(f"n{d}" for d in range(max(axes) + 1, ndim))
            body += [f"if {kept_size} >= {_LONG_ROW}:"]
            body += _indent(
                _unrolled_rows(op.kind, ndim, axes, element_at, initial, kept_index, kind_of), 1
            )
            body += ["else:", *_indent(loop_lines, 1)]
        else:
            body += loop_lines
    if acc_dtype != out.dtype:
        body.append(f"return acc_out.astype({numba_dtype(out.dtype)})")
    else:
        body.append("return acc_out")
    work = "max(" + ", ".join(f"{a}.size" for a in args) + ", 0)"
    body, parallel = threaded(body, work, threshold)
    lines[0] = decorator(parallel)
    return "\n".join(lines + _indent(body, 1)) + "\n"
