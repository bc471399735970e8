"""Reverse-mode differentiation: grad, Lop, Rop, jacobian, hessian and verify_grad.

Gradients are graphs built from each op's ``L_op``. The walk is iterative, so graphs of
any depth differentiate.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence

import numpy as np

from croton.graph.basic import Variable
from croton.graph.traversal import toposort
from croton.tensor.variable import as_tensor_variable


class DisconnectedInputError(ValueError):
    """The cost does not depend on a variable a gradient was asked for."""


class GradientError(AssertionError):
    """`verify_grad` found the symbolic gradient disagreeing with finite differences."""


class NullGradientError(TypeError):
    """A gradient asked for goes through an input whose gradient is undefined."""


class UndefinedGradient:
    """What an op's ``L_op`` returns for an input whose gradient is undefined.

    `grad` raises `NullGradientError` with ``reason`` only when a gradient it was
    asked for depends on that input; elsewhere it is ignored, like a disconnected one.
    """

    def __init__(self, reason: str):
        self.reason = reason


_PACKAGE_ROOT = os.path.dirname(os.path.abspath(__file__))


def _user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the caller's first frame outside croton."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_ROOT):
        frame, level = frame.f_back, level + 1
    return level


def _is_discrete(var: Variable) -> bool:
    return not var.type.dtype.startswith(("float", "complex"))


def _as_list(x):
    return (list(x), True) if isinstance(x, (list, tuple)) else ([x], False)


def _depends_on(nodes, sources: Sequence[Variable]) -> set[int]:
    """Ids of variables whose value depends on any of ``sources``."""
    dependent = {id(v) for v in sources}
    for node in nodes:
        if any(id(v) in dependent for v in node.inputs):
            dependent.update(id(o) for o in node.outputs)
    return dependent


def _backpropagate(seeds: dict, wrt: Sequence[Variable], consider_constant=()) -> tuple[dict, set]:
    """Accumulate gradients from ``seeds`` (variable -> gradient) back to ``wrt``.

    Returns a map from ``id(variable)`` to its total gradient, for the variables on a
    path from ``wrt`` to the seeds, and the ids of every variable the seeds depend on.
    A ``consider_constant`` variable receives its gradient but passes none on (as in
    Theano, it is "not a function of anything").
    """
    from croton.tensor.math import add

    # a wrt may depend on another wrt, so the walk stops only at constants
    nodes = toposort(list(seeds), stop_at=consider_constant)
    on_path = _depends_on(nodes, wrt)
    connected = {id(v) for node in nodes for v in node.inputs} | {id(v) for v in seeds}
    grads: dict[int, Variable] = {}
    for var, g in seeds.items():
        grads[id(var)] = g if id(var) not in grads else add(grads[id(var)], g)
    for node in reversed(nodes):
        if not any(id(o) in grads for o in node.outputs):
            continue
        if not any(id(v) in on_path for v in node.inputs):
            continue
        output_grads = [grads.get(id(o)) for o in node.outputs]
        if all(g is None for g in output_grads):
            continue
        output_grads = [
            o.zeros_like() if g is None else g for o, g in zip(node.outputs, output_grads)
        ]
        input_grads = node.op.L_op(node.inputs, node.outputs, output_grads)
        if len(input_grads) != len(node.inputs):
            raise ValueError(
                f"{node.op}.L_op returned {len(input_grads)} gradients for {len(node.inputs)} inputs"
            )
        for var, g in zip(node.inputs, input_grads):
            if g is None or id(var) not in on_path or _is_discrete(var):
                continue
            if isinstance(g, UndefinedGradient):
                raise NullGradientError(f"{g.reason}\n{var.where()}")
            g = as_tensor_variable(g)
            if g.ndim != var.ndim:
                raise ValueError(
                    f"{node.op}.L_op gave a {g.ndim}-d gradient for the {var.ndim}-d input {var}"
                )
            grads[id(var)] = g if id(var) not in grads else add(grads[id(var)], g)
    return grads, connected


def _finish(
    var: Variable,
    g: Variable | None,
    connected: bool,
    disconnected_inputs: str,
    return_disconnected: str,
):
    from croton.tensor.math import cast
    from croton.tensor.shape import zeros_like

    if _is_discrete(var):
        from croton.config import config

        return zeros_like(var, dtype=config.floatX)
    if g is None and connected:
        # the cost depends on var only through piecewise-constant or integer steps
        return zeros_like(var)
    if g is None:
        message = (
            f"grad was asked for the gradient with respect to {var}, which the cost does not "
            f"depend on (or depends on only through integer or non-differentiable operations). "
            f"Pass disconnected_inputs='ignore' or 'warn' to get zeros.\n{var.where()}"
        )
        if disconnected_inputs == "raise":
            raise DisconnectedInputError(message)
        if disconnected_inputs == "warn":
            warnings.warn(message, stacklevel=_user_stacklevel())
        elif disconnected_inputs != "ignore":
            raise ValueError(
                f"disconnected_inputs must be 'raise', 'warn' or 'ignore', got {disconnected_inputs!r}"
            )
        return None if return_disconnected in ("none", "None", None) else zeros_like(var)
    return g if g.dtype == var.dtype else cast(g, var.dtype)


def stabilized(cost: Variable, keep: Sequence[Variable]) -> tuple[Variable, dict[int, Variable]]:
    """A copy of ``cost``'s graph with the ``stabilize`` rewrites applied.

    ``grad`` differentiates this copy, so the gradient of ``log(sigmoid(x))`` is built
    from ``softplus`` and stays finite where the naive gradient is ``inf * 0``. The
    copy shares the graph's inputs; compilation merges it with the original. The
    variables in ``keep`` (the ``wrt``, ``consider_constant`` and ``known_grads``
    variables) are boundaries the rewrites do not cross, so none of them is rewritten
    away. Returns the copy of ``cost`` and a map from ``id(v)`` to the copy of each
    ``v`` in ``keep``.
    """
    from croton.graph.fgraph import FunctionGraph
    from croton.graph.traversal import clone_graph, free_inputs
    from croton.rewrite.stabilize import stabilize_pass

    _, (copy,), memo = clone_graph([], [cost])
    copies = {id(v): memo.get(id(v), v) for v in keep}
    inputs = free_inputs([copy])
    known = set(map(id, inputs))
    for v in copies.values():
        if id(v) not in known:
            known.add(id(v))
            inputs.append(v)
    fgraph = FunctionGraph(inputs, [copy], clone=False)
    stabilize_pass(fgraph)
    return fgraph.outputs[0], copies


def grad(
    cost,
    wrt,
    consider_constant=None,
    disconnected_inputs: str = "raise",
    add_names: bool = True,
    known_grads: dict | None = None,
    return_disconnected: str = "zero",
    null_gradients: str = "raise",
):
    """Symbolic gradient of scalar ``cost`` with respect to ``wrt``.

    Parameters
    ----------
    cost
        A 0-d variable, or None when ``known_grads`` seeds the gradient.
    wrt
        A variable or a list of them; the result has the same form.
    consider_constant
        Variables to treat as constants: no gradient flows through them.
    disconnected_inputs
        What to do when the cost does not depend on a ``wrt``: ``"raise"``, ``"warn"``
        or ``"ignore"`` (the last two give zeros).
    known_grads
        ``{variable: gradient}`` to inject, as Theano's.

    Integer and boolean ``wrt`` get zero gradients.
    """
    wrt_list, was_list = _as_list(wrt)
    wrt_list = [as_tensor_variable(w) for w in wrt_list]
    seeds = {}
    if cost is not None:
        cost = as_tensor_variable(cost)
        if cost.ndim != 0:
            raise TypeError(
                f"grad needs a scalar cost, got {cost} with {cost.ndim} dimensions; "
                "sum it, or use jacobian or Lop for non-scalar outputs"
            )
        if _is_discrete(cost):
            raise TypeError(f"grad of an integer cost ({cost}, {cost.dtype}) is not defined")
        from croton.tensor.shape import ones_like

        seeds[cost] = ones_like(cost)
    for var, g in (known_grads or {}).items():
        var = as_tensor_variable(var)
        g = as_tensor_variable(g)
        seeds[var] = g
    if not seeds:
        raise ValueError("grad needs a cost or known_grads")
    consider_constant = [as_tensor_variable(v) for v in consider_constant or ()]
    targets = wrt_list
    if cost is not None:
        known = [v for v in seeds if v is not cost]
        stable, copies = stabilized(cost, [*wrt_list, *consider_constant, *known])
        seeds = {(stable if v is cost else copies[id(v)]): g for v, g in seeds.items()}
        targets = [copies[id(w)] for w in wrt_list]
        consider_constant = [copies[id(v)] for v in consider_constant]
    grads, connected = _backpropagate(seeds, targets, consider_constant)
    result = []
    for w, target in zip(wrt_list, targets):
        g = grads.get(id(target))
        result.append(
            _finish(w, g, id(target) in connected, disconnected_inputs, return_disconnected)
        )
    if add_names and cost is not None and cost.name:
        for w, g in zip(wrt_list, result):
            if g is not None and g.name is None and w.name:
                g.name = f"(d{cost.name}/d{w.name})"
    return result if was_list else result[0]


def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs: str = "ignore"):
    """Vector-Jacobian product: ``eval_points`` (shaped like ``f``) times d``f``/d``wrt``."""
    f_list, _ = _as_list(f)
    points, _ = _as_list(eval_points)
    if len(points) != len(f_list):
        raise ValueError(f"Lop: {len(f_list)} outputs but {len(points)} eval_points")
    known = dict(zip(f_list, points))
    return grad(
        None, wrt, consider_constant, disconnected_inputs=disconnected_inputs, known_grads=known
    )


def Rop(f, wrt, eval_points, disconnected_outputs: str = "ignore"):
    """Jacobian-vector product: d``f``/d``wrt`` times ``eval_points`` (shaped like ``wrt``).

    Built from two reverse passes: with ``u`` a dummy cotangent, ``Lop(f, wrt, u)`` is
    linear in ``u``, and its vector-Jacobian product with ``eval_points`` with respect to
    ``u`` is the Jacobian-vector product. No per-op forward rule is needed.
    """
    from croton.tensor.math import sum as tsum
    from croton.tensor.shape import zeros_like

    f_list, f_was_list = _as_list(f)
    wrt_list, _ = _as_list(wrt)
    points, _ = _as_list(eval_points)
    if len(points) != len(wrt_list):
        raise ValueError(f"Rop: {len(wrt_list)} wrt but {len(points)} eval_points")
    dummies = [zeros_like(y) for y in f_list]
    vjps = Lop(f_list, wrt_list, dummies, disconnected_inputs="ignore")
    inner = None
    for vjp, v in zip(vjps, points):
        term = tsum(vjp * v)
        inner = term if inner is None else inner + term
    results = grad(inner, dummies, disconnected_inputs="ignore")
    return results if f_was_list else results[0]


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs: str = "raise"):
    """The Jacobian of vector ``expression`` with respect to ``wrt``.

    Row ``i`` is ``grad(expression[i], wrt)``; the rows are computed by a `Map` loop,
    with everything that does not depend on ``i`` computed once outside it.
    """
    from croton.graph.type import TensorType
    from croton.ops.map import map_over_index
    from croton.tensor.subtensor import set_subtensor

    expression = as_tensor_variable(expression)
    wrt_list, was_list = _as_list(wrt)
    if expression.ndim == 0:
        result = grad(expression, wrt_list, consider_constant, disconnected_inputs)
        return result if was_list else result[0]
    flat = expression.flatten()
    index = TensorType("int64", shape=())("i")
    seed = set_subtensor(flat.zeros_like()[index], 1)
    rows = grad(None, wrt_list, consider_constant, disconnected_inputs, known_grads={flat: seed})
    jacobians = map_over_index(index, flat.shape[0], rows)
    jacobians = [
        j.reshape(
            tuple(expression.shape[i] for i in range(expression.ndim))
            + tuple(w.shape[i] for i in range(w.ndim)),
            ndim=expression.ndim + w.ndim,
        )
        if expression.ndim > 1
        else j
        for j, w in zip(jacobians, wrt_list)
    ]
    return jacobians if was_list else jacobians[0]


def hessian(cost, wrt, consider_constant=None, disconnected_inputs: str = "raise"):
    """The Hessian of scalar ``cost``: for each vector in ``wrt``, a matrix."""
    wrt_list, was_list = _as_list(wrt)
    result = []
    for w in wrt_list:
        w = as_tensor_variable(w)
        if w.ndim != 1:
            raise TypeError(f"hessian: wrt must be vectors, got {w} with {w.ndim} dimensions")
        g = grad(cost, w, consider_constant, disconnected_inputs)
        result.append(jacobian(g, w, consider_constant, disconnected_inputs))
    return result if was_list else result[0]


def _default_tolerance(dtype: str) -> float:
    return {"float16": 5e-2, "float32": 1e-2}.get(dtype, 1e-4)


def verify_grad(
    fun,
    pt,
    n_tests: int = 2,
    rng=None,
    eps: float | None = None,
    abs_tol: float | None = None,
    rel_tol: float | None = None,
    mode=None,
    backend: str | None = None,
    cast_to_output_type: bool = False,
    no_debug_ref: bool = True,
):
    """Check the symbolic gradient of ``fun`` against central finite differences.

    ``fun`` maps tensor variables (one per array in ``pt``) to a tensor variable. The
    check projects the output on a random tensor (so any output rank works) and compares
    the gradient of that scalar with finite differences at ``pt``. Raises `GradientError`
    when they disagree beyond the tolerance.
    """
    from croton.compile.function import function
    from croton.graph.type import TensorType
    from croton.tensor.math import sum as tsum

    rng = rng if rng is not None else np.random.default_rng(0)
    if isinstance(rng, np.random.RandomState):
        rng = np.random.default_rng(rng.randint(2**31))
    pt = [np.array(p) for p in pt]
    for i, p in enumerate(pt):
        if not p.dtype.name.startswith("float"):
            raise TypeError(
                f"verify_grad: point {i} has dtype {p.dtype}; pass floating-point arrays"
            )
    inputs = [TensorType(p.dtype.name, shape=p.shape)(f"input{i}") for i, p in enumerate(pt)]
    output = as_tensor_variable(fun(*inputs))
    dtype = output.dtype
    eps = eps or {"float16": 1e-1, "float32": 1e-3}.get(dtype, 1e-6)
    abs_tol = abs_tol if abs_tol is not None else _default_tolerance(dtype)
    rel_tol = rel_tol if rel_tol is not None else _default_tolerance(dtype)
    projection = TensorType(dtype, shape=[None] * output.ndim)("projection")
    cost = tsum(output * projection)
    grads = grad(cost, inputs, disconnected_inputs="ignore")
    f_cost = function(
        inputs + [projection], cost, mode=mode, backend=backend, on_unused_input="ignore"
    )
    f_grad = function(
        inputs + [projection], grads, mode=mode, backend=backend, on_unused_input="ignore"
    )
    out_shape = function(inputs, output, mode=mode, backend=backend, on_unused_input="ignore")(
        *pt
    ).shape
    for _ in range(n_tests):
        proj = rng.uniform(-1, 1, size=out_shape).astype(dtype)
        analytic = f_grad(*pt, proj)
        for i, p in enumerate(pt):
            numeric = np.zeros(p.shape, dtype="float64")
            for position in np.ndindex(*p.shape):
                shifted = [q.copy() for q in pt]
                shifted[i][position] = p[position] + eps
                plus = float(f_cost(*shifted, proj))
                shifted[i][position] = p[position] - eps
                minus = float(f_cost(*shifted, proj))
                step = float(np.asarray(p[position] + eps, p.dtype)) - float(
                    np.asarray(p[position] - eps, p.dtype)
                )
                numeric[position] = (plus - minus) / step
            got = np.asarray(analytic[i], dtype="float64")
            abs_err = np.abs(got - numeric)
            rel_err = abs_err / np.maximum(np.abs(got) + np.abs(numeric), 1e-8)
            bad = (abs_err > abs_tol) & (rel_err > rel_tol)
            if np.any(bad) or not np.all(np.isfinite(got)) and np.all(np.isfinite(numeric)):
                worst = int(np.argmax(np.where(bad, abs_err, -1)))
                position = tuple(int(k) for k in np.unravel_index(worst, p.shape))
                raise GradientError(
                    f"gradient of input {i} disagrees with finite differences at index "
                    f"{position}: symbolic {float(got[position])!r}, numeric "
                    f"{float(numeric[position])!r} "
                    f"(abs error {abs_err.max():.3g}, rel error {rel_err.max():.3g}, tolerances "
                    f"{abs_tol:g}/{rel_tol:g})"
                )
