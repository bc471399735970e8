"""`Composite`: a scalar program of several scalar ops, run as one elementwise loop.

Fusion turns a chain of `Elemwise` nodes into one ``Elemwise(Composite(...))``. A
backend compiles the program into a single loop; the reference backend runs the steps
one after another on whole arrays, which gives exactly the unfused values.

A program is a tuple of steps ``(scalar_op, arguments, dtype)``. An argument is
``("input", k)``, ``("step", j)`` (the result of an earlier step) or
``("literal", value, dtype)`` (a scalar constant).
"""

from __future__ import annotations

from croton.ops.scalar import ScalarOp


def _format(ref, rendered, names) -> str:
    kind = ref[0]
    if kind == "input":
        return names[ref[1]] if names is not None else f"i{ref[1]}"
    if kind == "step":
        return rendered[ref[1]]
    return repr(ref[1])


class Composite(ScalarOp):
    """A fused scalar program with ``nin`` inputs; its last step is the output.

    Parameters
    ----------
    input_dtypes
        The dtypes of the inputs, which the program's steps assume.
    program
        The steps, in evaluation order.
    """

    def __init__(self, input_dtypes, program):
        input_dtypes = tuple(input_dtypes)
        program = tuple((op, tuple(args), dtype) for op, args, dtype in program)
        output_dtype = program[-1][2]
        super().__init__(
            "composite",
            len(input_dtypes),
            lambda inputs: (list(input_dtypes), output_dtype),
            _composite_grad,
            params=(input_dtypes, program),
        )

    @property
    def input_dtypes(self) -> tuple:
        return self.params[0]

    @property
    def program(self) -> tuple:
        return self.params[1]

    def __reduce__(self):
        return (Composite, self.params)

    def expression(self, names=None) -> str:
        """The program as one nested expression, e.g. ``sqr(sub(i0, i1))``; ``names``
        (one text per input) are written for ``i0``, ``i1``, ... where given.

        A step used more than once is written once and named
        (``s0=exp(i0); mul(s0, add(s0, 1))``), so the text grows with the program, not
        with the number of paths through it.
        """
        uses: dict[int, int] = {}
        for _, args, _ in self.program:
            for ref in args:
                if ref[0] == "step":
                    uses[ref[1]] = uses.get(ref[1], 0) + 1
        rendered: list[str] = []
        bindings: list[str] = []
        last = len(self.program) - 1
        for j, (op, args, _) in enumerate(self.program):
            text = f"{op}({', '.join(_format(a, rendered, names) for a in args)})"
            if uses.get(j, 0) > 1 and j != last:
                bindings.append(f"s{j}={text}")
                text = f"s{j}"
            rendered.append(text)
        return "; ".join(bindings + [rendered[-1]])

    def __str__(self) -> str:
        return f"Composite{{{self.expression()}}}"

    __repr__ = __str__

    def expand(self, inputs):
        """The unfused elementwise graph of this program applied to tensor ``inputs``."""
        import numpy as np

        from croton.tensor.math import _apply, cast
        from croton.tensor.variable import constant

        values = []
        for op, args, dtype in self.program:
            arguments = []
            for ref in args:
                if ref[0] == "input":
                    arguments.append(inputs[ref[1]])
                elif ref[0] == "step":
                    arguments.append(values[ref[1]])
                else:
                    arguments.append(constant(np.asarray(ref[1], dtype=ref[2])))
            result = _apply(op, arguments)
            values.append(result if result.dtype == dtype else cast(result, dtype))
        return values[-1]


def _composite_grad(inputs, output, output_grad):
    from croton.autodiff import Lop

    expanded = output.owner.op.scalar_op.expand(inputs)
    grads = Lop(expanded, list(inputs), output_grad)
    return grads
