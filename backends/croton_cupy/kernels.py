"""Every device kernel the backend makes, made in one place.

Rules never construct ``cupy.ElementwiseKernel``/``ReductionKernel``/``RawKernel``
themselves: they call `elementwise`, `reduction` or `raw`, which

- name the kernel by a hash of its whole source (``croton_ew_3f2a...``), so the same
  source is one kernel, compiled once per process (and kept across processes by CuPy's
  own disk cache), and no user string ever reaches the source;
- make the kernel object without touching a device (CuPy compiles at the first launch);
- record the source in `GENERATED`, which the compile tier (`croton_cupy.compile_tier`)
  compiles with NVRTC on machines without a GPU.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from dataclasses import dataclass

from croton_cupy import runtime

_lock = threading.Lock()


@dataclass(frozen=True)
class KernelSource:
    """What one generated kernel is made of.

    ``kind`` is ``"elementwise"``, ``"reduction"`` or ``"raw"``; ``parts`` are the
    arguments of the CuPy constructor (for ``"raw"``: the full source and the entry name).
    """

    kind: str
    name: str
    parts: tuple

    @property
    def fields(self) -> dict:
        return dict(zip(_FIELDS[self.kind], self.parts))


_FIELDS = {
    "elementwise": ("in_params", "out_params", "operation", "preamble"),
    "reduction": (
        "in_params",
        "out_params",
        "map_expr",
        "reduce_expr",
        "post_map_expr",
        "identity",
        "reduce_type",
        "preamble",
    ),
    "raw": ("code",),
}
_PREFIX = {"elementwise": "croton_ew", "reduction": "croton_red", "raw": "croton_raw"}

#: name -> source of every kernel made in this process
GENERATED: dict[str, KernelSource] = {}
_objects: dict[str, object] = {}


def _name(kind: str, parts: tuple) -> str:
    digest = hashlib.sha1("\0".join((kind, *parts)).encode()).hexdigest()[:16]
    return f"{_PREFIX[kind]}_{digest}"


#: the name sets of the `recording` blocks now open
_recordings: list[set[str]] = []


@contextlib.contextmanager
def recording():
    """Collect the names of the kernels asked for in the block, made now or earlier.

    The compile tier compiles what a set of graphs needs, whatever else the process made.
    """
    names: set[str] = set()
    with _lock:
        _recordings.append(names)
    try:
        yield names
    finally:
        with _lock:
            _recordings[:] = [other for other in _recordings if other is not names]


def _made(kind: str, parts: tuple, construct):
    name = _name(kind, parts)
    with _lock:
        for names in _recordings:
            names.add(name)
        kernel = _objects.get(name)
        if kernel is None:
            GENERATED[name] = KernelSource(kind, name, parts)
            kernel = _objects[name] = construct(name)
    return kernel


def elementwise(in_params: str, out_params: str, operation: str, preamble: str = ""):
    """A ``cupy.ElementwiseKernel`` (broadcasting, any strides) over the given parameters."""
    parts = (in_params, out_params, operation, preamble)
    return _made(
        "elementwise",
        parts,
        lambda name: runtime.load_cupy().ElementwiseKernel(
            in_params, out_params, operation, name, preamble=preamble
        ),
    )


def reduction(
    in_params: str,
    out_params: str,
    map_expr: str,
    reduce_expr: str,
    post_map_expr: str,
    identity: str,
    reduce_type: str,
    preamble: str = "",
):
    """A ``cupy.ReductionKernel``: ``map_expr`` per element, combined by ``reduce_expr``."""
    parts = (
        in_params,
        out_params,
        map_expr,
        reduce_expr,
        post_map_expr,
        identity,
        reduce_type,
        preamble,
    )
    return _made(
        "reduction",
        parts,
        # the constructor takes the first six parts, then the name
        lambda name: runtime.load_cupy().ReductionKernel(
            *parts[:6], name, reduce_type=reduce_type, preamble=preamble
        ),
    )


#: the name a raw kernel's source gives its ``__global__`` function; the kernel's
#: content-hashed name replaces it
ENTRY = "KERNEL"


def named_source(code: str, name: str) -> str:
    """A raw kernel's ``code`` with its entry (`ENTRY`) called ``name``."""
    return code.replace(ENTRY, name)


def raw(code: str):
    """A ``cupy.RawKernel`` from full CUDA source whose ``__global__`` function is `ENTRY`."""
    parts = (code,)
    return _made(
        "raw",
        parts,
        lambda name: runtime.load_cupy().RawKernel(named_source(code, name), name),
    )
