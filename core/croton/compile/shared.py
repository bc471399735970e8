"""Shared variables: values that live across calls of compiled functions."""

from __future__ import annotations

import copy

import numpy as np

from croton.graph.basic import Variable
from croton.graph.type import TensorType
from croton.tensor.variable import _TensorOperators


class SharedVariable(Variable):
    """A graph input whose value is stored with it and updated by functions.

    The value may be held by a backend (on its device); `get_value` always returns a
    numpy array unless ``return_internal_type=True``.
    """

    def __init__(self, type, value, name=None, strict: bool = False, allow_downcast=None):
        super().__init__(type, None, None, name)
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.default_update = None
        self._backend = None  # the backend holding the value, None for numpy
        self._value = self._filter(value)

    def _filter(self, value):
        name = f"shared variable {self.name or ''}".rstrip()
        if self.strict:
            if (
                not isinstance(value, np.ndarray)
                or value.dtype.name != self.type.dtype
                or value.ndim != self.type.ndim
            ):
                raise TypeError(
                    f"{name} is strict: expected an ndarray of {self.type}, got {type(value).__name__}"
                )
        return self.type.filter(value, name=name, allow_downcast=bool(self.allow_downcast))

    def get_value(self, borrow: bool = False, return_internal_type: bool = False):
        """The current value: a copy unless ``borrow=True``."""
        value = self._value
        if self._backend is not None and not return_internal_type:
            return self._backend.to_numpy(value)
        return value if borrow else value.copy()

    def set_value(self, value, borrow: bool = False) -> None:
        """Replace the value (copied unless ``borrow=True``), checking its type."""
        filtered = self._filter(value)
        if filtered is value and not borrow:
            filtered = filtered.copy()
        self._value = filtered
        self._backend = None

    def _set_backend_value(self, value, backend) -> None:
        """Store a value computed by ``backend`` (no conversion, no copy)."""
        self._value = value
        self._backend = backend

    def clone(self):
        cp = copy.copy(self)
        return cp

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_value"] = self.get_value(borrow=True)
        state["_backend"] = None
        return state

    @property
    def value(self):
        return self.get_value()

    @value.setter
    def value(self, new):
        self.set_value(new)

    def __str__(self) -> str:
        return self.name if self.name is not None else f"<shared {self.type}>"


class TensorSharedVariable(_TensorOperators, SharedVariable):
    """A shared tensor, usable in expressions like any tensor variable."""


def shared(
    value,
    name: str | None = None,
    strict: bool = False,
    allow_downcast=None,
    borrow: bool = False,
    shape=None,
    broadcastable=None,
):
    """A shared variable holding ``value`` (copied unless ``borrow=True``).

    Its type has ``value``'s dtype and rank; dimensions are of unknown length unless
    ``shape`` or ``broadcastable`` says otherwise, so the value may later change shape.
    """
    if isinstance(value, Variable):
        raise TypeError(f"shared() takes a value, not a symbolic variable ({value})")
    array = np.array(value, copy=not borrow) if isinstance(value, np.ndarray) else np.array(value)
    if array.dtype == object:
        raise TypeError(f"shared() cannot hold a value of type {type(value).__name__}")
    if shape is None:
        shape = (
            tuple(1 if b else None for b in broadcastable)
            if broadcastable is not None
            else (None,) * array.ndim
        )
    type_ = TensorType(array.dtype.name, shape=shape)
    return TensorSharedVariable(
        type_, array, name=name, strict=strict, allow_downcast=allow_downcast
    )
