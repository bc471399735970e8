"""Types of graph variables."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: dtypes a tensor may have, by Theano's constructor prefix
DTYPE_PREFIXES = {
    "b": "int8",
    "w": "int16",
    "i": "int32",
    "l": "int64",
    "f": "float32",
    "d": "float64",
    "c": "complex64",
    "z": "complex128",
}
SUPPORTED_DTYPES = frozenset(
    "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 "
    "float16 float32 float64 complex64 complex128".split()
)


def normalize_dtype(dtype) -> str:
    """The canonical dtype name for ``dtype`` ('floatX' means ``config.floatX``)."""
    if dtype == "floatX":
        from croton.config import config

        dtype = config.floatX
    name = np.dtype(dtype).name
    if name not in SUPPORTED_DTYPES:
        raise TypeError(
            f"croton does not support dtype {name!r}; use one of {sorted(SUPPORTED_DTYPES)}"
        )
    return name


def _check_numeric(source: np.ndarray, value, name: str, target: np.dtype) -> None:
    """Raise a TypeError naming ``name`` unless ``source`` holds numbers or booleans."""
    if source.dtype.kind not in "biufc":  # strings, objects, dates: never converted
        raise TypeError(
            f"{name}: cannot convert {type(value).__name__} data of dtype {source.dtype} "
            f"to {target.name}"
        )


class TensorType:
    """The type of an n-dimensional array: a dtype and a static shape.

    A static shape entry is an int (the length is known) or None (unknown). A length
    of 1 is *broadcastable*: it stretches to match the other operands, as in NumPy.
    Unknown lengths never broadcast at run time (Theano's and PyTensor's rule).

    Parameters
    ----------
    dtype
        A numpy dtype name, e.g. ``"float64"``, or ``"floatX"``.
    broadcastable
        Theano's form: a tuple of bools, True where the length is 1.
    shape
        The static shape: a tuple of ints and Nones.
    """

    __slots__ = ("dtype", "shape", "_hash")

    def __init__(
        self,
        dtype,
        broadcastable: Sequence[bool] | None = None,
        shape: Sequence[int | None] | None = None,
    ):
        if broadcastable is not None and shape is not None:
            raise TypeError("TensorType takes either broadcastable or shape, not both")
        if broadcastable is not None:
            if all(isinstance(b, (bool, np.bool_)) for b in broadcastable):
                shape = tuple(1 if b else None for b in broadcastable)
            else:  # TensorType(dtype, (None, 3)): the PyTensor spelling, positionally
                shape = broadcastable
        shape = () if shape is None else shape
        checked = []
        for s in shape:
            if s is None:
                checked.append(None)
            elif isinstance(s, (bool, np.bool_)) or int(s) != s or s < 0:
                raise TypeError(f"static shape entries are non-negative ints or None, got {s!r}")
            else:
                checked.append(int(s))
        self.dtype = normalize_dtype(dtype)
        self.shape = tuple(checked)
        self._hash = hash((self.dtype, self.shape))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return tuple(s == 1 for s in self.shape)

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    def clone(self, dtype=None, shape=None) -> TensorType:
        return TensorType(
            self.dtype if dtype is None else dtype, shape=self.shape if shape is None else shape
        )

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, TensorType)
            and self.dtype == other.dtype
            and self.shape == other.shape
        )

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self):
        return (TensorType, (self.dtype, None, self.shape))

    def __str__(self) -> str:
        shape = ", ".join("?" if s is None else str(s) for s in self.shape)
        if self.ndim == 1:
            shape += ","
        return f"TensorType({self.dtype}, shape=({shape}))"

    __repr__ = __str__

    def __call__(self, name: str | None = None):
        """A new input variable of this type (Theano's ``TensorType(...)('x')``)."""
        return self.make_variable(name)

    def make_variable(self, name: str | None = None):
        from croton.tensor.variable import TensorVariable

        return TensorVariable(self, None, None, name)

    def is_super(self, other: TensorType) -> bool:
        """True if every value of ``other`` is a value of this type."""
        return (
            self.dtype == other.dtype
            and self.ndim == other.ndim
            and all(s is None or s == o for s, o in zip(self.shape, other.shape))
        )

    def is_compatible(self, other: TensorType) -> bool:
        """True if one value could have both types: same dtype and rank, no conflicting length.

        A rewrite may replace a variable by one of a compatible type: the static lengths
        of either are true of the value at run time.
        """
        return (
            self.dtype == other.dtype
            and self.ndim == other.ndim
            and all(s is None or o is None or s == o for s, o in zip(self.shape, other.shape))
        )

    def filter(self, value, *, name: str = "input", allow_downcast: bool = False) -> np.ndarray:
        """Convert ``value`` to an array of this type, or raise a TypeError naming ``name``.

        Python scalars and lists convert when the conversion is exact; numpy data of a
        wider dtype converts only with ``allow_downcast``.
        """
        if isinstance(value, np.ndarray) and value.dtype.name == self.dtype:
            array = value
        else:
            array = self._convert(value, name, allow_downcast)
        if array.ndim != self.ndim:
            raise TypeError(
                f"{name}: expected a {self.ndim}-d array of {self.dtype}, "
                f"got {array.ndim}-d data of shape {array.shape}. "
                f"Pass data with {self.ndim} dimension(s) or declare the input with a different type."
            )
        for axis, (want, got) in enumerate(zip(self.shape, array.shape)):
            if want is not None and want != got:
                raise TypeError(
                    f"{name}: expected length {want} along axis {axis} (static shape "
                    f"{self.shape}), got data of shape {array.shape}."
                )
        return array

    def _convert(self, value, name: str, allow_downcast: bool) -> np.ndarray:
        target = self.numpy_dtype
        if isinstance(value, np.ndarray) or isinstance(value, np.generic):
            source = np.asarray(value)
            _check_numeric(source, value, name, target)
            if np.can_cast(source.dtype, target, "safe") or allow_downcast:
                return source.astype(target)
            raise TypeError(
                f"{name}: {source.dtype} data would be cast lossily to {target.name}. "
                f"Convert it yourself (e.g. `.astype('{target.name}')`) or pass "
                f"allow_input_downcast=True to croton.function."
            )
        try:
            source = np.asarray(value)
        except Exception as err:  # ragged lists and other non-array data
            raise TypeError(
                f"{name}: cannot convert {type(value).__name__} to an array: {err}"
            ) from None
        if source.dtype.kind in "fO" and target.kind in "iu":
            exact_integers = _python_integers(value, target)
            if exact_integers is not None:
                return exact_integers
        _check_numeric(source, value, name, target)
        if source.size == 0 or np.can_cast(source.dtype, target, "safe") or allow_downcast:
            return source.astype(target)
        # Python numbers and lists convert when the value survives the round trip.
        with np.errstate(all="ignore"):  # an overflowing cast is reported below, not warned
            converted = source.astype(target)
            exact = np.array_equal(
                converted.astype(source.dtype), source, equal_nan=source.dtype.kind in "fc"
            )
            if source.dtype.kind == "f" and target.kind == "f":
                exact = exact and bool(np.all(np.isfinite(converted) == np.isfinite(source)))
            if source.dtype.kind in "iu" and target.kind in "iu":  # (a wrapped cast round-trips)
                bounds = np.iinfo(target)
                exact = exact and bounds.min <= int(source.min()) <= int(source.max()) <= bounds.max
        if exact:
            return converted
        raise TypeError(
            f"{name}: the value {value!r} cannot be represented exactly as {target.name}. "
            f"Pass data of dtype {target.name} or allow_input_downcast=True to croton.function."
        )

    def value_zeros(self, shape) -> np.ndarray:
        return np.zeros(shape, dtype=self.dtype)


def _python_integers(value, target: np.dtype) -> np.ndarray | None:
    """Python integers too large for int64 (NumPy reads a list of them as float64, which
    rounds) converted exactly to the integer dtype ``target``; None when ``value`` holds
    anything but integers or one does not fit."""
    leaves = np.asarray(value, dtype=object).ravel()
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in leaves):
        return None
    try:
        return np.asarray(value, dtype=target)
    except OverflowError:
        return None
