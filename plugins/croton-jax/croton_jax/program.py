"""A graph as one jitted function: the plan, the tracing loop and the executable.

``jax.jit`` traces the kernels of every node, in topological order, into one XLA
computation, so a call is one dispatch. Two things jit cannot trace:

- A value that decides a shape (the ``concrete_inputs`` of a kernel: a new shape, a
  slice bound, arange's bounds, a boolean mask). Where that value follows from static
  shapes and constants, it is computed while tracing (``jax.ensure_compile_time_eval``).
  Where it is a small input of the function (a 0-d input, or an integer vector), the
  input is *static*: its value becomes part of the cache key and each new value traces
  again, as ``static_argnums`` would. Anything else (a mask computed from data) makes
  the node a *barrier*.
- A node that must run outside jit: a barrier, or a node that fell back to the
  reference backend.

The plan cuts the graph at such nodes: jitted *segments* run in between, and each
barrier runs eagerly on the concrete arrays the segment before it returned. A graph
without them is a single segment, so the common call is one jitted call.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from croton.graph.basic import Constant
from croton_jax.checks import CheckTable, collecting
from croton_jax.errors import error_with_node
from croton_jax.lazy_jax import jax, jnp

#: XLA options for every jitted segment. XLA's algebraic simplifier rewrites without
#: regard for overflow and special values (``log(exp(x)) -> x``, ``exp(a) / exp(b) ->
#: exp(a - b)``, ``(x * c1) * c2 -> x * (c1 * c2)``), and excess precision would keep
#: float16 intermediates in float32; numpy does neither.
XLA_OPTIONS = {"xla_disable_hlo_passes": "algsimp", "xla_allow_excess_precision": False}


#: compilations kept per segment for different values of its static inputs
MAX_STATIC_VARIANTS = 64


class Step:
    """One node with its kernel, and how the plan runs it."""

    __slots__ = ("node", "kernel", "inputs", "outputs", "dtypes", "compile_time", "barrier")

    def __init__(self, node, kernel):
        self.node = node
        self.kernel = kernel
        self.inputs = [id(v) for v in node.inputs]
        self.outputs = [id(v) for v in node.outputs]
        self.dtypes = [np.dtype(v.type.dtype) for v in node.outputs]
        self.compile_time = False  # computed while tracing: a value some shape needs
        self.barrier = False  # run eagerly, between jitted segments

    @property
    def concrete_inputs(self) -> tuple:
        return getattr(self.kernel, "concrete_inputs", ())

    @property
    def gives_concrete(self) -> bool:
        return getattr(self.kernel, "gives_concrete", False)

    @property
    def runs_eagerly(self) -> bool:
        return getattr(self.kernel, "runs_eagerly", False)


def _exact(value, dtype):
    """``value`` with exactly ``dtype`` (no weak type); numpy values stay numpy."""
    if isinstance(value, (np.ndarray, np.generic, int, float, bool, complex)):
        return np.asarray(value, dtype=dtype)
    if value.dtype != dtype or getattr(value, "weak_type", False):
        return value.astype(dtype)
    return value


def run_steps(steps, env: dict, collector=None) -> None:
    """Run ``steps`` in order, reading and writing values in ``env`` (by variable id)."""
    for step in steps:
        args = [env[i] for i in step.inputs]
        if collector is not None:
            collector.node = step.node
        try:
            if step.compile_time:
                with jax.ensure_compile_time_eval():
                    results = _run_kernel(step, args)
            else:
                results = _run_kernel(step, args)
        except Exception as err:
            raise error_with_node(err, step.node) from None
        env.update(zip(step.outputs, results))


def _run_kernel(step, args):
    result = step.kernel(*args)
    results = result if len(step.outputs) > 1 else (result,)
    return [_exact(value, dtype) for value, dtype in zip(results, step.dtypes, strict=True)]


def _static_ok(var) -> bool:
    """Inputs small enough to be static: 0-d values and integer vectors (shapes)."""
    dtype = np.dtype(var.type.dtype)
    return var.ndim == 0 or (var.ndim == 1 and dtype.kind in "iu")


class Plan:
    """How to run a graph: which steps are traced, computed while tracing, or eager.

    Parameters
    ----------
    inputs, outputs
        The graph's boundary variables.
    nodes
        Its nodes in topological order.
    kernels
        One kernel per node.
    """

    def __init__(self, inputs, outputs, nodes, kernels):
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.steps = [Step(node, kernel) for node, kernel in zip(nodes, kernels, strict=True)]
        self.constants = {}
        for var in [*self.outputs, *(v for n in nodes for v in n.inputs)]:
            if isinstance(var, Constant):
                self.constants[id(var)] = np.asarray(var.data, dtype=var.type.dtype)
        self.needed = self._mark()
        self.static_inputs = [p for p, v in enumerate(self.inputs) if id(v) in self.needed]
        self.has_barriers = any(step.barrier for step in self.steps)
        self.groups = self._schedule()

    def _mark(self) -> set[int]:
        """Mark barriers and compile-time steps; the ids of values needed concrete."""
        producer = {}
        known = set(self.constants) | {id(v) for v in self.inputs if _static_ok(v)}
        for step in self.steps:
            for out in step.outputs:
                producer[out] = step
            if step.runs_eagerly:
                step.barrier = True
                continue
            if any(step.inputs[p] not in known for p in step.concrete_inputs):
                step.barrier = True
                continue
            small = all(v.ndim <= 1 for v in step.node.outputs)
            if step.gives_concrete or (small and all(i in known for i in step.inputs)):
                known.update(step.outputs)
        # the values traced steps need concrete, and everything they are computed from
        needed: set[int] = set()
        pending = [s.inputs[p] for s in self.steps if not s.barrier for p in s.concrete_inputs]
        while pending:
            var = pending.pop()
            if var in needed:
                continue
            needed.add(var)
            step = producer.get(var)
            if step is None or step.gives_concrete:
                continue
            step.compile_time = True
            pending.extend(step.inputs)
        return needed

    def _schedule(self) -> list[list[Step]]:
        """The steps as jitted groups and single eager steps, in an order that runs.

        A traced step goes in the earliest group its inputs allow: stage ``s`` holds the
        traced steps that depend on ``s`` rounds of barriers, then the barriers that read
        them. So independent work never waits for a barrier, and the number of jitted
        segments is one more than the longest chain of barriers.
        """
        stage: dict[int, int] = {}
        traced: dict[int, list[Step]] = {}
        eager: dict[int, list[Step]] = {}
        for step in self.steps:
            s = max((stage.get(i, 0) for i in step.inputs), default=0)
            (eager if step.barrier else traced).setdefault(s, []).append(step)
            for out in step.outputs:
                stage[out] = s + 1 if step.barrier else s
        last = max([*traced, *eager], default=0)
        groups: list[list[Step]] = []
        for s in range(last + 1):
            if traced.get(s):
                groups.append(traced[s])
            groups.extend([step] for step in eager.get(s, []))
        return groups or [[]]

    def run_traced(self, values):
        """Run every step inside the caller's trace: ``(outputs, error code)``.

        For inner graphs (`Map`); the plan must have no barriers, and the values of
        `static_inputs` must be concrete.
        """
        env = dict(self.constants)
        env.update(zip((id(v) for v in self.inputs), values))
        with collecting() as collector:
            run_steps(self.steps, env, collector)
            return [env[id(v)] for v in self.outputs], collector.code()

    def describe(self) -> str:
        """The plan as text: one line per node, segments and barriers marked."""
        names = {id(var): f"v{i}" for i, var in enumerate(self.inputs)}
        signature = ", ".join(
            f"v{i}{' [static]' if i in self.static_inputs else ''}" for i in range(len(self.inputs))
        )
        lines = [f"jax program({signature})"]
        counter = len(self.inputs)
        for group in self.groups:
            lines.append(f"  -- {'eager' if group and group[0].barrier else 'jit'} --")
            for step in group:
                args = []
                for var in step.node.inputs:
                    if id(var) not in names:
                        names[id(var)] = f"c{len(names)}"
                    args.append(names[id(var)])
                targets = []
                for var in step.node.outputs:
                    names[id(var)] = f"v{counter}"
                    counter += 1
                    targets.append(names[id(var)])
                note = "  # while tracing" if step.compile_time else ""
                call = f"{step.node.op}({', '.join(args)})"
                lines.append(f"    {', '.join(targets)} = {call}{note}")
        lines.append(f"  return [{', '.join(names.get(id(v), '?') for v in self.outputs)}]")
        return "\n".join(lines) + "\n"


def _key(value) -> tuple:
    """A cache key for a static value: its dtype, shape and bytes."""
    array = np.asarray(value)
    return (array.dtype.str, array.shape, array.tobytes())


class Segment:
    """Consecutive traced steps, compiled with ``jax.jit``, one compilation per static key."""

    def __init__(self, steps, constants, reads, static_reads, writes):
        self.steps = steps
        self.constants = constants
        self.reads = reads  # traced arguments
        self.static_reads = static_reads  # values known while tracing: part of the cache key
        self.writes = writes
        self.checks = CheckTable()
        self._compiled: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def _trace(self, static_values, *traced):
        env = dict(self.constants)
        env.update(static_values)
        env.update(zip(self.reads, traced))
        with collecting(self.checks) as collector:
            run_steps(self.steps, env, collector)
            return [env[i] for i in self.writes], collector.code()

    def compiled(self, static_values: dict):
        """The jitted function for these static values."""
        key = tuple(_key(static_values[i]) for i in self.static_reads)
        function = self._compiled.get(key)
        if function is None:
            with self._lock:
                function = self._compiled.get(key)
                if function is None:
                    frozen = {i: np.asarray(static_values[i]) for i in self.static_reads}
                    function = jax.jit(
                        functools.partial(self._trace, frozen), compiler_options=XLA_OPTIONS
                    )
                    if len(self._compiled) >= MAX_STATIC_VARIANTS:
                        self._compiled.pop(next(iter(self._compiled)))  # the oldest
                    self._compiled[key] = function
        return function

    def run(self, env: dict) -> None:
        static_values = {i: env[i] for i in self.static_reads}
        outputs, code = self.compiled(static_values)(*(env[i] for i in self.reads))
        self.checks.raise_for(code)
        env.update(zip(self.writes, outputs))


class Eager:
    """One barrier step, run outside jit on concrete arrays.

    A loop run here (`Map`, `Scan`) still traces its inner graph, whose run-time checks
    report error codes: they are collected as a segment's are, and raised after the step.
    """

    def __init__(self, step):
        self.step = step
        self.checks = CheckTable()

    def run(self, env: dict) -> None:
        with collecting(self.checks) as collector:
            run_steps([self.step], env, collector)
            code = collector.code()
        self.checks.raise_for(code)


class JaxExecutable:
    """A compiled graph: ``executable(*input_arrays) -> list of jax arrays``.

    Runs the plan's parts in order. A value-dependent error found by a run-time check
    is raised after the part that found it, so nothing is returned for a failed call.
    """

    def __init__(self, plan: Plan):
        self.plan = plan
        self._input_ids = [id(v) for v in plan.inputs]
        self._output_ids = [id(v) for v in plan.outputs]
        self._parts = self._split(plan)
        single = len(self._parts) == 1 and isinstance(self._parts[0], Segment)
        self._fast = self._parts[0] if single and not self._parts[0].static_reads else None

    def _split(self, plan: Plan) -> list:
        outputs = set(self._output_ids)
        groups = plan.groups
        used_after: list[set[int]] = []
        later = set(outputs)
        for group in reversed(groups):
            used_after.append(set(later))
            for step in group:
                later.update(step.inputs)
        used_after.reverse()
        parts = []
        for group, after in zip(groups, used_after, strict=True):
            if group and group[0].barrier:
                parts.append(Eager(group[0]))
                continue
            produced = {o for step in group for o in step.outputs}
            consumed: list[int] = []
            for step in group:
                for i in step.inputs:
                    if i not in produced and i not in plan.constants and i not in consumed:
                        consumed.append(i)
            if len(groups) == 1:
                # the whole graph: read the inputs in order, return exactly the outputs
                consumed = [i for i in self._input_ids if i in set(consumed)]
                writes = list(self._output_ids)
                for i in writes:
                    if i in set(self._input_ids) and i not in consumed:
                        consumed.append(i)
            else:
                writes = [o for step in group for o in step.outputs if o in after]
            static = [i for i in consumed if i in plan.needed]
            reads = [i for i in consumed if i not in plan.needed]
            parts.append(Segment(group, plan.constants, reads, static, writes))
        return parts

    def __call__(self, *args):
        fast = self._fast
        if fast is not None:
            env = dict(zip(self._input_ids, args))
            outputs, code = fast.compiled({})(*(env[i] for i in fast.reads))
            fast.checks.raise_for(code)
            return list(outputs)
        env = dict(self.plan.constants)
        env.update(zip(self._input_ids, args))
        for part in self._parts:
            part.run(env)
        return [jnp.asarray(env[i]) for i in self._output_ids]

    def source(self) -> str:
        """The plan: each node in order, with the jitted segments and eager nodes marked."""
        return self.plan.describe()
