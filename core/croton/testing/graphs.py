"""Random expression graphs for the conformance suite, built from shrinkable recipes.

A recipe is a list of steps ``(operation, first operand, second operand, parameter)``;
operands index the values made so far (modulo their number), starting from three
inputs. A step that does not apply to its operands' shapes is skipped, so every list
is a valid recipe and hypothesis can shrink a failing one step by step. `Recipe.source`
prints the graph as croton code, the reproducer of a failure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["INPUT_SHAPES", "OPERATIONS", "Recipe", "recipes"]

#: the inputs every recipe starts from: (name, static shape)
INPUT_SHAPES = (("a", (3, 4)), ("b", (3, 4)), ("c", (4,)))

_UNARY = {
    "tanh": "T.tanh({0})",
    "sin": "T.sin({0})",
    "exp": "T.exp(T.clip({0}, -5, 5))",
    "abs": "T.abs({0})",
    "sqr": "T.sqr({0})",
    "neg": "-{0}",
    "sigmoid": "T.nnet.sigmoid({0})",
    "log1p": "T.log1p(T.abs({0}))",
    "transpose": "{0}.T",
    "reverse": "{0}[::-1]",
    "tail": "{0}[1:]",
    "first": "{0}[0]",
    "take": "{0}[[0, 2, 2, 1]]",
    "flatten": "{0}.flatten()",
}
_BINARY = {
    "add": "{0} + {1}",
    "sub": "{0} - {1}",
    "mul": "{0} * {1}",
    "maximum": "T.maximum({0}, {1})",
    "div": "{0} / (1 + T.abs({1}))",
    "switch": "T.switch({0} > {1}, {0}, {1})",
    "dot": "T.dot({0}, {1})",
}
_REDUCE = {
    "sum": "T.sum({0}, axis={p}, keepdims={k})",
    "max": "T.max({0}, axis={p}, keepdims={k})",
    "mean": "T.mean({0}, axis={p}, keepdims={k})",
    "logsumexp": "T.logsumexp({0}, axis={p}, keepdims={k})",
}
OPERATIONS = tuple(_UNARY) + tuple(_BINARY) + tuple(_REDUCE)


def _broadcast(first: tuple, second: tuple) -> tuple | None:
    ndim = max(len(first), len(second))
    first = (1,) * (ndim - len(first)) + first
    second = (1,) * (ndim - len(second)) + second
    shape = []
    for m, n in zip(first, second):
        if m != n and 1 not in (m, n):
            return None
        shape.append(max(m, n) if 0 not in (m, n) else 0)
    return tuple(shape)


def _dot_shape(first: tuple, second: tuple) -> tuple | None:
    if not first or not second or len(first) > 2 or len(second) > 2:
        return None
    inner = first[-1]
    other = second[0] if len(second) == 1 else second[-2]
    if inner != other:
        return None
    return first[:-1] + second[:-2] + second[-1:] if len(second) == 2 else first[:-1]


def _result_shape(operation: str, shapes: list, parameter: int):
    """The output shape of ``operation`` on operands of ``shapes``, or None if it does not apply."""
    x = shapes[0]
    if operation in _UNARY:
        if operation == "transpose":
            return x[::-1] if len(x) == 2 else None
        if operation in ("reverse", "tail", "first", "take") and not x:
            return None
        if operation == "tail":
            return (x[0] - 1,) + x[1:] if x[0] > 1 else None
        if operation == "first":
            return x[1:] if x[0] > 0 else None
        if operation == "take":
            return (4,) + x[1:] if x[0] >= 3 else None
        if operation == "flatten":
            return (int(np.prod(x)),)
        return x
    if operation in _BINARY:
        if operation == "dot":
            return _dot_shape(*shapes)
        return _broadcast(*shapes)
    if not x or 0 in x:  # reductions of empty arrays are not all defined
        return None
    axis = parameter % len(x)
    keep = parameter >= len(x)
    return (
        tuple(1 if i == axis else n for i, n in enumerate(x)) if keep else x[:axis] + x[axis + 1 :]
    )


@dataclass(frozen=True)
class Recipe:
    """A list of steps and the graph it builds."""

    steps: tuple

    def lines(self) -> list[str]:
        """The croton statements of the graph, one per applied step."""
        names = [name for name, _ in INPUT_SHAPES]
        shapes = [shape for _, shape in INPUT_SHAPES]
        lines = []
        for operation, i, j, parameter in self.steps:
            first, second = i % len(names), j % len(names)
            binary = operation in _BINARY
            operands = [first, second] if binary else [first]
            shape = _result_shape(operation, [shapes[k] for k in operands], parameter)
            if shape is None:
                continue
            args = [names[k] for k in operands]
            if operation in _REDUCE:
                ndim = len(shapes[first])
                template = _REDUCE[operation]
                expression = template.format(args[0], p=parameter % ndim, k=parameter >= ndim)
            else:
                expression = (_BINARY if binary else _UNARY)[operation].format(*args)
            name = f"v{len(names)}"
            lines.append(f"{name} = {expression}")
            names.append(name)
            shapes.append(shape)
        return lines

    def source(self) -> str:
        """A self-contained program building the graph (the failure's reproducer)."""
        header = ["import croton.tensor as T"]
        header += [
            f"{name} = T.tensor('float64', shape={shape}, name={name!r})"
            for name, shape in INPUT_SHAPES
        ]
        body = self.lines()
        result = body[-1].split(" = ")[0] if body else "a"
        return "\n".join(header + body + [f"output = {result}"])

    def build(self):
        """``(inputs, [output])`` of the graph."""
        namespace: dict = {}
        exec(compile(self.source(), "<conformance recipe>", "exec"), namespace)
        inputs = [namespace[name] for name, _ in INPUT_SHAPES]
        return inputs, [namespace["output"]]

    def values(self, rng) -> list[np.ndarray]:
        return [rng.uniform(-2.0, 2.0, size=shape) for _, shape in INPUT_SHAPES]


def recipes(max_steps: int = 8):
    """A hypothesis strategy for recipes of up to ``max_steps`` steps."""
    from hypothesis import strategies as st

    step = st.tuples(
        st.sampled_from(OPERATIONS),
        st.integers(0, 15),
        st.integers(0, 15),
        st.integers(0, 5),
    )
    return st.lists(step, min_size=1, max_size=max_steps).map(lambda s: Recipe(tuple(s)))
