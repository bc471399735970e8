"""Backends: the protocol, the per-backend lowering registry, discovery and selection.

The core knows no backend. Backends arrive through the plugin manager (entry-point
group ``croton``), the built-in ones exactly as a third party's.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
import warnings
from collections.abc import Callable, Iterable

import numpy as np

from croton.graph.basic import Apply, Op


class BackendError(ValueError):
    """An unknown or unavailable backend was asked for."""


class MissingLoweringError(NotImplementedError):
    """The chosen backend has no rule for an op in the graph."""


class FallbackWarning(UserWarning):
    """A node runs on the reference backend because its backend cannot lower it."""


class PythonStepWarning(UserWarning):
    """An op's own Python code (its ``perform``) runs between a compiling backend's steps."""


class LoweringRegistry:
    """One backend's map from op class to lowering rule.

    A rule for a class also serves its subclasses, unless they have their own.

    ``rules_from`` names a module whose ``registry`` (a `LoweringRegistry`) holds the
    backend's own rules; it is imported when a rule is first looked up, so that
    discovering backends imports none of their rules (only the backend a graph
    compiles on needs them). Rules registered with ``replace=True`` before then keep
    precedence over the module's, as they would have replaced them.
    """

    def __init__(self, backend_name: str, rules_from: str | None = None):
        self.backend_name = backend_name
        self._rules: dict[type, Callable] = {}
        self._rules_from = rules_from
        self._loading = threading.Lock()

    def _loaded(self) -> dict[type, Callable]:
        """The rules, the backend's own among them (imported on first use)."""
        if self._rules_from is not None:
            with self._loading:
                if self._rules_from is not None:
                    own = importlib.import_module(self._rules_from).registry
                    for op_class in own.op_classes:
                        self._rules.setdefault(op_class, own.lookup_class(op_class))
                    self._rules_from = None
        return self._rules

    def register(self, op_class: type, rule: Callable, *, replace: bool = False) -> None:
        """Add ``rule`` for ``op_class``; an existing rule is kept unless ``replace``."""
        if not (isinstance(op_class, type) and issubclass(op_class, Op)):
            raise TypeError(f"lowering rules are registered for Op subclasses, got {op_class!r}")
        if not replace and op_class in self._loaded():
            raise ValueError(
                f"backend {self.backend_name!r} already has a rule for {op_class.__name__}"
            )
        self._rules[op_class] = rule

    def lowers(self, *op_classes: type) -> Callable:
        """Decorator: ``@registry.lowers(Dot) def _dot(op, node): ...``."""

        def decorate(rule: Callable) -> Callable:
            for op_class in op_classes:
                self.register(op_class, rule)
            return rule

        return decorate

    def lookup(self, op: Op) -> Callable | None:
        """The rule for ``op``'s class (or its nearest base class), or None."""
        rules = self._loaded()
        for cls in type(op).__mro__:
            rule = rules.get(cls)
            if rule is not None:
                return rule
        return None

    def lookup_class(self, op_class: type) -> Callable | None:
        """The rule registered for exactly ``op_class``, or None."""
        return self._loaded().get(op_class)

    def __contains__(self, op_class: type) -> bool:
        rules = self._loaded()
        return any(cls in rules for cls in op_class.__mro__)

    @property
    def op_classes(self) -> list[type]:
        return list(self._loaded())


class Backend:
    """The interface a backend implements.

    Attributes
    ----------
    name
        The name users select it by (``backend="numpy"``).
    version
        The backend's version string.
    priority
        Higher is preferred when no backend is named (among available CPU backends).
    device
        ``"cpu"`` or ``"gpu"``: only CPU backends are chosen automatically.
    registry
        The `LoweringRegistry` of op class to rule.
    lowerings
        The module whose ``registry`` holds the backend's own rules, imported at first
        lookup (None: the backend fills ``registry`` itself).
    unsupported, known_failures
        What the conformance suite (`croton.testing`) skips as deliberately unsupported
        or expects to fail, as ``{case-id glob: reason}``.
    """

    name: str = "abstract"
    version: str = "0"
    priority: int = 0
    device: str = "cpu"
    #: conformance case-id globs this backend deliberately does not support, with why
    #: (``{"elemwise.*/float16/*": "no half precision"}``); the suite reports them
    unsupported: dict[str, str] = {}
    #: case-id globs that fail for a known reason, run as strict xfails; keep it short
    known_failures: dict[str, str] = {}
    #: the module whose ``registry`` holds this backend's rules, imported at first use
    lowerings: str | None = None

    def __init__(self):
        self.registry = LoweringRegistry(self.name, rules_from=self.lowerings)

    def is_available(self) -> bool:
        """Whether this backend can run here."""
        return self.unavailable_reason() is None

    def unavailable_reason(self) -> str | None:
        """Why the backend cannot run here ("cupy not installed"), or None."""
        return None

    def cache_info(self) -> dict | None:
        """What this backend's compilation cache holds (None: it keeps no cache)."""
        return None

    def clear_cache(self) -> int:
        """Empty this backend's compilation cache; returns the number of files removed."""
        return 0

    def rewrite_passes(self) -> list:
        """Extra rewrite passes this backend runs after the core's."""
        return []

    def compile(self, fgraph, *, allow_fallback: bool = False):
        """An executable for ``fgraph``: ``executable(*input_values) -> list of outputs``."""
        raise NotImplementedError

    def to_backend(self, array: np.ndarray):
        """Convert a numpy array to this backend's array type."""
        return array

    def native_value(self, value, type):
        """``value`` itself when it already is one of this backend's arrays of ``type``.

        Such inputs are used in place (a device array stays where it is); anything else
        returns None and goes through ``type.filter`` and `to_backend`.
        """
        return None

    def copy(self, value):
        """A copy of one of this backend's arrays, on the same device.

        `Function` calls it for an output or an update that would otherwise share memory
        with an input or a shared value.
        """
        return value.copy()

    def to_numpy(self, value) -> np.ndarray:
        """Convert one of this backend's arrays to a numpy array (a copy if on a device)."""
        return np.asarray(value)

    @property
    def uses_numpy_arrays(self) -> bool:
        """True when this backend's arrays are numpy arrays (no conversion needed)."""
        return True

    def lowers(self, node: Apply) -> bool:
        return self.registry.lookup(node.op) is not None

    def __repr__(self) -> str:
        return f"<croton backend {self.name!r}>"


# -- discovery ----------------------------------------------------------------------------

_lock = threading.RLock()
_backends: dict[str, Backend] | None = None


def reset() -> None:
    """Forget discovered backends (after plugins change)."""
    global _backends
    with _lock:
        _backends = None


def _discover() -> dict[str, Backend]:
    global _backends
    with _lock:
        if _backends is not None:
            return _backends
        from croton.plugin import plugin_manager

        manager = plugin_manager()
        found: dict[str, Backend] = {}
        # pluggy calls the last registered plugin first; the first registered wins here
        for offered in reversed(manager.hook.croton_backends()):
            for backend in offered or ():
                if backend.name in found:
                    warnings.warn(
                        f"two plugins offer a backend named {backend.name!r}; keeping the first"
                    )
                    continue
                found[backend.name] = backend
        for backend in found.values():
            for rules in manager.hook.croton_lowerings(backend=backend):
                for op_class, rule in (rules or {}).items():
                    backend.registry.register(op_class, rule, replace=True)
        _backends = found
        return found


def list_backends() -> list[Backend]:
    """Every discovered backend, available or not, by decreasing priority."""
    return sorted(_discover().values(), key=lambda b: -b.priority)


def get_backend(name: str) -> Backend:
    """The backend called ``name``; a `BackendError` if there is none or it cannot run."""
    backends = _discover()
    backend = backends.get(name)
    if backend is None:
        known = ", ".join(sorted(backends)) or "none"
        raise BackendError(
            f"unknown croton backend {name!r}. Installed backends: {known}. "
            "Run `croton info` to see which are available, or install the plugin that provides it."
        )
    reason = backend.unavailable_reason()
    if reason is not None:
        raise BackendError(f"croton backend {name!r} is not available here: {reason}")
    return backend


def reference_backend() -> Backend:
    """The numpy reference backend, found through the registry like any other."""
    return get_backend("numpy")


def select_backend(name: str | None = None) -> Backend:
    """The backend to compile with.

    In order: ``name``, ``croton.config.backend``, the ``CROTON_BACKEND`` environment
    variable, else the available CPU backend of highest priority. A `Backend` object
    given as ``name`` is returned as it is.
    """
    from croton.config import config

    if isinstance(name, Backend):
        return name
    for choice in (name, config.backend, os.environ.get("CROTON_BACKEND") or None):
        if choice:
            return get_backend(choice)
    candidates = [b for b in list_backends() if b.device == "cpu" and b.is_available()]
    if not candidates:
        raise BackendError(
            "no croton backend is available; reinstall croton (the numpy backend ships with it)"
        )
    return candidates[0]


def missing_lowering_message(node: Apply, backend: Backend) -> str:
    """The error for a node ``backend`` cannot lower, naming who could."""
    able = [b.name for b in list_backends() if b is not backend and b.lowers(node)]
    where = node.outputs[0].where() if node.outputs else ""
    return (
        f"backend {backend.name!r} has no lowering for {node.op} "
        f"({type(node.op).__module__}.{type(node.op).__name__}). "
        f"Backends that lower it: {', '.join(able) or 'none'}. Choose one of them with "
        f"backend=..., or set croton.config.allow_fallback = True to run this node on the "
        f"reference backend.\nThe node's output was created at:\n{where}"
    )


def runs_in_python(op: Op) -> bool:
    """Whether ``op`` brings its own Python kernel: Theano's
    ``perform(node, inputs, output_storage)``."""
    return callable(getattr(op, "perform", None))


_probing = threading.local()

# the length a made-up input takes along an axis of unknown length: two, not one, so
# that what runs on it is what runs on real data (numba's ``np.dot`` of 1 x 1 matrices
# takes BLAS's dot rather than its matrix product)
PROBE_LENGTH = 2


def probe_shape(type_) -> tuple[int, ...]:
    """The shape of a made-up value of ``type_`` (its static lengths, others
    `PROBE_LENGTH`)."""
    return tuple(PROBE_LENGTH if n is None else n for n in type_.shape)


@contextlib.contextmanager
def probing():
    """A run on made-up inputs (numba's compile-time warm-up): within it the Python ops
    do not run their ``perform`` (it may print, or fail on such values) but give zeros
    of their output types."""
    outer = getattr(_probing, "active", False)
    _probing.active = True
    try:
        yield
    finally:
        _probing.active = outer


def perform_rule(backend: Backend) -> Callable:
    """The rule running an op's ``perform`` on ``backend``, in the reference backend's form
    (``rule(op, node) -> kernel``): the kernel hands ``perform`` numpy arrays and checks
    what it stores against the node's output types."""
    convert = not backend.uses_numpy_arrays

    def rule(op: Op, node: Apply) -> Callable:
        outputs = node.outputs

        def kernel(*values):
            if convert:
                values = [backend.to_numpy(v) for v in values]
            storage = [[None] for _ in outputs]
            if getattr(_probing, "active", False):
                for cell, out in zip(storage, outputs):
                    cell[0] = np.zeros(probe_shape(out.type), dtype=out.type.dtype)
            else:
                op.perform(node, list(values), storage)
            results = tuple(
                _performed(op, k, out.type, cell[0], values)
                for k, (out, cell) in enumerate(zip(outputs, storage))
            )
            if convert:
                results = tuple(backend.to_backend(r) for r in results)
            return results if len(results) > 1 else results[0]

        return kernel

    return rule


def _performed(op: Op, k: int, type_, value, inputs) -> np.ndarray:
    """Output ``k`` as ``op.perform`` stored it, as an array of ``type_`` that shares no
    memory with the inputs."""
    if value is None:
        raise ValueError(
            f"{op}.perform did not store its output {k}: set output_storage[{k}][0] = value"
        )
    array = np.asarray(value)
    if array.ndim != type_.ndim:
        raise TypeError(
            f"{op}.perform stored a {array.ndim}-d value as its output {k}, of type {type_}"
        )
    if array.dtype != type_.numpy_dtype:
        if not np.can_cast(array.dtype, type_.numpy_dtype, "same_kind"):
            raise TypeError(
                f"{op}.perform stored {array.dtype} data as its output {k}, of type {type_}; "
                "convert it in perform"
            )
        return array.astype(type_.numpy_dtype)
    if any(isinstance(v, np.ndarray) and np.may_share_memory(array, v) for v in inputs):
        return array.copy()  # (a view of an input would escape to the caller)
    return array


def resolve_rules(fgraph_nodes: Iterable[Apply], backend: Backend, allow_fallback: bool):
    """For each node, ``(rule, fell_back)``; raises `MissingLoweringError` without a rule.

    An op with no rule that has Theano's ``perform`` runs that (a `PythonStepWarning`
    says so on a backend that compiles). With ``allow_fallback`` any other node the
    backend cannot lower gets the reference backend's rule and a `FallbackWarning`.
    """
    resolved = []
    for node in fgraph_nodes:
        rule = backend.registry.lookup(node.op)
        if rule is not None:
            resolved.append((rule, False))
            continue
        reference = reference_backend()
        if runs_in_python(node.op):
            if backend is not reference:
                warnings.warn(
                    f"backend {backend.name!r} runs {node.op} through its Python perform(), "
                    "between its compiled steps",
                    PythonStepWarning,
                    stacklevel=4,
                )
            resolved.append((perform_rule(backend), True))
            continue
        fallback = (
            reference.registry.lookup(node.op)
            if allow_fallback and reference is not backend
            else None
        )
        if fallback is None:
            raise MissingLoweringError(missing_lowering_message(node, backend))
        warnings.warn(
            f"backend {backend.name!r} cannot lower {node.op}; running it on the reference "
            f"backend (allow_fallback is set)",
            FallbackWarning,
            stacklevel=4,
        )
        resolved.append((fallback, True))
    return resolved
