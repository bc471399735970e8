"""``stabilize``: replace expressions that overflow or lose precision by stable forms."""

from __future__ import annotations

from croton.ops.elemwise import Elemwise
from croton.ops.nnet import Softmax
from croton.ops.reduce import Reduce
from croton.ops.subtensor import Subtensor
from croton.rewrite.engine import EquilibriumPass, node_rewriter
from croton.rewrite.pattern import P
from croton.tensor import math as tm
from croton.tensor import nnet

x = P.var("x")
softmax_of_x = P.node(Softmax, x).bind_op("softmax")

RULES = [
    (P.log(1 + x), lambda x: tm.log1p(x), "log1p"),  # log(1 + x) -> log1p(x)
    (P.exp(x) - 1, lambda x: tm.expm1(x), "expm1"),  # exp(x) - 1 -> expm1(x)
    (
        P.log(1 + P.exp(x)),
        lambda x: tm.softplus(x),
        "log1p_exp_softplus",
    ),  # log(1 + exp(x)) -> softplus(x)
    (P.log1p(P.exp(x)), lambda x: tm.softplus(x), "softplus"),  # log1p(exp(x)) -> softplus(x)
    (
        P.log(P.sigmoid(x)),
        lambda x: -tm.softplus(-x),
        "log_sigmoid",
    ),  # log(sigmoid(x)) -> -softplus(-x)
    (
        P.log(1 - P.sigmoid(x)),
        lambda x: -tm.softplus(x),
        "log_one_minus_sigmoid",
    ),  # log(1 - sigmoid(x)) -> -softplus(x)
    (
        P.log1p(-P.sigmoid(x)),
        lambda x: -tm.softplus(x),
        "log1p_neg_sigmoid",
    ),  # log1p(-sigmoid(x)) -> -softplus(x)
    (
        1 - P.sigmoid(x),
        lambda x: tm.sigmoid(-x),
        "one_minus_sigmoid",
    ),  # 1 - sigmoid(x) -> sigmoid(-x)
    (
        1 / (1 + P.exp(x)),
        lambda x: tm.sigmoid(-x),
        "logistic_sigmoid",
    ),  # 1 / (1 + exp(x)) -> sigmoid(-x)
    (
        P.reciprocal(1 + P.exp(x)),
        lambda x: tm.sigmoid(-x),
        "reciprocal_sigmoid",
    ),  # 1/(1+exp(x)) -> sigmoid(-x)
    (
        P.log(softmax_of_x),
        lambda x, softmax: nnet.logsoftmax(x, softmax.axis),
        "log_softmax",
    ),  # log(softmax(x)) -> logsoftmax(x)
]


@node_rewriter(tracks=[("elemwise", "log")], name="log_softmax_indexed")
def log_softmax_indexed(fgraph, node):
    """log(softmax(x)[index]) -> logsoftmax(x)[index]: cross-entropy's form."""
    (selected,) = node.inputs
    owner = selected.owner
    if owner is None or not isinstance(owner.op, Subtensor):
        return None
    source = owner.inputs[0]
    if source.owner is None or not isinstance(source.owner.op, Softmax):
        return None
    log_probabilities = nnet.logsoftmax(source.owner.inputs[0], source.owner.op.axis)
    return [owner.op(log_probabilities, *owner.inputs[1:])]


def _is_shifted(var) -> bool:
    """True for ``x - switch(isinf(m), 0, m)``, the inside of our own logsumexp."""
    owner = var.owner
    if owner is None or not isinstance(owner.op, Elemwise) or owner.op.scalar_op.name != "sub":
        return False
    shift = owner.inputs[1]
    while shift.owner is not None and not isinstance(shift.owner.op, Elemwise):
        shift = shift.owner.inputs[0]
    return shift.owner is not None and shift.owner.op.scalar_op.name == "switch"


@node_rewriter(tracks=[("elemwise", "log")], name="logsumexp")
def log_sum_exp(fgraph, node):
    """log(sum(exp(x), axis)) -> logsumexp(x, axis), which cannot overflow."""
    (total,) = node.inputs
    owner = total.owner
    if owner is None or not isinstance(owner.op, Reduce) or owner.op.kind != "sum":
        return None
    exponential = owner.inputs[0]
    inner = exponential.owner
    if inner is None or not isinstance(inner.op, Elemwise) or inner.op.scalar_op.name != "exp":
        return None
    if _is_shifted(inner.inputs[0]) or owner.op.dtype not in (None, total.dtype):
        return None
    return [tm.logsumexp(inner.inputs[0], axis=owner.op.axis)]


def _is_row_range(rows, x) -> bool:
    """True if ``rows`` is ``arange(n)`` with n the number of rows of ``x`` (or of a
    softmax or log-softmax of ``x``)."""
    from croton.ops.shape import ARange, Shape
    from croton.rewrite.pattern import constant_value

    owner = rows.owner
    if owner is None or not isinstance(owner.op, ARange):
        return False
    start, stop, step = owner.inputs
    if constant_value(start) != 0 or constant_value(step) != 1:
        return False
    while (
        stop.owner is not None
        and isinstance(stop.owner.op, Elemwise)
        and stop.owner.op.scalar_op.name == "cast"
    ):
        stop = stop.owner.inputs[0]
    length = stop.owner
    if length is None or not isinstance(length.op, Subtensor) or length.op.spec != (("int", 0),):
        return False
    shape = length.inputs[0].owner
    if shape is None or not isinstance(shape.op, Shape):
        return False
    measured = shape.inputs[0]
    return measured is x or (measured.owner is not None and measured.owner.inputs[0] is x)


@node_rewriter(tracks=[("elemwise", "neg")], name="crossentropy_softmax")
def crossentropy_softmax(fgraph, node):
    """-logsoftmax(x)[arange(n), y] -> CrossEntropySoftmax(x, y): one op, stable gradient."""
    from croton.ops.nnet import CrossEntropySoftmax, LogSoftmax

    (picked,) = node.inputs
    owner = picked.owner
    if (
        owner is None
        or not isinstance(owner.op, Subtensor)
        or owner.op.spec != (("array",), ("array",))
    ):
        return None
    source, rows, targets = owner.inputs
    producer = source.owner
    if (
        producer is None
        or not isinstance(producer.op, LogSoftmax)
        or producer.op.axis != 1
        or source.ndim != 2
    ):
        return None
    x = producer.inputs[0]
    if targets.ndim != 1 or not _is_row_range(rows, x):
        return None
    return [CrossEntropySoftmax()(x, targets)]


stabilize_pass = EquilibriumPass(
    "stabilize", [log_softmax_indexed, log_sum_exp, crossentropy_softmax]
)
stabilize_pass.rules(*RULES)
