"""``stabilize``: replace expressions that overflow or lose precision by stable forms."""

from __future__ import annotations

import math

import numpy as np

from croton.ops.elemwise import DimShuffle, Elemwise
from croton.ops.nnet import Softmax
from croton.ops.reduce import Reduce
from croton.ops.subtensor import Subtensor
from croton.rewrite.engine import EquilibriumPass, node_rewriter
from croton.rewrite.pattern import P
from croton.tensor import math as tm
from croton.tensor import nnet

#: log(2): below -log(2), log1p(-exp(x)) is the accurate form of log(1 - exp(x))
LOG_TWO = math.log(2.0)

x = P.var("x")
softmax_of_x = P.node(Softmax, x).bind_op("softmax")

RULES = [
    (P.log(1 + x), lambda x: tm.log1p(x), "log1p"),  # log(1 + x) -> log1p(x)
    (P.exp(x) - 1, lambda x: tm.expm1(x), "expm1"),  # exp(x) - 1 -> expm1(x)
    (P.exp(x) + -1, lambda x: tm.expm1(x), "expm1_add"),  # exp(x) + -1 -> expm1(x)
    (
        P.log(1 - P.exp(x)),
        lambda x: tm.switch(
            tm.lt(x, -LOG_TWO),
            # clamped, so the branch not taken has a finite gradient (0 * inf is nan)
            tm.log1p(-tm.exp(tm.minimum(x, -LOG_TWO))),
            tm.log(-tm.expm1(x)),
        ),
        "log1mexp",
    ),  # log(1 - exp(x)) -> log1p(-exp(x)) for x < -log 2, else log(-expm1(x))
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
    (P.log(1 - x), lambda x: tm.log1p(-x), "log1p_neg"),  # log(1 - x) -> log1p(-x)
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


def _plain_reduction(node, kind: str) -> bool:
    """True for a node reducing with ``kind`` and no fused prologue."""
    return (
        node is not None
        and isinstance(node.op, Reduce)
        and node.op.kind == kind
        and node.op.prologue is None
    )


def _max_shifted(var) -> tuple | None:
    """``(x, axes)`` for ``var = x - max(x, axes)`` with the reduced axes put back in
    place (``keepdims``), the stable form users write; None for anything else."""
    owner = var.owner
    if owner is None or not isinstance(owner.op, Elemwise) or owner.op.scalar_op.name != "sub":
        return None
    x, shift = owner.inputs
    if shift.owner is None or not isinstance(shift.owner.op, DimShuffle):
        return None
    restored = shift.owner.op.new_order
    peak = shift.owner.inputs[0].owner
    if not _plain_reduction(peak, "max") or peak.inputs[0] is not x:
        return None
    kept = [d for d in range(x.ndim) if d not in peak.op.axis]
    expected = tuple("x" if d in peak.op.axis else kept.index(d) for d in range(x.ndim))
    return (x, peak.op.axis) if restored == expected else None


def _is_shifted(var, axes) -> bool:
    """True for ``x - m`` where ``m`` is already a shift over ``axes``: our own
    logsumexp's ``switch(isinf(peak), 0, peak)``, or the user's ``max(x, axes)``.

    Shifting those again would take a second maximum, one more pass over ``x``.
    """
    shifted = _max_shifted(var)
    if shifted is not None:
        return set(shifted[1]) == set(axes)
    owner = var.owner
    if owner is None or not isinstance(owner.op, Elemwise) or owner.op.scalar_op.name != "sub":
        return False
    shift = owner.inputs[1]
    while shift.owner is not None and not isinstance(shift.owner.op, Elemwise):
        shift = shift.owner.inputs[0]
    return shift.owner is not None and shift.owner.op.scalar_op.name == "switch"


def _only_inserts_axes(op) -> bool:
    """True for a dimshuffle that only inserts broadcastable axes (as keepdims does)."""
    return isinstance(op, DimShuffle) and [d for d in op.new_order if d != "x"] == list(
        range(op.input_ndim)
    )


@node_rewriter(tracks=[("elemwise", "log")], name="logsumexp")
def log_sum_exp(fgraph, node):
    """log(sum(exp(x), axis)) -> logsumexp(x, axis), which cannot overflow (keepdims too)."""
    (total,) = node.inputs
    kept_dims = None
    if total.owner is not None and _only_inserts_axes(total.owner.op):
        kept_dims, total = total.owner.op.new_order, total.owner.inputs[0]
    owner = total.owner
    if not _plain_reduction(owner, "sum"):
        return None
    exponential = owner.inputs[0]
    inner = exponential.owner
    if inner is None or not isinstance(inner.op, Elemwise) or inner.op.scalar_op.name != "exp":
        return None
    if _is_shifted(inner.inputs[0], owner.op.axis) or owner.op.dtype not in (None, total.dtype):
        return None
    result = tm.logsumexp(inner.inputs[0], axis=owner.op.axis)
    return [result if kept_dims is None else result.dimshuffle(kept_dims)]


def _same_exponential(var, exponential) -> bool:
    """True if ``var`` is ``exponential`` or another ``exp`` of the same input.

    ``grad`` stabilizes its cost before merging, so ``exp(x) / sum(exp(x))`` written
    with two ``exp`` calls must match as well.
    """
    if var is exponential:
        return True
    owner, other = var.owner, exponential.owner
    return (
        owner is not None
        and isinstance(owner.op, Elemwise)
        and owner.op == other.op
        and owner.inputs[0] is other.inputs[0]
    )


@node_rewriter(tracks=[("elemwise", "true_div")], name="softmax_from_exp")
def softmax_from_exp(fgraph, node):
    """exp(x) / sum(exp(x), axis, keepdims=True) -> softmax(x, axis), which cannot overflow."""
    numerator, denominator = node.inputs
    exponential = numerator.owner
    if (
        exponential is None
        or not isinstance(exponential.op, Elemwise)
        or exponential.op.scalar_op.name != "exp"
        or exponential.inputs[0].dtype != numerator.dtype
        or denominator.owner is None
        or not _only_inserts_axes(denominator.owner.op)
    ):
        return None
    total = denominator.owner.inputs[0].owner
    if (
        not _plain_reduction(total, "sum")
        or len(total.op.axis) != 1
        or total.op.dtype not in (None, numerator.dtype)
        or not _same_exponential(total.inputs[0], numerator)
    ):
        return None
    (axis,) = total.op.axis
    restored = list(range(numerator.ndim - 1))
    restored.insert(axis, "x")
    if denominator.owner.op.new_order != tuple(restored):
        return None
    logits = exponential.inputs[0]
    shifted = _max_shifted(logits)
    if shifted is not None and shifted[1] == (axis,):
        logits = shifted[0]  # softmax shifts by that same maximum itself: once is enough
    return [nnet.softmax(logits, axis)]


class _Length:
    """A symbolic stand-in for ``var.shape[axis]``, passed to ``infer_shape``."""

    __slots__ = ("var", "axis")

    def __init__(self, var, axis: int):
        self.var = var
        self.axis = axis


def _length_origin(var, axis: int) -> tuple:
    """The ``(variable, axis)`` whose length ``var.shape[axis]`` copies.

    Producers are followed while their ``infer_shape`` passes one input's length on
    unchanged (elementwise ops, dot, softmax, ...), so the rows of the logits of an
    MLP lead back to the rows of its data, as shape lifting leaves them.
    """
    while var.owner is not None:
        node = var.owner
        if var.type.shape[axis] is not None:
            break
        input_shapes = [tuple(_Length(v, i) for i in range(v.ndim)) for v in node.inputs]
        try:
            length = node.op.infer_shape(node, input_shapes)[var.index][axis]
        except Exception:  # infer_shape did arithmetic on the stand-ins: the trail ends
            break
        if not isinstance(length, _Length):
            break
        var, axis = length.var, length.axis
    return var, axis


def _measured_length(length) -> tuple | None:
    """``(variable, axis)`` for a scalar graph ``shape(variable)[axis]`` (casts allowed)."""
    from croton.ops.shape import Shape

    while (
        length.owner is not None
        and isinstance(length.owner.op, Elemwise)
        and length.owner.op.scalar_op.name == "cast"
    ):
        length = length.owner.inputs[0]
    owner = length.owner
    if owner is None or not isinstance(owner.op, Subtensor) or len(owner.op.spec) != 1:
        return None
    entry = owner.op.spec[0]
    if entry[0] != "int" or entry[1] == "in":
        return None
    shape = owner.inputs[0].owner
    if shape is None or not isinstance(shape.op, Shape):
        return None
    measured = shape.inputs[0]
    return measured, entry[1] % max(measured.ndim, 1)


def _is_row_range(rows, x) -> bool:
    """True if ``rows`` is ``arange(n)`` with n the number of rows of ``x``."""
    from croton.graph.basic import Constant
    from croton.ops.shape import ARange
    from croton.rewrite.pattern import constant_value

    length = x.type.shape[0]
    if isinstance(rows, Constant):  # arange(n) of a static n, folded by canonicalize
        data = np.asarray(rows.data)
        return length is not None and np.array_equal(data, np.arange(length))
    owner = rows.owner
    if owner is None or not isinstance(owner.op, ARange):
        return False
    start, stop, step = owner.inputs
    if constant_value(start) != 0 or constant_value(step) != 1:
        return False
    if length is not None and constant_value(stop) == length:
        return True
    measured = _measured_length(stop)
    if measured is None:
        return False
    if length is not None and measured[0].type.shape[measured[1]] == length:
        return True
    return _length_origin(*measured) == _length_origin(x, 0)


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
    if targets.type.shape[0] == 1 and x.type.shape[0] != 1:
        return None  # one target broadcast to every row
    return [CrossEntropySoftmax()(x, targets)]


stabilize_pass = EquilibriumPass(
    "stabilize", [log_softmax_indexed, log_sum_exp, softmax_from_exp, crossentropy_softmax]
)
stabilize_pass.rules(*RULES)
