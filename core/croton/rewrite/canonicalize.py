"""``canonicalize``: arithmetic simplification, constant folding and shape lifting.

Each rule keeps the values of the graph equal (up to float rounding) wherever the
original graph is defined.
"""

from __future__ import annotations

import numpy as np

from croton.graph.basic import Constant
from croton.graph.fgraph import OUTPUT
from croton.ops.elemwise import DimShuffle, Elemwise
from croton.ops.reduce import Reduce
from croton.ops.shape import Alloc, Reshape, Shape, SpecifyShape
from croton.ops.subtensor import Subtensor
from croton.rewrite.constant_fold import constant_fold
from croton.rewrite.engine import EquilibriumPass, node_rewriter
from croton.rewrite.pattern import P, constant_source
from croton.tensor import math as tm
from croton.tensor.shape import ones_like

x, y = P.var("x"), P.var("y")


def _is_length(var) -> bool:
    """True for ``shape(v)[i]``, which is never negative."""
    owner = var.owner
    return (
        owner is not None
        and isinstance(owner.op, Subtensor)
        and owner.inputs[0].owner is not None
        and isinstance(owner.inputs[0].owner.op, Shape)
    )


length = P.var("x", constraint=_is_length)

ALGEBRA = [
    (-(-x), lambda x: x, "neg_neg"),  # --x -> x  # noqa: B002
    (x * 1, lambda x: x, "mul_one"),  # x*1 -> x
    (x + 0, lambda x: x, "add_zero"),  # x+0 -> x
    (x - 0, lambda x: x, "sub_zero"),  # x-0 -> x
    (0 - x, lambda x: -x, "zero_sub"),  # 0-x -> -x
    (x / 1, lambda x: x, "div_one"),  # x/1 -> x
    (x**1, lambda x: x, "pow_one"),  # x**1 -> x
    ((x + y) - x, lambda x, y: y, "add_sub_cancel"),  # x+y-x -> y
    ((x - y) + y, lambda x, y: x, "sub_add_cancel"),  # x-y+y -> x
    (x - (-y), lambda x, y: x + y, "sub_neg"),  # x-(-y) -> x+y
    (x + (-y), lambda x, y: x - y, "add_neg"),  # x+(-y) -> x-y
    ((-x) * (-y), lambda x, y: x * y, "neg_mul_neg"),  # (-x)*(-y) -> x*y
    (x * -1, lambda x: -x, "mul_minus_one"),  # x*-1 -> -x
    (x**0, lambda x: ones_like(x), "pow_zero"),  # x**0 -> 1 (nan**0 is 1 too)
    (P.log(P.exp(x)), lambda x: x, "log_exp"),  # log(exp(x)) -> x
    (P.maximum(length, 0), lambda x: x, "length_nonnegative"),  # max(len, 0) -> len
    # exp(log(x)) -> x where log is defined, nan elsewhere (as the original)
    (P.exp(P.log(x)), lambda x: tm.switch(tm.ge(x, 0), x, np.nan), "exp_log"),
]


def _nonzero_finite_constant(var) -> bool:
    source = constant_source(var)
    if source is None:
        return False
    data = np.asarray(source.data)
    return bool(np.all(np.isfinite(data)) and np.all(data != 0))


@node_rewriter(tracks=[("elemwise", "true_div")], name="div_self")
def div_self(fgraph, node):
    """x/x -> 1, only for a constant x with no zero, inf or nan (there x/x is nan).

    A variable ``x`` keeps its division: folding it would turn nan into 1.
    """
    numerator, denominator = node.inputs
    out = node.outputs[0]
    if numerator is not denominator or None in out.type.shape:
        return None
    if not _nonzero_finite_constant(numerator):
        return None
    return [tm.as_tensor_variable(np.ones(out.type.shape, dtype=out.dtype))]


@node_rewriter(tracks=[("elemwise", "add"), ("elemwise", "mul")], name="collect_constants")
def collect_constants(fgraph, node):
    """(x + 1) + 2 -> x + 3, 2 * (x * 3) -> x * 6: one constant per add or mul chain."""
    name = node.op.scalar_op.name
    dtype = node.outputs[0].dtype

    def chained(var) -> bool:  # var is an inner link of this chain, used only by it
        owner = var.owner
        return (
            owner is not None
            and isinstance(owner.op, Elemwise)
            and owner.op.scalar_op.name == name
            and var.dtype == dtype
            and len(fgraph.clients.get(var, ())) == 1
        )

    # only a chain's root walks it, so a chain of n links costs O(n), not O(n**2)
    clients = fgraph.clients.get(node.outputs[0], {})
    if len(clients) == 1:
        ((client, _),) = clients
        if client != OUTPUT and client.op == node.op and client.outputs[0].dtype == dtype:
            return None
    leaves, stack = [], list(node.inputs)
    while stack:
        var = stack.pop()
        owner = var.owner
        if chained(var):
            stack.extend(owner.inputs)
        else:
            leaves.append(var)
    constants = [v for v in leaves if constant_source(v) is not None]
    if len(constants) < 2:
        return None
    combine = np.add if name == "add" else np.multiply
    value = np.asarray(constant_source(constants[0]).data)
    value = (
        value.reshape((1,) * (constants[0].ndim - value.ndim) + value.shape)
        if value.ndim < constants[0].ndim
        else value
    )
    for c in constants[1:]:
        data = np.asarray(constant_source(c).data)
        with np.errstate(all="ignore"):
            value = combine(
                value, data.reshape(c.type.shape) if data.size == np.prod(c.type.shape) else data
            )
    folded = tm.as_tensor_variable(np.asarray(value, dtype=dtype))
    rest = [v for v in leaves if constant_source(v) is None]
    result = folded
    for term in reversed(rest):
        result = tm.elemwise(name, term, result)
    return [result]


@node_rewriter(tracks=[DimShuffle], name="dimshuffle_compose")
def dimshuffle_compose(fgraph, node):
    """Two dimshuffles in a row become one; a dimshuffle that changes nothing goes."""
    op = node.op
    (x,) = node.inputs
    if op.new_order == tuple(range(op.input_ndim)):
        return [x]
    inner = x.owner
    if inner is None or not isinstance(inner.op, DimShuffle):
        return None
    composed = tuple("x" if d == "x" else inner.op.new_order[d] for d in op.new_order)
    source = inner.inputs[0]
    if composed == tuple(range(source.ndim)):
        return [source]
    return [source.dimshuffle(composed)]


@node_rewriter(tracks=[Reshape], name="useless_reshape")
def useless_reshape(fgraph, node):
    """Reshape(x, shape of x) -> x; Reshape(Reshape(x)) -> Reshape(x)."""
    x, shape = node.inputs
    static = constant_source(shape)
    if shape.owner is not None and isinstance(shape.owner.op, Shape) and shape.owner.inputs[0] is x:
        return [x]
    if (
        static is not None
        and None not in x.type.shape
        and tuple(static.data.tolist()) == x.type.shape
    ):
        return [x]
    if x.owner is not None and isinstance(x.owner.op, Reshape):
        return [node.op(x.owner.inputs[0], shape)]
    return None


@node_rewriter(tracks=[("elemwise", "cast")], name="useless_cast")
def useless_cast(fgraph, node):
    """cast(x, dtype of x) -> x; cast(cast(x, wider), t) -> cast(x, t)."""
    (x,) = node.inputs
    target = node.outputs[0].dtype
    if x.dtype == target:
        return [x]
    inner = x.owner
    if inner is not None and isinstance(inner.op, Elemwise) and inner.op.scalar_op.name == "cast":
        source = inner.inputs[0]
        if np.can_cast(source.dtype, x.dtype, "safe"):
            return [tm.cast(source, target)]
    return None


@node_rewriter(tracks=[SpecifyShape], name="useless_specify_shape")
def useless_specify_shape(fgraph, node):
    """specify_shape(x, s) -> x when x's static shape already says s."""
    (x,) = node.inputs
    if all(want is None or want == have for want, have in zip(node.op.shape, x.type.shape)):
        return [x]
    return None


@node_rewriter(tracks=[Reduce], name="reduce_nothing")
def reduce_nothing(fgraph, node):
    """A reduction over no axes is the input (cast to the output dtype)."""
    if node.op.axis or node.op.kind in ("all", "any") or node.op.prologue is not None:
        return None
    return [node.inputs[0]]


@node_rewriter(tracks=[Reduce], name="reduce_length_one")
def reduce_length_one(fgraph, node):
    """sum(x, axis) over axes of static length 1 -> x without them (prod, max, min too)."""
    op = node.op
    if op.kind in ("all", "any") or op.prologue is not None:
        return None
    (x,) = node.inputs
    ones = [a for a in op.axis if x.type.shape[a] == 1]
    if not ones:
        return None
    dropped = x.dimshuffle([a for a in range(x.ndim) if a not in ones])
    rest = [a - sum(o < a for o in ones) for a in op.axis if a not in ones]
    if not rest:
        return [dropped]
    return [Reduce(op.kind, rest, op.dtype)(dropped)]


def _shape_entry(var, axis: int):
    """Subtensor{axis}(Shape(var)), the way the graph asks for one length."""
    from croton.tensor.shape import shape

    return shape(var)[axis]


@node_rewriter(tracks=[Shape], name="static_shape")
def static_shape(fgraph, node):
    """shape(x) -> constant when x's static shape is fully known."""
    (x,) = node.inputs
    if None in x.type.shape:
        return None
    return [tm.as_tensor_variable(np.asarray(x.type.shape, dtype="int64"))]


def _asks_one_length(client) -> bool:
    node, _ = client
    return (
        not isinstance(node, str)
        and isinstance(node.op, Subtensor)
        and len(node.op.spec) == 1
        and node.op.spec[0][0] == "int"
    )


@node_rewriter(tracks=[Shape], name="shape_vector_lift")
def shape_vector_lift(fgraph, node):
    """shape(f(inputs)) -> the vector of lengths f's infer_shape gives from its inputs'
    shapes, where the whole vector is used (`shape_lift` serves ``shape(...)[i]``).

    ``f([x, y], join(0, x, y).shape)`` then computes no join, as in Theano.
    """
    from croton.graph.traversal import ancestors
    from croton.tensor.shape import stack

    (x,) = node.inputs
    producer = x.owner
    if producer is None or x.ndim == 0 or None not in x.type.shape:
        return None
    if all(_asks_one_length(c) for c in fgraph.clients.get(node.outputs[0], {})):
        return None
    input_shapes = [tuple(_shape_entry(v, i) for i in range(v.ndim)) for v in producer.inputs]
    try:
        lengths = producer.op.infer_shape(producer, input_shapes)[x.index]
    except NotImplementedError:
        return None
    entries = []
    for axis, length in enumerate(lengths):
        if x.type.shape[axis] is not None:
            length = x.type.shape[axis]
        if isinstance(length, (int, np.integer)):
            entries.append(tm.as_tensor_variable(np.asarray(length, dtype="int64")))
            continue
        length = tm.as_tensor_variable(length)
        if length.ndim != 0 or any(v is x for v in ancestors([length])):
            return None  # (infer_shape fell back on x's own shape: nothing gained)
        entries.append(tm.cast(length, "int64"))
    return [stack(entries)]


@node_rewriter(tracks=[Subtensor], name="shape_lift")
def shape_lift(fgraph, node):
    """shape(f(inputs))[i] -> the length f's infer_shape gives from its inputs' shapes.

    This moves shape computations to the graph's inputs, so a node computed only to
    know its shape is no longer needed.
    """
    source = node.inputs[0]
    if len(node.op.spec) != 1 or node.op.spec[0][0] != "int" or node.op.spec[0][1] == "in":
        return None
    if source.owner is None or not isinstance(source.owner.op, Shape):
        return None
    (x,) = source.owner.inputs
    axis = node.op.spec[0][1] % max(x.ndim, 1)
    if x.type.shape[axis] is not None:
        return [tm.as_tensor_variable(np.asarray(x.type.shape[axis], dtype="int64"))]
    producer = x.owner
    if producer is None:
        return None
    input_shapes = [tuple(_shape_entry(v, i) for i in range(v.ndim)) for v in producer.inputs]
    try:
        shapes = producer.op.infer_shape(producer, input_shapes)
    except NotImplementedError:
        return None
    length = shapes[x.index][axis]
    if isinstance(length, (int, np.integer)):
        return [tm.as_tensor_variable(np.asarray(length, dtype="int64"))]
    length = tm.as_tensor_variable(length)
    if length.ndim != 0:
        return None
    # infer_shape fell back on the output's own shape: nothing gained
    owner = length.owner
    if owner is not None and isinstance(owner.op, Subtensor) and owner.inputs[0].owner is not None:
        shape_node = owner.inputs[0].owner
        if isinstance(shape_node.op, Shape) and shape_node.inputs[0] is x:
            return None
    return [tm.cast(length, "int64")]


@node_rewriter(tracks=[Alloc], name="useless_alloc")
def useless_alloc(fgraph, node):
    """alloc(x, shape of x) -> x, when x already has the full shape."""
    value, *shape = node.inputs
    out = node.outputs[0]
    if value.ndim != out.ndim:
        return None
    for axis, length in enumerate(shape):
        same = (
            value.type.shape[axis] is not None and value.type.shape[axis] == out.type.shape[axis]
        ) or (
            length.owner is not None
            and isinstance(length.owner.op, Subtensor)
            and length.owner.inputs[0].owner is not None
            and isinstance(length.owner.inputs[0].owner.op, Shape)
            and length.owner.inputs[0].owner.inputs[0] is value
            and length.owner.op.spec == (("int", axis),)
        )
        if not same:
            return None
    return [value]


@node_rewriter(tracks=[DimShuffle], name="dimshuffle_alloc")
def dimshuffle_alloc(fgraph, node):
    """dimshuffle(alloc(v, *shape)) -> alloc(dimshuffle(v), *shuffled shape).

    The alloc moves towards its elementwise clients, where `elemwise_alloc` can
    replace it by broadcasting.
    """
    allocated = node.inputs[0]
    owner = allocated.owner
    if owner is None or not isinstance(owner.op, Alloc):
        return None
    if len(fgraph.clients.get(allocated, ())) != 1:
        return None
    value, *shape = owner.inputs
    lead = len(shape) - value.ndim
    padded = value.dimshuffle(["x"] * lead + list(range(value.ndim))) if lead else value
    if any(padded.type.shape[d] != 1 for d in node.op.dropped):
        return None
    one = tm.as_tensor_variable(np.asarray(1, dtype="int64"))
    new_shape = [one if d == "x" else shape[d] for d in node.op.new_order]
    return [Alloc()(padded.dimshuffle(node.op.new_order), *new_shape)]


@node_rewriter(tracks=[Elemwise], name="elemwise_alloc")
def elemwise_alloc(fgraph, node):
    """An alloc feeding an elementwise op is just broadcasting when another input
    already gives the output its length along each axis the alloc would stretch."""
    for position, var in enumerate(node.inputs):
        if var.owner is None or not isinstance(var.owner.op, Alloc):
            continue
        value = var.owner.inputs[0]
        out_ndim = node.outputs[0].ndim
        padded = (1,) * (out_ndim - value.ndim) + value.type.shape
        others = [v for i, v in enumerate(node.inputs) if i != position]
        stretched = [a for a in range(out_ndim) if padded[a] == 1 and var.type.shape[a] != 1]
        if all(any(o.type.shape[a] != 1 for o in others) for a in stretched):
            broadcast = value.dimshuffle(["x"] * (out_ndim - value.ndim) + list(range(value.ndim)))
            if any(
                p != 1 and p != s and s is not None and p is not None
                for p, s in zip(padded, var.type.shape)
            ):
                continue
            inputs = list(node.inputs)
            inputs[position] = broadcast
            return [node.op(*inputs)]
    return None


NODE_REWRITES = [
    constant_fold,
    collect_constants,
    dimshuffle_compose,
    useless_reshape,
    useless_cast,
    useless_specify_shape,
    reduce_nothing,
    reduce_length_one,
    static_shape,
    shape_lift,
    shape_vector_lift,
    useless_alloc,
    dimshuffle_alloc,
    elemwise_alloc,
    div_self,
]

canonicalize_pass = EquilibriumPass("canonicalize", NODE_REWRITES)
canonicalize_pass.rules(*ALGEBRA)

#: what FAST_COMPILE runs: folding and the local algebra, no shape analysis
cheap_pass = EquilibriumPass(
    "canonicalize_cheap", [constant_fold, dimshuffle_compose, useless_cast]
)
cheap_pass.rules(*ALGEBRA)

del Constant
