"""``croton.function``: compile a graph into a callable with Theano's semantics."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from croton.compile.io import _NO_VALUE, In, Out
from croton.compile.shared import SharedVariable
from croton.graph.basic import Constant, Variable
from croton.graph.fgraph import FunctionGraph
from croton.graph.traversal import clone_replace, free_inputs
from croton.graph.type import TensorType
from croton.tensor.variable import as_tensor_variable


class UnusedInputError(ValueError):
    """An explicit input does not affect any output or update."""


class MissingInputError(ValueError):
    """The outputs depend on a variable that is not an input."""


# Calls that write updates hold this lock from reading the shared values to writing the
# new ones, so each call's updates are atomic with respect to other calls.
_update_lock = threading.RLock()

_MODES = ("FAST_RUN", "FAST_COMPILE", "NONE")


def _normalize_updates(updates) -> list[tuple[SharedVariable, Variable]]:
    if updates is None:
        return []
    pairs = list(updates.items()) if isinstance(updates, Mapping) else list(updates)
    result, seen = [], set()
    for pair in pairs:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"updates must be (shared_variable, new_value) pairs, got {pair!r}")
        var, value = pair
        if not isinstance(var, SharedVariable):
            raise TypeError(
                f"update target {var} is not a shared variable; only shared variables can be updated"
            )
        if id(var) in seen:
            raise ValueError(f"shared variable {var} is updated twice in the same function")
        seen.add(id(var))
        result.append((var, _update_value(var, value, f"the update of {var}", "shared variable")))
    return result


def _update_value(var: Variable, value, what: str, target: str) -> Variable:
    """``value`` as an expression that can be stored into ``var``: the same number of
    dimensions, a dtype reached without loss (then cast to ``var``'s) and no static
    length that contradicts ``var``'s."""
    if isinstance(value, (bool, int, float, complex)) and not isinstance(value, np.generic):
        # a Python number is weak (NEP 50): it takes the target's dtype if exact
        try:
            value = TensorType(var.dtype, shape=()).filter(value, name=what)
        except TypeError:
            pass
    value = as_tensor_variable(value)
    if value.ndim != var.ndim:
        raise TypeError(
            f"{what} has {value.ndim} dimensions but the {target} has {var.ndim}. Reshape the "
            f"update expression.\n{value.where()}"
        )
    if value.dtype != var.dtype:
        if not np.can_cast(value.dtype, var.dtype, "safe"):
            raise TypeError(
                f"{what} ({var.dtype}) has dtype {value.dtype}, which cannot be stored without "
                f"loss. Cast it: `({value}).astype('{var.dtype}')`.\n{value.where()}"
            )
        value = value.astype(var.dtype)
    return _with_static_shape(value, var.type, what)


def _with_static_shape(value: Variable, target, what: str) -> Variable:
    """``value`` with the static shape of ``target``: a conflict raises, an unknown length
    becomes a run-time check."""
    have, want = value.type.shape, target.shape
    for axis, (h, w) in enumerate(zip(have, want)):
        if h is not None and w is not None and h != w:
            raise TypeError(
                f"{what} has static shape {have}, which conflicts with {want} at axis {axis}.\n"
                f"{value.where()}"
            )
    if any(h is None and w is not None for h, w in zip(have, want)):
        from croton.tensor.shape import specify_shape

        value = specify_shape(value, [h if w is None else w for h, w in zip(have, want)])
    return value


def _normalize_givens(givens) -> dict[Variable, Variable]:
    if givens is None:
        return {}
    pairs = list(givens.items()) if isinstance(givens, Mapping) else list(givens)
    result = {}
    for old, new in pairs:
        if not isinstance(old, Variable):
            raise TypeError(f"givens keys must be symbolic variables, got {old!r}")
        new = as_tensor_variable(new)
        if new.ndim != old.ndim or new.dtype != old.dtype:
            if new.ndim == old.ndim and np.can_cast(new.dtype, old.dtype, "safe"):
                new = new.astype(old.dtype)
            else:
                raise TypeError(
                    f"givens: {old} ({old.type}) cannot be replaced by {new} ({new.type})"
                )
        result[old] = _with_static_shape(new, old.type, f"givens: the replacement of {old}")
    return result


def function(
    inputs: Sequence = (),
    outputs=None,
    mode: str | None = None,
    updates=None,
    givens=None,
    no_default_updates: bool | Sequence = False,
    accept_inplace: bool = False,
    name: str | None = None,
    rebuild_strict: bool = True,
    allow_input_downcast: bool | None = None,
    profile: bool | None = None,
    on_unused_input: str | None = None,
    backend: str | None = None,
    allow_fallback: bool | None = None,
    trust_input: bool = False,
    return_device_arrays: bool = False,
) -> Function:
    """Compile ``outputs`` as a function of ``inputs``.

    Parameters
    ----------
    inputs
        Symbolic variables or `In` objects, in call order.
    outputs
        A variable (the call returns one array), a list (the call returns a list), or
        None; `Out` objects allowed.
    updates
        ``[(shared_variable, new_value_expression), ...]`` or a dict. All outputs and
        updates are computed from the values before the call; updates are stored only
        after the whole call succeeded.
    givens
        ``[(variable, replacement), ...]``: substitutions made before compiling.
    no_default_updates
        True: ignore the ``default_update`` of every shared variable (random draws keep
        their state); a list of shared variables: ignore theirs only.
    allow_input_downcast
        Accept inputs that lose precision when converted to the input's dtype.
    on_unused_input
        ``"raise"`` (default), ``"warn"`` or ``"ignore"`` for inputs no output uses.
    backend
        A backend name; default: ``croton.config.backend``, ``CROTON_BACKEND``, else the
        fastest available CPU backend. A `croton.backend.Backend` object is used as it is,
        without asking whether it can run here (tools that only generate code use this).
    return_device_arrays
        Return outputs as the backend's own arrays (``cupy.ndarray`` on the GPU, jax
        arrays), left on its device, instead of numpy copies. Backends whose arrays are
        numpy arrays return numpy arrays either way.
    mode
        ``"FAST_RUN"``, ``"FAST_COMPILE"`` or ``"NONE"`` (how much to rewrite).
    profile
        Print which rewrites fired how often and how long each pass took (as
        ``croton.config.print_rewrites`` does for every function). The numbers stay
        available as ``f.maker.fgraph.rewrite_stats`` either way.
    """
    from croton import backend as backend_module
    from croton.config import config

    on_unused_input = on_unused_input or config.on_unused_input
    if on_unused_input not in ("raise", "warn", "ignore"):
        raise ValueError(
            f"on_unused_input must be 'raise', 'warn' or 'ignore', got {on_unused_input!r}"
        )
    requested = config.mode if mode is None else mode
    if not isinstance(requested, str) or requested.upper() not in _MODES:
        raise ValueError(f"unknown mode {requested!r}; use one of {_MODES}")
    mode = requested.upper()
    chosen = backend_module.select_backend(backend)
    allow_fallback = config.allow_fallback if allow_fallback is None else allow_fallback

    if isinstance(inputs, (Variable, In)):
        raise TypeError("function() takes a list of inputs; wrap the single input in a list")
    ins = [i if isinstance(i, In) else In(i) for i in inputs]
    seen = set()
    for i in ins:
        var = i.variable
        if isinstance(var, Constant):
            raise TypeError(f"constants cannot be function inputs ({var}); use a symbolic variable")
        if isinstance(var, SharedVariable):
            raise TypeError(
                f"shared variable {var} cannot be an explicit input: its value is used "
                "implicitly. Remove it from the inputs."
            )
        if var.owner is not None:
            raise TypeError(
                f"input {var} is computed by {var.owner.op}; inputs must be variables without an "
                f"owner. Use givens to substitute an expression.\n{var.where()}"
            )
        if id(var) in seen:
            raise ValueError(f"input {var} is given twice")
        seen.add(id(var))

    single = outputs is not None and not isinstance(outputs, (list, tuple))
    out_list = [] if outputs is None else ([outputs] if single else list(outputs))
    outs = [o if isinstance(o, Out) else Out(as_tensor_variable(o)) for o in out_list]
    update_pairs = _normalize_updates(updates)
    output_vars = [o.variable for o in outs]
    update_vars = [v for _, v in update_pairs]
    # inputs whose stored value (their In's ``value``) each call replaces
    input_updates = []
    for position, i in enumerate(ins):
        if i.update is None:
            continue
        what = (
            f"the update of input {position} ({i.name})"
            if i.name
            else f"the update of input {position}"
        )
        if not i.has_default:
            raise TypeError(
                f"{what} has no value to start from: give it one, In({i.variable}, value=..., "
                "update=...)"
            )
        input_updates.append((position, _update_value(i.variable, i.update, what, "input")))
    state_vars = [v for _, v in input_updates]

    replacements = _normalize_givens(givens)
    if replacements:
        rebuilt = clone_replace(output_vars + update_vars + state_vars, replacements)
        output_vars, rebuilt = rebuilt[: len(output_vars)], rebuilt[len(output_vars) :]
        update_vars, state_vars = rebuilt[: len(update_vars)], rebuilt[len(update_vars) :]
        update_pairs = [(s, v) for (s, _), v in zip(update_pairs, update_vars)]
        input_updates = [(p, v) for (p, _), v in zip(input_updates, state_vars)]

    if no_default_updates is not True:
        # False: every default update; a list: all but those of the listed variables
        skipped = list(no_default_updates) if no_default_updates else []
        updated = {id(s) for s, _ in update_pairs} | {id(s) for s in skipped}
        for var in free_inputs(output_vars + update_vars + state_vars):
            if (
                isinstance(var, SharedVariable)
                and var.default_update is not None
                and id(var) not in updated
            ):
                update_pairs.append((var, var.default_update))
                update_vars.append(var.default_update)

    explicit = [i.variable for i in ins]
    needed = free_inputs(output_vars + update_vars + state_vars)
    explicit_ids = {id(v) for v in explicit}
    shared_inputs = []
    for var in needed:
        if id(var) in explicit_ids:
            continue
        if isinstance(var, SharedVariable):
            shared_inputs.append(var)
            continue
        raise MissingInputError(
            f"the outputs depend on {var} ({var.type}), which is not among the inputs "
            f"{[str(v) for v in explicit]}. Add it to the inputs or give it a value with givens.\n"
            f"{var.where()}"
        )
    for var, _ in update_pairs:  # updated shared variables are inputs even if unread
        if var not in shared_inputs:
            shared_inputs.append(var)
    needed_ids = {id(v) for v in needed}
    unused = [v for v in explicit if id(v) not in needed_ids]
    if unused and on_unused_input != "ignore":
        message = (
            f"input(s) {', '.join(str(v) for v in unused)}{f' of function {name!r}' if name else ''} are not used "
            "by any output or update. Remove them, or pass on_unused_input='warn' or 'ignore'."
        )
        if on_unused_input == "raise":
            raise UnusedInputError(message)
        warnings.warn(message, stacklevel=2)

    fgraph = FunctionGraph(
        explicit + shared_inputs, output_vars + update_vars + state_vars, clone=True
    )
    from croton.rewrite import rewrite_graph

    rewrite_graph(fgraph, mode=mode, backend=chosen, profile=bool(profile))
    executable = chosen.compile(fgraph, allow_fallback=allow_fallback)
    maker = FunctionMaker(
        fgraph=fgraph,
        backend=chosen,
        mode=mode,
        inputs=ins,
        outputs=outs,
        shared_inputs=shared_inputs,
        updates=update_pairs,
        original_outputs=output_vars,
        allow_input_downcast=allow_input_downcast,
        input_updates=input_updates,
    )
    return Function(
        maker,
        executable,
        single=single,
        name=name,
        trust_input=trust_input,
        return_device_arrays=return_device_arrays,
    )


class FunctionMaker:
    """What a compiled function was made from (Theano's ``f.maker``)."""

    def __init__(
        self,
        fgraph,
        backend,
        mode,
        inputs,
        outputs,
        shared_inputs,
        updates,
        original_outputs,
        allow_input_downcast,
        input_updates=(),
    ):
        self.fgraph = fgraph
        self.backend = backend
        self.mode = mode
        self.inputs = inputs
        self.outputs = outputs
        self.shared_inputs = shared_inputs
        self.updates = updates
        self.original_outputs = original_outputs
        self.allow_input_downcast = allow_input_downcast
        # (position, expression): the inputs whose stored value each call replaces
        self.input_updates = list(input_updates)


def _aliased_outputs(fgraph: FunctionGraph) -> list[bool]:
    """For each output, whether it may share memory with an input or a constant.

    Such outputs are copied before they reach the caller or a shared variable, so no
    one can change another's data through them.
    """
    root = {id(v) for v in fgraph.inputs}
    may_alias: set[int] = set(root)
    for node in fgraph.toposort():
        view_map = getattr(node.op, "view_map", None) or {}
        for out_index, in_indices in view_map.items():
            if any(
                id(node.inputs[i]) in may_alias or isinstance(node.inputs[i], Constant)
                for i in in_indices
            ):
                may_alias.add(id(node.outputs[out_index]))
    flags, seen = [], set()
    for out in fgraph.outputs:
        flags.append(id(out) in may_alias or isinstance(out, Constant) or id(out) in seen)
        seen.add(id(out))
    return flags


_FLOAT64 = np.dtype("float64")


class Function:
    """A compiled function. Call it with the input values, positionally or by name."""

    def __init__(
        self,
        maker: FunctionMaker,
        executable,
        single: bool,
        name=None,
        trust_input: bool = False,
        return_device_arrays: bool = False,
    ):
        self.maker = maker
        self.name = name
        self.trust_input = trust_input
        self._executable = executable
        self._single = single
        self._n_outputs = len(maker.outputs)
        self._copy_output = _aliased_outputs(maker.fgraph)
        self._backend = maker.backend
        self._numpy_native = maker.backend.uses_numpy_arrays
        self.return_device_arrays = return_device_arrays
        ins = maker.inputs
        self._input_names = {}
        self._ambiguous = set()  # names that several inputs have
        for position, i in enumerate(ins):
            if i.name is not None:
                if i.name in self._input_names:
                    self._ambiguous.add(i.name)
                self._input_names.setdefault(i.name, position)
        self._strict = [i.strict for i in ins]
        self._state_positions = [position for position, _ in maker.input_updates]
        self._input_types = [i.variable.type for i in ins]
        self._input_labels = [
            f"input {position} ({i.name})" if i.name else f"input {position}"
            for position, i in enumerate(ins)
        ]
        self._downcast = [
            i.allow_downcast if i.allow_downcast is not None else bool(maker.allow_input_downcast)
            for i in ins
        ]
        # each input's stored value (used when a call omits it; `_NO_VALUE` for none):
        # its In's ``value``, replaced after each call for an In with an ``update``
        self._defaults = [self._stored(position, i.value) for position, i in enumerate(ins)]
        self._shared = maker.shared_inputs
        self._update_targets = [s for s, _ in maker.updates]
        self._writes = bool(self._update_targets or self._state_positions)
        # what a value needs to be passed on unconverted: (dtype, ndim, whether the type
        # fixes any length); anything else goes through TensorType.filter
        self._n_inputs = len(ins)
        self._passable = [
            (t.numpy_dtype, t.ndim, all(s is None for s in t.shape)) for t in self._input_types
        ]

    # -- calling -----------------------------------------------------------------------
    def _arguments(self, args, kwargs) -> list:
        if not kwargs and len(args) == self._n_inputs:
            if self.trust_input:
                return args
            if self._numpy_native:
                return self._positional(args)
        ins = self.maker.inputs
        if len(args) > len(ins):
            raise TypeError(
                f"{self._label()} takes {len(ins)} inputs, got {len(args)} positional arguments"
            )
        values = list(args) + [None] * (len(ins) - len(args))
        given = [True] * len(args) + [False] * (len(ins) - len(args))
        for key, value in kwargs.items():
            if key in self._ambiguous:
                raise TypeError(self._ambiguity(key))
            position = self._input_names.get(key)
            if position is None:
                raise TypeError(
                    f"{self._label()} has no input named {key!r}; inputs: {list(self._input_names)}"
                )
            if given[position]:
                raise TypeError(f"{self._label()} got input {key!r} twice")
            values[position], given[position] = value, True
        for position in range(len(ins)):
            if not given[position]:
                if self._defaults[position] is _NO_VALUE:
                    raise TypeError(f"{self._label()}: missing {self._input_labels[position]}")
                values[position] = self._defaults[position]
        if self.trust_input:
            return values
        if self._numpy_native:
            return [self._filter(position, value) for position, value in enumerate(values)]
        backend = self._backend
        converted = []
        for position, (value, type_) in enumerate(zip(values, self._input_types)):
            native = backend.native_value(value, type_)  # exact already: strict or not
            if native is None:
                native = backend.to_backend(self._filter(position, value))
            converted.append(native)
        return converted

    def _filter(self, position: int, value):
        """``value`` converted to input ``position``'s type, or a TypeError naming it."""
        type_, label = self._input_types[position], self._input_labels[position]
        if self._strict[position] and not (
            isinstance(value, np.ndarray)
            and value.dtype == type_.numpy_dtype
            and value.ndim == type_.ndim
        ):
            got = (
                f"a {value.dtype} array with {value.ndim} dimensions"
                if isinstance(value, np.ndarray)
                else f"a {type(value).__name__}"
            )
            raise TypeError(
                f"{label} is strict: it takes a numpy array of dtype {type_.dtype} with "
                f"{type_.ndim} dimensions, got {got}. Convert the value "
                f"(np.asarray(value, dtype='{type_.dtype}')) or drop strict=True."
            )
        return type_.filter(value, name=label, allow_downcast=self._downcast[position])

    def _stored(self, position: int, value):
        """A default as it is kept: converted to the input's type where it converts (a
        strict input takes it then), else as given, to fail, naming the input, at the
        first call that uses it."""
        type_ = self._input_types[position]
        if value is _NO_VALUE or self._backend.native_value(value, type_) is not None:
            return value
        try:
            return type_.filter(value, name="", allow_downcast=self._downcast[position])
        except TypeError:
            return value

    def _ambiguity(self, name: str) -> str:
        positions = [p for p, i in enumerate(self.maker.inputs) if i.name == name]
        return (
            f"{self._label()}: the name {name!r} is ambiguous: inputs {positions} are all "
            "called that. Pass them by position, or name them apart with In(variable, name=...)."
        )

    def _positional(self, args) -> list:
        """Every input given positionally: arrays of the right type pass as they are.

        The common cases are decided by a few identity tests; everything else (and every
        error) goes through `TensorType.filter`.
        """
        converted = []
        for position, (value, (dtype, ndim, any_shape)) in enumerate(zip(args, self._passable)):
            kind = type(value)
            if kind is np.ndarray and value.dtype is dtype and value.ndim == ndim and any_shape:
                converted.append(value)
            elif self._strict[position]:
                converted.append(self._filter(position, value))
            elif ndim == 0 and (
                (kind is float and dtype is _FLOAT64)
                or (isinstance(value, np.generic) and value.dtype is dtype)
            ):
                converted.append(np.asarray(value))
            else:
                converted.append(self._filter(position, value))
        return converted

    def _shared_values(self) -> list:
        values = []
        backend = self._backend
        for var in self._shared:
            value = var._value
            if var._backend is not backend:
                if var._backend is not None:
                    value = var._backend.to_numpy(value)
                if not self._numpy_native:
                    value = backend.to_backend(value)
                    var._set_backend_value(value, backend)
            values.append(value)
        return values

    def __call__(self, *args, **kwargs):
        arguments = self._arguments(args, kwargs)
        if self._writes:
            with _update_lock:
                results = self._executable(*arguments, *self._shared_values())
                self._store_updates(results[self._n_outputs :])
        else:
            results = self._executable(*arguments, *self._shared_values())
        outputs = self._finish_outputs(results[: self._n_outputs])
        return outputs[0] if self._single else outputs

    def _store_updates(self, values) -> None:
        """Store the new values of the updated shared variables, then of the inputs
        with an update (kept as numpy arrays, whatever the backend)."""
        copies = self._copy_output[self._n_outputs :]
        native = self._numpy_native
        for var, value, copy in zip(self._update_targets, values, copies):
            if native:
                value = np.array(value) if copy else np.asarray(value)
                var._set_backend_value(value, None)
            else:
                var._set_backend_value(self._backend.copy(value) if copy else value, self._backend)
        n = len(self._update_targets)
        for position, value, copy in zip(self._state_positions, values[n:], copies[n:]):
            if native:
                self._defaults[position] = np.array(value) if copy else np.asarray(value)
            else:
                self._defaults[position] = self._backend.to_numpy(value)

    def _finish_outputs(self, values) -> list:
        result = []
        for value, copy in zip(values, self._copy_output):
            if not self._numpy_native:
                if not self.return_device_arrays:
                    value = self._backend.to_numpy(value)
                elif copy:
                    value = self._backend.copy(value)
            elif copy:
                value = np.array(value)
            elif type(value) is not np.ndarray:
                value = np.asarray(value)
            result.append(value)
        return result

    # -- introspection -------------------------------------------------------------------
    def _label(self) -> str:
        return f"function {self.name!r}" if self.name else "the function"

    def source(self) -> str:
        """The generated source of the compiled program, where the backend has one."""
        source = getattr(self._executable, "source", None)
        return source() if callable(source) else str(source)

    @property
    def input_storage(self):
        return [i.variable for i in self.maker.inputs]

    # -- stored input values (Theano's ``f[name]``) ----------------------------------------
    def _position_of(self, key) -> int:
        """The position of the input ``key`` names: a name, a variable, an `In` or an
        index."""
        ins = self.maker.inputs
        if isinstance(key, str):
            if key in self._ambiguous:
                raise KeyError(self._ambiguity(key))
            position = self._input_names.get(key)
        elif isinstance(key, In):
            position = next((p for p, i in enumerate(ins) if i is key), None)
        elif isinstance(key, Variable):
            position = next((p for p, i in enumerate(ins) if i.variable is key), None)
        elif isinstance(key, (int, np.integer)) and -len(ins) <= key < len(ins):
            position = int(key) % len(ins)
        else:
            position = None
        if position is None:
            raise KeyError(
                f"{self._label()} has no input {key!r}; its inputs: "
                f"{[i.name or str(i.variable) for i in ins]}"
            )
        return position

    def __getitem__(self, key):
        """The value stored for an input (its default, or what its update last stored)."""
        position = self._position_of(key)
        value = self._defaults[position]
        if value is _NO_VALUE:
            raise KeyError(
                f"{self._label()}: {self._input_labels[position]} has no stored value; give it "
                "one with In(variable, value=...) or by assigning f[name] = value"
            )
        return self._filter(position, value)

    def __setitem__(self, key, value) -> None:
        """Store a value for an input: used whenever a call omits that input."""
        position = self._position_of(key)
        self._defaults[position] = self._filter(position, value)

    # -- copies --------------------------------------------------------------------------
    def copy(
        self,
        share_memory: bool = False,
        swap=None,
        delete_updates: bool = False,
        name: str | None = None,
        profile=None,
    ) -> Function:
        """A function computing the same outputs, as Theano's ``Function.copy``.

        Parameters
        ----------
        share_memory
            Whether the copy shares this function's stored input values (those of
            inputs with a ``value``; an update made by either is seen by both). Shared
            variables are shared either way.
        swap
            ``{shared_variable: replacement}``: the copy reads and updates each
            replacement (a shared variable of the same type) instead.
        delete_updates
            Whether the copy leaves out every update (of shared variables, default
            updates of random streams and inputs with an ``update``); it is compiled
            again without them.
        name
            The copy's name (default: this function's).
        """
        maker = self.maker
        replace = _normalize_swap(swap, maker.shared_inputs, self._label())
        name = self.name if name is None else name
        if delete_updates:
            outputs = [Out(v, o.borrow) for v, o in zip(maker.original_outputs, maker.outputs)]
            if replace:
                outputs = [
                    Out(v, o.borrow)
                    for v, o in zip(clone_replace([o.variable for o in outputs], replace), outputs)
                ]
            inputs = [
                In(
                    i.variable,
                    name=i.name,
                    value=self._defaults[position],
                    strict=i.strict,
                    allow_downcast=i.allow_downcast,
                    borrow=i.borrow,
                )
                for position, i in enumerate(maker.inputs)
            ]
            copy = function(
                inputs,
                outputs[0] if self._single else outputs,
                mode=maker.mode,
                no_default_updates=True,
                name=name,
                allow_input_downcast=maker.allow_input_downcast,
                on_unused_input="ignore",
                backend=maker.backend,
                trust_input=self.trust_input,
                return_device_arrays=self.return_device_arrays,
            )
            if share_memory:
                copy._defaults = self._defaults
            return copy
        if replace:
            n, k = len(maker.original_outputs), len(maker.updates)
            expressions = clone_replace(
                list(maker.original_outputs)
                + [v for _, v in maker.updates]
                + [v for _, v in maker.input_updates],
                replace,
            )
            maker = FunctionMaker(
                fgraph=maker.fgraph,
                backend=maker.backend,
                mode=maker.mode,
                inputs=maker.inputs,
                outputs=maker.outputs,
                shared_inputs=[replace.get(v, v) for v in maker.shared_inputs],
                updates=[
                    (replace.get(s, s), v) for (s, _), v in zip(maker.updates, expressions[n:])
                ],
                original_outputs=expressions[:n],
                allow_input_downcast=maker.allow_input_downcast,
                input_updates=[
                    (p, v) for (p, _), v in zip(maker.input_updates, expressions[n + k :])
                ],
            )
        # the same machine code: shared values are arguments of the executable
        copy = Function(
            maker,
            self._executable,
            single=self._single,
            name=name,
            trust_input=self.trust_input,
            return_device_arrays=self.return_device_arrays,
        )
        # (no function writes into a stored value: updates replace it)
        copy._defaults = self._defaults if share_memory else list(self._defaults)
        return copy

    def __repr__(self) -> str:
        return f"<croton.Function {self.name or ''} on {self._backend.name}: {len(self.maker.fgraph.apply_nodes)} nodes>"

    # -- pickling ----------------------------------------------------------------------
    def __reduce__(self):
        from croton.graph.serialize import dump_graph

        maker = self.maker
        # the outputs after givens were substituted: the pickle needs no givens
        graph = dump_graph(
            list(maker.original_outputs)
            + [v for _, v in maker.updates]
            + [v for _, v in maker.input_updates]
        )
        state = {
            "inputs": [
                (i.variable, i.name, value, i.allow_downcast, i.strict)
                for i, value in zip(maker.inputs, self._defaults)
            ],
            "graph": graph,
            "n_outputs": len(maker.outputs),
            "updated_inputs": [position for position, _ in maker.input_updates],
            "borrow": [o.borrow for o in maker.outputs],
            "shared": [s for s, _ in maker.updates],
            "single": self._single,
            "name": self.name,
            "mode": maker.mode,
            "backend": maker.backend.name,
            "allow_input_downcast": maker.allow_input_downcast,
            "trust_input": self.trust_input,
            "return_device_arrays": self.return_device_arrays,
        }
        return (_unpickle_function, (state,))


def _normalize_swap(swap, shared_inputs, label: str) -> dict:
    """``swap`` checked: shared variables the function uses, each mapped to a shared
    variable of the same type."""
    if not swap:
        return {}
    pairs = list(swap.items()) if isinstance(swap, Mapping) else list(swap)
    used = {id(v) for v in shared_inputs}
    result = {}
    for old, new in pairs:
        if not isinstance(old, SharedVariable) or id(old) not in used:
            raise ValueError(
                f"swap: {old!r} is not a shared variable that {label} uses; it uses "
                f"{[str(v) for v in shared_inputs]}"
            )
        if not isinstance(new, SharedVariable):
            raise TypeError(f"swap: {old} can only be replaced by a shared variable, got {new!r}")
        if new.type != old.type:
            raise TypeError(
                f"swap: {old} ({old.type}) cannot be replaced by {new} ({new.type}); a "
                "replacement needs the same type"
            )
        result[old] = new
    return result


def _unpickle_function(state) -> Function:
    from croton.graph.serialize import load_graph

    variables = load_graph(state["graph"])
    n, k = state["n_outputs"], len(state["shared"])
    outputs = [Out(v, borrow=b) for v, b in zip(variables[:n], state["borrow"])]
    updates = list(zip(state["shared"], variables[n : n + k]))
    input_updates = dict(zip(state.get("updated_inputs", []), variables[n + k :]))
    ins = [
        In(
            var,
            name=name,
            value=value,
            allow_downcast=downcast,
            strict=bool(strict and strict[0]),
            update=input_updates.get(position),
        )
        for position, (var, name, value, downcast, *strict) in enumerate(state["inputs"])
    ]
    return function(
        ins,
        outputs[0] if state["single"] else outputs,
        mode=state["mode"],
        updates=updates,
        name=state["name"],
        backend=state["backend"],
        allow_input_downcast=state["allow_input_downcast"],
        on_unused_input="ignore",
        no_default_updates=True,
        trust_input=state.get("trust_input", False),
        return_device_arrays=state.get("return_device_arrays", False),
    )
