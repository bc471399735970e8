"""Constructors for symbolic inputs: ``scalar``, ``dmatrix``, ``ftensor4``, ..."""

from __future__ import annotations

from croton.graph.type import DTYPE_PREFIXES, TensorType, normalize_dtype

#: the rank and broadcastable pattern behind each Theano constructor name
_SHAPES = {
    "scalar": (),
    "vector": (None,),
    "matrix": (None, None),
    "row": (1, None),
    "col": (None, 1),
    "tensor3": (None, None, None),
    "tensor4": (None, None, None, None),
    "tensor5": (None,) * 5,
    "tensor6": (None,) * 6,
    "tensor7": (None,) * 7,
}


def _checked_shape(name: str, kind: str, shape):
    default_shape = _SHAPES[kind]
    if shape is None:
        return default_shape
    if len(shape) != len(default_shape):
        raise ValueError(f"{name} is {len(default_shape)}-d; got the shape {tuple(shape)}")
    return shape


class NamedType(TensorType):
    """A type with one of Theano's names, such as ``T.dmatrix``.

    It is the type itself (``T.dmatrix == TensorType("float64", (False, False))``,
    ``T.dmatrix.ndim == 2``), and calling it makes a new input of it, as in Theano:
    ``T.dmatrix("x")``; ``shape=`` gives lengths known in advance.
    """

    def __init__(self, kind: str, dtype: str):
        super().__init__(dtype, shape=_SHAPES[kind])
        self.kind = kind
        self.__name__ = f"{DTYPE_PREFIXES_INV[dtype]}{kind}"
        self.__doc__ = f"A symbolic {kind} input of dtype {dtype}."

    def __call__(self, name: str | None = None, dtype=None, shape=None):
        if dtype is not None and normalize_dtype(dtype) != self.dtype:
            raise TypeError(
                f"{self.__name__} makes {self.dtype} inputs; use "
                f"{self.kind}(dtype={dtype!r}) for another dtype"
            )
        shape = _checked_shape(self.__name__, self.kind, shape)
        return TensorType(self.dtype, shape=shape)(name)


def _constructor(kind: str):
    """``scalar``, ``matrix``, ...: an input of dtype ``config.floatX`` unless given."""

    def make(name: str | None = None, dtype=None, shape=None):
        shape = _checked_shape(kind, kind, shape)
        return TensorType(dtype or "floatX", shape=shape)(name)

    make.__name__ = kind
    make.__doc__ = f"A symbolic {kind} input of dtype floatX (or dtype=)."
    return make


def _plural_name(single_name: str) -> str:
    """Theano's plural: ``matrix`` -> ``matrices``, every other kind adds an ``s``."""
    if single_name.endswith("matrix"):
        return single_name[: -len("matrix")] + "matrices"
    return single_name + "s"


def _plural(single):
    def make(*names, dtype=None):
        if len(names) == 1 and isinstance(names[0], int):
            names = [None] * names[0]
        return [single(n, dtype=dtype) for n in names]

    make.__name__ = _plural_name(single.__name__)
    make.__doc__ = (
        f"Several inputs at once: ``{make.__name__}('a', 'b')`` or ``{make.__name__}(3)``."
    )
    return make


DTYPE_PREFIXES_INV = {v: k for k, v in DTYPE_PREFIXES.items()}


def tensor(*args, dtype=None, shape=None, name: str | None = None, broadcastable=None):
    """A symbolic input of any rank.

    Accepts Theano's, PyTensor's and NumPy-like spellings: ``tensor('float32', (False, True))``,
    ``tensor('float32', shape=(None, 3), name='x')``, ``tensor('x', dtype='int64', shape=(2,))``.

    Parameters
    ----------
    *args
        Positionally, a dtype name (``'float32'``, ``'floatX'``), a variable name, and a
        broadcastable pattern (bools) or static shape (ints and Nones), in any order.
    dtype
        The dtype; ``config.floatX`` by default.
    shape
        The static shape; a scalar by default.
    name
        The variable's name.
    broadcastable
        Theano's form of the static shape: True where the length is 1.

    Returns
    -------
    TensorVariable
        A new input variable.
    """
    from croton.graph.type import SUPPORTED_DTYPES

    for arg in args:
        if isinstance(arg, str):
            if dtype is None and (arg == "floatX" or arg in SUPPORTED_DTYPES):
                dtype = arg
            elif name is None:
                name = arg
            else:
                raise TypeError(
                    f"tensor: unexpected argument {arg!r} (dtype {dtype!r} and name {name!r} "
                    "are set)"
                )
        elif shape is None and broadcastable is None:
            shape = tuple(arg)
        else:
            raise TypeError(f"tensor: unexpected argument {arg!r}; the shape is already given")
    if broadcastable is not None and shape is not None:
        raise TypeError("tensor takes either broadcastable or shape, not both")
    return TensorType(
        dtype or "floatX", broadcastable if broadcastable is not None else tuple(shape or ())
    )(name)


def _build():
    names = {}
    for kind in _SHAPES:
        generic = _constructor(kind)
        names[kind] = generic
        names[_plural_name(kind)] = _plural(generic)
        for prefix, dtype in DTYPE_PREFIXES.items():
            if kind in ("tensor6", "tensor7"):
                continue
            single = NamedType(kind, dtype)
            names[f"{prefix}{kind}"] = single
            names[_plural_name(f"{prefix}{kind}")] = _plural(single)
    return names


CONSTRUCTORS = _build()
globals().update(CONSTRUCTORS)
