"""The nodes of an expression graph: variables, constants, applications and ops."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CreationSite(tuple):
    """Where in the user's code a variable was made: ``(filename, lineno, function)``."""

    __slots__ = ()

    def describe(self) -> str:
        import linecache

        filename, lineno, function = self
        line = linecache.getline(filename, lineno).strip()
        where = f'File "{filename}", line {lineno}, in {function}'
        return f"{where}\n    {line}" if line else where


def _user_creation_site() -> CreationSite | None:
    """The innermost stack frame outside croton's own package."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_ROOT) and "croton_" not in filename:
            return CreationSite((filename, frame.f_lineno, frame.f_code.co_name))
        frame = frame.f_back
    return None


class Variable:
    """A typed value in a graph: an input, a constant, or the output of an `Apply`.

    Parameters
    ----------
    type
        The variable's type (for tensors, a `TensorType`).
    owner
        The `Apply` node that computes it, or None for an input.
    index
        The position of this variable in ``owner.outputs``.
    name
        An optional name, used in printing and error messages.
    """

    __array_priority__ = 1000  # so numpy defers `ndarray + Variable` to us

    def __init__(self, type, owner: Apply | None = None, index: int | None = None, name=None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.creation = _user_creation_site()

    @property
    def tag(self):
        """A namespace for a user's notes on the variable, as Theano's ``x.tag``
        (``x.tag.test_value = ...`` is kept, and not used: croton computes no test
        values)."""
        import types

        notes = self.__dict__.get("_tag")
        if notes is None:
            notes = self.__dict__["_tag"] = types.SimpleNamespace()
        return notes

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        if self.owner is not None:
            return f"{self.owner.op}.{self.index}"
        return f"<{self.type}>"

    def clone(self) -> Variable:
        """A new input variable of the same type, name and creation site, with no owner."""
        copy = type(self)(self.type, None, None, self.name)
        copy.creation = self.creation
        return copy

    def where(self) -> str:
        """Describe where in user code this variable was created."""
        return self.creation.describe() if self.creation else "(created inside croton)"

    def eval(self, inputs_to_values: dict | None = None):
        """Compile and evaluate this variable, as Theano's ``Variable.eval``."""
        from croton.compile.function import function

        inputs_to_values = inputs_to_values or {}
        inputs = list(inputs_to_values)
        fn = function(inputs, self, on_unused_input="ignore")
        return fn(*[inputs_to_values[v] for v in inputs])


class Constant(Variable):
    """A variable whose value is fixed when the graph is built."""

    def __init__(self, type, data, name=None):
        super().__init__(type, None, None, name)
        self.data = data

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        import numpy as np

        data = np.asarray(self.data)
        if data.size <= 6:
            text = np.array2string(data, separator=", ")
            return text
        return f"Constant{{{data.shape}}}"

    def clone(self) -> Constant:
        copy = type(self)(self.type, self.data, self.name)
        copy.creation = self.creation
        return copy

    def signature(self):
        """A hashable key: equal for constants of equal type and value."""
        import numpy as np

        data = np.asarray(self.data)
        return (self.type, data.shape, data.tobytes())


class Apply:
    """The application of an `Op` to input variables, producing output variables."""

    __slots__ = ("op", "inputs", "outputs", "tag")

    def __init__(self, op: Op, inputs: Sequence[Variable], outputs: Sequence[Variable]):
        self.op = op
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        for i, out in enumerate(self.outputs):
            out.owner = self
            out.index = i

    def __repr__(self) -> str:
        return f"{self.op}({', '.join(map(str, self.inputs))})"

    def clone_with_new_inputs(self, inputs: Sequence[Variable]) -> Apply:
        """Re-apply the op to new inputs (type inference runs again)."""
        return self.op.make_node(*inputs)

    @property
    def out(self) -> Variable:
        """The single output of a one-output node."""
        (out,) = self.outputs
        return out


class Op:
    """An operation: type inference, shape inference and gradient; no numeric kernel.

    Subclasses set ``__props__``, a tuple of attribute names that defines equality and
    hashing, and implement `make_node`. Kernels live in backends, keyed by op class.
    """

    __props__: tuple[str, ...] = ()
    #: differentiable ops implement L_op or grad
    differentiable = True

    def _props(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__props__)

    def __eq__(self, other: Any) -> bool:
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self) -> int:
        return hash((type(self), self._props()))

    def __str__(self) -> str:
        name = type(self).__name__
        if not self.__props__:
            return name
        props = ", ".join(f"{p}={getattr(self, p)!r}" for p in self.__props__)
        return f"{name}{{{props}}}"

    __repr__ = __str__

    def make_node(self, *inputs) -> Apply:
        """Build the `Apply` node: convert inputs, infer output types.

        The default serves ops that declare Theano's ``itypes`` and ``otypes`` (lists
        of `TensorType`): the inputs must be of ``itypes``, the outputs are new
        variables of ``otypes``.
        """
        itypes, otypes = getattr(self, "itypes", None), getattr(self, "otypes", None)
        if itypes is None or otypes is None:
            raise NotImplementedError(
                f"{type(self).__name__} defines no make_node (nor itypes and otypes)"
            )
        from croton.tensor.variable import as_tensor_variable

        if len(inputs) != len(itypes):
            raise TypeError(f"{self} takes {len(itypes)} inputs, got {len(inputs)}")
        variables = []
        for k, (value, type_) in enumerate(zip(inputs, itypes)):
            var = as_tensor_variable(value)
            if not type_.is_super(var.type):
                raise TypeError(
                    f"{self}: input {k} must be {type_}, got {var} ({var.type}); cast it or "
                    "declare another type in itypes"
                )
            variables.append(var)
        return Apply(self, variables, [type_() for type_ in otypes])

    def __call__(self, *inputs, **kwargs):
        node = self.make_node(*inputs, **kwargs)
        if len(node.outputs) == 1:
            return node.outputs[0]
        return node.outputs

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        """Symbolic output shapes (tuples of scalar variables) from the input shapes."""
        raise NotImplementedError(f"{self} has no infer_shape")

    def L_op(self, inputs, outputs, output_grads):
        """Vector-Jacobian product: the gradient of each input, or None if disconnected."""
        return self.grad(inputs, output_grads)

    def grad(self, inputs, output_grads):
        raise NotImplementedError(
            f"{self} does not define a gradient; croton cannot differentiate through it"
        )

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        """For each input, for each output: can the output depend on the input's value?"""
        return [[True] * len(node.outputs) for _ in node.inputs]
