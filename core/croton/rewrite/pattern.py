"""Declarative graph patterns: a rewrite reads like algebra.

::

    x, y = P.var("x"), P.var("y")
    (x * 1, lambda x: x)             # x*1 -> x
    (P.log(1 + x), lambda x: log1p(x))

``P.var(name)`` matches any variable and binds it; a name used twice must match the
same variable. Numbers match constants holding that value everywhere (after
broadcasting). ``P.<scalar op name>(...)`` matches an `Elemwise` of that scalar op;
commutative ops match either argument order. ``P.node(OpClass, *inputs, **props)``
matches any other op.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from croton.graph.basic import Constant, Variable

Bindings = dict


class Pattern:
    """Base class: ``matches(var, bindings)`` yields every way ``var`` extends the
    bindings (a commutative op can match in two orders); ``match`` takes the first."""

    def matches(self, var: Variable, bindings: Bindings) -> Iterator[Bindings]:
        raise NotImplementedError

    def match(self, var: Variable, bindings: Bindings) -> Bindings | None:
        return next(self.matches(var, bindings), None)

    @property
    def root_key(self):
        """What the root node must be, for indexing rewrites: an op class, a
        ``("elemwise", name)`` pair, or None for anything."""
        return None

    # arithmetic builds patterns, as it builds graphs
    def __add__(self, other):
        return ElemwisePattern("add", self, other)

    def __radd__(self, other):
        return ElemwisePattern("add", other, self)

    def __sub__(self, other):
        return ElemwisePattern("sub", self, other)

    def __rsub__(self, other):
        return ElemwisePattern("sub", other, self)

    def __mul__(self, other):
        return ElemwisePattern("mul", self, other)

    def __rmul__(self, other):
        return ElemwisePattern("mul", other, self)

    def __truediv__(self, other):
        return ElemwisePattern("true_div", self, other)

    def __rtruediv__(self, other):
        return ElemwisePattern("true_div", other, self)

    def __pow__(self, other):
        return ElemwisePattern("pow", self, other)

    def __neg__(self):
        return ElemwisePattern("neg", self)


def as_pattern(x) -> Pattern:
    if isinstance(x, Pattern):
        return x
    if isinstance(x, (int, float, bool, np.number)):
        return ConstPattern(x)
    raise TypeError(f"cannot use {x!r} in a pattern")


class VarPattern(Pattern):
    """Any variable (optionally satisfying ``constraint(var)``), bound to ``name``."""

    def __init__(self, name: str, constraint: Callable[[Variable], bool] | None = None):
        self.name = name
        self.constraint = constraint

    def matches(self, var, bindings):
        bound = bindings.get(self.name)
        if bound is not None:
            if bound is var:
                yield bindings
        elif self.constraint is None or self.constraint(var):
            yield {**bindings, self.name: var}

    def __repr__(self) -> str:
        return self.name


def constant_source(var: Variable) -> Constant | None:
    """The constant behind ``var``: itself, or one only given broadcastable axes."""
    from croton.ops.elemwise import DimShuffle

    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    return var if isinstance(var, Constant) else None


def constant_value(var: Variable):
    """The single value every element of constant ``var`` holds, or None."""
    var = constant_source(var)
    if var is None:
        return None
    data = np.asarray(var.data)
    if data.size == 0:
        return None
    first = data.flat[0]
    if data.size > 1 and not np.all(data == first):
        return None
    return first


class ConstPattern(Pattern):
    """A constant whose elements all equal ``value`` (any constant if ``value`` is None)."""

    def __init__(self, value=None, name: str | None = None):
        self.value = value
        self.name = name

    def matches(self, var, bindings):
        if constant_source(var) is None:
            return
        if self.value is not None:
            value = constant_value(var)
            if value is None or not value == self.value:
                return
        yield {**bindings, self.name: var} if self.name else bindings

    def __repr__(self) -> str:
        return repr(self.value) if self.value is not None else f"const({self.name})"


class ElemwisePattern(Pattern):
    """An `Elemwise` of scalar op ``name`` applied to sub-patterns."""

    def __init__(self, name: str, *inputs):
        from croton.ops.scalar import SCALAR_OPS

        if name not in SCALAR_OPS:
            raise ValueError(f"no scalar op named {name!r}")
        self.name = name
        self.inputs = [as_pattern(i) for i in inputs]
        self.commutative = SCALAR_OPS[name].commutative and len(self.inputs) == 2

    @property
    def root_key(self):
        return ("elemwise", self.name)

    def matches(self, var, bindings):
        from croton.ops.elemwise import Elemwise

        node = var.owner
        if node is None or not isinstance(node.op, Elemwise) or node.op.scalar_op.name != self.name:
            return
        yield from _match_all(self.inputs, node.inputs, bindings)
        if self.commutative and node.inputs[0] is not node.inputs[1]:
            yield from _match_all(self.inputs, node.inputs[::-1], bindings)

    def __repr__(self) -> str:
        return f"{self.name}({', '.join(map(repr, self.inputs))})"


class NodePattern(Pattern):
    """Any op of class ``op_class`` with matching props, applied to sub-patterns.

    With ``inputs`` None the op's inputs are not examined.
    """

    def __init__(self, op_class: type, *inputs, **props):
        self.op_class = op_class
        self.inputs = None if inputs == (None,) else [as_pattern(i) for i in inputs]
        self.props = props

    @property
    def root_key(self):
        return self.op_class

    def matches(self, var, bindings):
        node = var.owner
        if node is None or not isinstance(node.op, self.op_class):
            return
        for prop, want in self.props.items():
            have = getattr(node.op, prop)
            if callable(want) and not isinstance(want, type):
                if not want(have):
                    return
            elif have != want:
                return
        if self.inputs is None:
            yield bindings
        else:
            yield from _match_all(self.inputs, node.inputs, bindings)

    def bind_op(self, name: str) -> BoundNodePattern:
        """This pattern, also binding the matched node's op to ``name``."""
        return BoundNodePattern(self, name)

    def __repr__(self) -> str:
        return f"{self.op_class.__name__}({', '.join(map(repr, self.inputs or []))})"


class BoundNodePattern(Pattern):
    """A `NodePattern` that binds the matched op (for rules that need its props)."""

    def __init__(self, pattern: NodePattern, name: str):
        self.pattern = pattern
        self.name = name

    @property
    def root_key(self):
        return self.pattern.root_key

    def matches(self, var, bindings):
        for result in self.pattern.matches(var, bindings):
            yield {**result, self.name: var.owner.op}


def _match_all(patterns, variables, bindings) -> Iterator[Bindings]:
    """Every binding under which each pattern matches its variable, searched depth-first."""
    if len(patterns) != len(variables):
        return
    if not patterns:
        yield bindings
        return
    for extended in patterns[0].matches(variables[0], bindings):
        yield from _match_all(patterns[1:], variables[1:], extended)


class _PatternNamespace:
    """``P.var``, ``P.const``, ``P.node`` and ``P.<scalar op>(...)``."""

    var = staticmethod(VarPattern)
    node = staticmethod(NodePattern)

    @staticmethod
    def const(value=None, name: str | None = None) -> ConstPattern:
        return ConstPattern(value, name)

    def __getattr__(self, name: str):
        from croton.ops.scalar import SCALAR_OPS

        if name in SCALAR_OPS:
            return lambda *inputs: ElemwisePattern(name, *inputs)
        raise AttributeError(f"no scalar op or pattern helper named {name!r}")


P = _PatternNamespace()
