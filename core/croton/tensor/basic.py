"""Constructors for symbolic inputs: ``scalar``, ``dmatrix``, ``ftensor4``, ..."""

from __future__ import annotations

from croton.graph.type import DTYPE_PREFIXES, TensorType

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


def _constructor(kind: str, fixed_dtype: str | None):
    shape = _SHAPES[kind]

    def make(name: str | None = None, dtype=None, shape=None):
        dtype = fixed_dtype or dtype or "floatX"
        return TensorType(dtype, shape=default_shape if shape is None else shape)(name)

    default_shape = shape
    make.__name__ = f"{DTYPE_PREFIXES_INV.get(fixed_dtype, '')}{kind}"
    make.__doc__ = f"A symbolic {kind} input of dtype {fixed_dtype or 'floatX (or dtype=)'}."
    return make


def _plural(single):
    def make(*names, dtype=None):
        if len(names) == 1 and isinstance(names[0], int):
            names = [None] * names[0]
        return [single(n, dtype=dtype) if dtype else single(n) for n in names]

    make.__doc__ = f"Several inputs at once: ``{single.__name__}s('a', 'b')``."
    return make


DTYPE_PREFIXES_INV = {v: k for k, v in DTYPE_PREFIXES.items()}


def tensor(dtype="floatX", shape=None, name: str | None = None, broadcastable=None):
    """A symbolic input of any rank: ``tensor('float32', shape=(None, 3))``."""
    if broadcastable is not None:
        return TensorType(dtype, broadcastable=broadcastable)(name)
    return TensorType(dtype, shape=shape or ())(name)


def _build():
    names = {}
    for kind in _SHAPES:
        generic = _constructor(kind, None)
        names[kind] = generic
        names[f"{kind}s"] = _plural(generic)
        for prefix, dtype in DTYPE_PREFIXES.items():
            if kind in ("tensor6", "tensor7"):
                continue
            single = _constructor(kind, dtype)
            names[f"{prefix}{kind}"] = single
            names[f"{prefix}{kind}s"] = _plural(single)
    return names


CONSTRUCTORS = _build()
globals().update(CONSTRUCTORS)
