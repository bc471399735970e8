"""The rewrite engine: node rewriters, passes, and the equilibrium driver.

A *node rewriter* looks at one node and may return replacements for its outputs.
A *pass* is a named group of rewriters run over a `FunctionGraph` until nothing
changes; the driver only revisits nodes whose neighbourhood changed. Statistics say
which rewrites fired and how long each pass took.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Sequence

from croton.graph.basic import Apply, Variable
from croton.graph.fgraph import OUTPUT, FunctionGraph
from croton.rewrite.pattern import Pattern


class RewriteWarning(UserWarning):
    """A rewrite raised; it was skipped and compilation went on."""


class NodeRewriter:
    """Base class: ``transform(fgraph, node)`` returns replacements or None.

    Replacements are a list with one variable (or None, to keep it) per output of the
    node, or a dict ``{old_output: new_variable}``.

    Attributes
    ----------
    name
        Shown in statistics and error reports.
    tracks
        What nodes to try: op classes and ``("elemwise", scalar_op_name)`` keys; None
        means every node.
    """

    name = "node_rewriter"
    tracks: Sequence | None = None

    def transform(self, fgraph: FunctionGraph, node: Apply):
        raise NotImplementedError


class FunctionRewriter(NodeRewriter):
    """A rewriter from a function ``fn(fgraph, node)``; see `node_rewriter`."""

    def __init__(self, fn: Callable, tracks: Sequence | None, name: str | None = None):
        self.fn = fn
        self.tracks = tracks
        self.name = name or fn.__name__
        self.__doc__ = fn.__doc__

    def transform(self, fgraph, node):
        return self.fn(fgraph, node)

    def __repr__(self) -> str:
        return f"<rewrite {self.name}>"


def node_rewriter(tracks: Sequence | None = None, name: str | None = None) -> Callable:
    """Decorator turning ``fn(fgraph, node)`` into a `NodeRewriter`."""

    def decorate(fn: Callable) -> FunctionRewriter:
        return FunctionRewriter(fn, tracks, name)

    return decorate


class PatternRewriter(NodeRewriter):
    """Replace what matches ``pattern`` by ``replacement(**bindings)``.

    ``replacement`` may return None to decline. Only single-output nodes are matched.
    """

    def __init__(self, pattern: Pattern, replacement: Callable, name: str):
        self.pattern = pattern
        self.replacement = replacement
        self.name = name
        key = pattern.root_key
        self.tracks = None if key is None else [key]

    def transform(self, fgraph, node):
        if len(node.outputs) != 1:
            return None
        for bindings in self.pattern.matches(node.outputs[0], {}):
            new = self.replacement(**{k: v for k, v in bindings.items() if k is not None})
            if new is not None:
                return [new]
        return None

    def __repr__(self) -> str:
        return f"<rewrite {self.name}: {self.pattern!r}>"


class RewriteStats:
    """How often each rewrite fired and how long each pass took."""

    def __init__(self):
        self.fired: Counter = Counter()
        self.pass_seconds: dict[str, float] = defaultdict(float)
        self.errors: list[str] = []

    def report(self) -> str:
        lines = ["rewrite passes (seconds):"]
        lines += [f"  {name:<24} {seconds:8.4f}" for name, seconds in self.pass_seconds.items()]
        lines.append("rewrites fired:")
        lines += [f"  {name:<40} {count}" for name, count in self.fired.most_common()]
        if self.errors:
            lines.append("rewrites that raised (skipped):")
            lines += [f"  {error}" for error in self.errors]
        return "\n".join(lines)


def _replacement_pairs(node: Apply, result) -> list[tuple[Variable, Variable]]:
    if isinstance(result, dict):
        return list(result.items())
    if len(result) != len(node.outputs):
        raise ValueError(
            f"a rewrite of {node.op} returned {len(result)} replacements for {len(node.outputs)} outputs"
        )
    return [
        (old, new) for old, new in zip(node.outputs, result) if new is not None and new is not old
    ]


def _fit_type(old: Variable, new: Variable) -> Variable | None:
    """``new`` adjusted to ``old``'s dtype, or None if it cannot stand in for ``old``."""
    from croton.tensor.variable import as_tensor_variable

    new = as_tensor_variable(new)
    if new.ndim != old.ndim:
        return None
    if new.dtype != old.dtype:
        new = new.astype(old.dtype)
    if not old.type.is_compatible(new.type):
        return None
    lost = [o == 1 and n is None for o, n in zip(old.type.shape, new.type.shape)]
    if any(lost):
        # clients may broadcast along these axes, which only a static length 1 allows
        from croton.tensor.shape import specify_shape

        new = specify_shape(new, [1 if gone else n for gone, n in zip(lost, new.type.shape)])
    return new


def _depends_on(fgraph: FunctionGraph, new: Variable, old: Variable) -> bool:
    """True if ``new`` is computed from ``old`` (replacing would make a cycle).

    Only the nodes the rewrite just built are searched (the cost stays proportional to
    the replacement): rewrites return new nodes over variables upstream of the node.
    """
    stack = [new]
    seen: set[int] = set()
    while stack:
        var = stack.pop()
        if var is old:
            return True
        node = var.owner
        if node is None or node in fgraph.apply_nodes or id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(node.inputs)
    return False


class _Worklist:
    """The nodes left to visit; listens to the graph so new nodes are visited too."""

    def __init__(self, nodes: Iterable[Apply]):
        self.queue: deque[Apply] = deque()
        self.queued: set[int] = set()
        for node in nodes:
            self.push(node)

    def push(self, node: Apply) -> None:
        if id(node) not in self.queued:
            self.queued.add(id(node))
            self.queue.append(node)

    def pop(self) -> Apply:
        node = self.queue.popleft()
        self.queued.discard(id(node))
        return node

    def on_import(self, fgraph, node) -> None:
        self.push(node)

    def on_prune(self, fgraph, node) -> None:
        for var in node.inputs:  # a producer that lost a client may now simplify
            if var.owner is not None and var.owner in fgraph.apply_nodes:
                self.push(var.owner)


def handle_rewrite_error(
    rewriter_name: str, node: Apply, error: Exception, stats: RewriteStats
) -> None:
    """Report a rewrite that raised, as ``config.on_rewrite_error`` says.

    ``"warn"`` (the default) records it in ``stats.errors`` and emits a `RewriteWarning`
    naming the rewrite and the node; ``"ignore"`` only records it; ``"raise"`` re-raises.
    """
    from croton.config import config

    if config.on_rewrite_error == "raise":
        raise error
    message = f"{rewriter_name} on {node!r}: {type(error).__name__}: {error}"
    stats.errors.append(message)
    if config.on_rewrite_error == "warn":
        warnings.warn(f"rewrite {message} (skipped)", RewriteWarning, stacklevel=2)


class EquilibriumPass:
    """Apply node rewriters until none applies anywhere in the graph.

    Each rewriter is tried only on nodes it tracks. After a replacement the new nodes,
    the clients of the replaced outputs and the producers that lost a client are
    visited again; nothing else is.
    """

    def __init__(
        self, name: str, rewriters: Sequence[NodeRewriter] = (), max_rewrites_per_node: int = 50
    ):
        self.name = name
        self.rewriters: list[NodeRewriter] = list(rewriters)
        self.max_rewrites_per_node = max_rewrites_per_node

    def add(self, *rewriters: NodeRewriter) -> None:
        self.rewriters.extend(rewriters)

    def rules(self, *pairs) -> None:
        """Add pattern rules: ``(pattern, replacement)`` or ``(pattern, replacement, name)``."""
        for pair in pairs:
            pattern, replacement, *rest = pair
            name = rest[0] if rest else f"{self.name}: {pattern!r}"
            self.add(PatternRewriter(pattern, replacement, name))

    def _index(self):
        by_key: dict = defaultdict(list)
        anywhere = []
        for rewriter in self.rewriters:
            if rewriter.tracks is None:
                anywhere.append(rewriter)
            else:
                for key in rewriter.tracks:
                    by_key[key].append(rewriter)
        return by_key, anywhere

    @staticmethod
    def _candidates(node, by_key, anywhere):
        from croton.ops.elemwise import Elemwise

        found = []
        if isinstance(node.op, Elemwise):
            found += by_key.get(("elemwise", node.op.scalar_op.name), ())
        for cls in type(node.op).__mro__:
            found += by_key.get(cls, ())
        return found + anywhere

    def __call__(self, fgraph: FunctionGraph, stats: RewriteStats | None = None) -> RewriteStats:
        stats = stats or RewriteStats()
        start = time.perf_counter()
        by_key, anywhere = self._index()
        worklist = _Worklist(fgraph.toposort())
        fgraph.listeners.append(worklist)
        budget = self.max_rewrites_per_node * (len(fgraph.apply_nodes) + 10)
        try:
            while worklist.queue and budget > 0:
                node = worklist.pop()
                if node not in fgraph.apply_nodes:
                    continue
                for rewriter in self._candidates(node, by_key, anywhere):
                    if self._try(fgraph, node, rewriter, worklist, stats):
                        budget -= 1
                        break
            if budget <= 0:
                warnings.warn(
                    f"rewrite pass {self.name} stopped before reaching a fixed point",
                    RewriteWarning,
                    stacklevel=2,
                )
        finally:
            fgraph.listeners.remove(worklist)
            stats.pass_seconds[self.name] += time.perf_counter() - start
        return stats

    @staticmethod
    def _try(fgraph, node, rewriter, worklist, stats) -> bool:
        try:
            result = rewriter.transform(fgraph, node)
            if not result:
                return False
            pairs = []
            for old, new in _replacement_pairs(node, result):
                fitted = _fit_type(old, new)
                if fitted is None:
                    return False
                if _depends_on(fgraph, fitted, old):
                    raise ValueError(f"the replacement of {old} is computed from {old} itself")
                pairs.append((old, fitted))
            if not pairs:
                return False
        except Exception as error:
            handle_rewrite_error(rewriter.name, node, error, stats)
            return False
        for old, new in pairs:
            clients = [c for c, _ in fgraph.clients.get(old, []) if c != OUTPUT]
            if new.name is None and old.name is not None:
                new.name = old.name
            fgraph.replace(old, new, reason=rewriter.name)
            for client in clients:
                if client in fgraph.apply_nodes:
                    worklist.push(client)
            if new.owner is not None and new.owner in fgraph.apply_nodes:
                worklist.push(new.owner)
        stats.fired[rewriter.name] += 1
        return True


class GraphPass:
    """A pass that looks at the whole graph at once (merging, fusion)."""

    def __init__(self, name: str, fn: Callable[[FunctionGraph, RewriteStats], None]):
        self.name = name
        self.fn = fn

    def __call__(self, fgraph: FunctionGraph, stats: RewriteStats | None = None) -> RewriteStats:
        stats = stats or RewriteStats()
        start = time.perf_counter()
        try:
            self.fn(fgraph, stats)
        except Exception as error:
            from croton.config import config

            if config.on_rewrite_error == "raise":
                raise
            stats.errors.append(f"{self.name}: {type(error).__name__}: {error}")
            if config.on_rewrite_error == "warn":
                warnings.warn(
                    f"rewrite pass {self.name} raised {error!r} (skipped)",
                    RewriteWarning,
                    stacklevel=2,
                )
        finally:
            stats.pass_seconds[self.name] += time.perf_counter() - start
        return stats
