"""Lazy conditionals: ``croton.ifelse.ifelse``, as Theano's ``theano.ifelse``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from croton.graph.basic import Variable
from croton.ops.ifelse import IfElse, as_condition, check_branch_types

__all__ = ["IfElse", "ifelse"]


def ifelse(
    condition: Any,
    then_branch: Any | Sequence[Any],
    else_branch: Any | Sequence[Any],
    name: str | None = None,
) -> Variable | list[Variable] | tuple[Variable, ...]:
    """``then_branch`` if ``condition`` is nonzero, else ``else_branch``; lazily.

    Unlike `croton.tensor.switch`, which chooses element by element and computes both
    sides, ``ifelse`` chooses once, on a scalar, and a compiled function computes only
    the branch it takes (see "Laziness" in the backends guide).

    Parameters
    ----------
    condition
        A scalar (0-d) tensor of any dtype: nonzero (or nan) means true.
    then_branch
        A tensor, or a list or tuple of tensors, returned when the condition is true.
    else_branch
        As many tensors as ``then_branch``, returned when the condition is false. Each
        must have the dtype and number of dimensions of its ``then_branch`` counterpart;
        their lengths may differ. A Python number or numpy array on one side takes the other
        side's dtype when the conversion is exact.
    name
        A name for the operation, shown when printing graphs.

    Returns
    -------
    TensorVariable or list or tuple of TensorVariable
        A single variable if ``then_branch`` is a single value, else a sequence of the
        type of ``then_branch``.

    Raises
    ------
    TypeError
        If the condition is not a scalar, or a pair of values differ in dtype or rank.
    ValueError
        If the branches give different numbers of values.

    Examples
    --------
    >>> import croton
    >>> import croton.tensor as T
    >>> from croton.ifelse import ifelse
    >>> a, b = T.dscalars("a", "b")
    >>> f = croton.function([a, b], ifelse(T.lt(a, b), a, b * 10))
    >>> f(1, 2), f(3, 2)
    (array(1.), array(20.))
    """
    sequence_type = type(then_branch) if isinstance(then_branch, (list, tuple)) else None
    then_values = list(then_branch) if sequence_type else [then_branch]
    else_values = list(else_branch) if isinstance(else_branch, (list, tuple)) else [else_branch]
    if len(then_values) != len(else_values):
        raise ValueError(
            f"ifelse: the then branch gives {len(then_values)} value(s) and the else branch "
            f"{len(else_values)}; both must give the same number."
        )
    if not then_values:
        raise ValueError("ifelse: the branches give no values")
    condition = as_condition(condition)
    pairs = [_pair(i, t, e) for i, (t, e) in enumerate(zip(then_values, else_values))]
    op = IfElse(len(pairs), name=name)
    outputs = op(condition, *(t for t, _ in pairs), *(e for _, e in pairs))
    outputs = outputs if isinstance(outputs, list) else [outputs]
    if name is not None:
        for k, out in enumerate(outputs):
            out.name = name if len(outputs) == 1 else f"{name}[{k}]"
    if sequence_type is None:
        return outputs[0]
    return list(outputs) if sequence_type is list else tuple(outputs)


def _pair(position: int, then_value, else_value) -> tuple[Variable, Variable]:
    """Both values as tensors; a non-variable side takes the other side's dtype if exact."""
    from croton.tensor.variable import as_tensor_variable

    then_is_var, else_is_var = isinstance(then_value, Variable), isinstance(else_value, Variable)
    if then_is_var and not else_is_var:
        else_value = _literal_like(else_value, then_value, position, "else")
    elif else_is_var and not then_is_var:
        then_value = _literal_like(then_value, else_value, position, "then")
    then_value, else_value = as_tensor_variable(then_value), as_tensor_variable(else_value)
    check_branch_types(position, then_value, else_value)
    return then_value, else_value


def _literal_like(value, model: Variable, position: int, side: str):
    """``value`` (a Python number, list or array) as a constant of ``model``'s dtype."""
    from croton.tensor.variable import as_tensor_variable, constant

    data = np.asarray(value)
    try:
        converted = data.astype(model.type.dtype)
        exact = bool(np.all((converted == data) | (np.isnan(converted) & np.isnan(data))))
    except (TypeError, ValueError):
        exact = False
    if not exact:
        # keep the value's own dtype: the type check then names the mismatch
        return as_tensor_variable(value)
    return constant(converted)
