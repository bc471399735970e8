"""`In` and `Out`: how a function's inputs and outputs behave."""

from __future__ import annotations

from croton.graph.basic import Variable


class _NoValue:
    """The marker of an input without a default; one object, also after unpickling."""

    def __repr__(self) -> str:
        return "<no value>"

    def __reduce__(self) -> str:
        return "_NO_VALUE"


_NO_VALUE = _NoValue()


class In:
    """A function input with options, as Theano's ``In``.

    Parameters
    ----------
    variable
        The symbolic input.
    name
        The keyword for calling the function (defaults to the variable's name).
    value
        A default used when the caller omits the input.
    update
        An expression (of this and the other inputs) whose value replaces ``value``
        after each call, so that the input keeps a state between calls; needs a
        ``value`` to start from.
    strict
        Accept only a numpy array of exactly the input's dtype and number of
        dimensions (no conversion at all).
    mutable, borrow
        Whether the function may overwrite, or alias, the caller's array (permissions
        croton does not need: it never writes into an input).
    allow_downcast
        Accept lossy conversions for this input (overrides the function's setting).
    """

    def __init__(
        self,
        variable: Variable,
        name: str | None = None,
        value=_NO_VALUE,
        update=None,
        mutable: bool = False,
        strict: bool = False,
        allow_downcast=None,
        borrow: bool = False,
        implicit: bool = False,
    ):
        if not isinstance(variable, Variable):
            raise TypeError(f"In() takes a symbolic variable, got {type(variable).__name__}")
        self.variable = variable
        self.name = name if name is not None else variable.name
        self.value = value
        self.update = update
        self.mutable = mutable
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.borrow = borrow
        self.implicit = implicit

    @property
    def has_default(self) -> bool:
        return self.value is not _NO_VALUE

    def __repr__(self) -> str:
        return f"In({self.variable}, name={self.name!r})"


class Out:
    """A function output; ``borrow=True`` allows returning an internal buffer."""

    def __init__(self, variable: Variable, borrow: bool = False):
        self.variable = variable
        self.borrow = borrow

    def __repr__(self) -> str:
        return f"Out({self.variable}, borrow={self.borrow})"
