"""Launching the backend's raw CUDA kernels: C types, one thread per element.

The raw kernels of pooling and convolution follow one pattern: a grid-stride loop over
the elements of their output, each thread computing whole elements (no atomics). This
module holds what they share: the C spelling of a dtype, the dtype they compute in, the
loop's source, and the launch.
"""

from __future__ import annotations

import numpy as np

from croton_cupy.cuda_code import SUPPORTED_DTYPES, value_type

#: the C type of each dtype a raw kernel takes: generated kernels' value types, less
#: float16 (computed in float32 by the rules that accept it) and the complex types
C_TYPES = {
    name: value_type(name)
    for name in SUPPORTED_DTYPES
    if name != "float16" and not name.startswith("complex")
}

#: threads per block
BLOCK = 256
#: the most blocks launched; a grid-stride loop covers larger outputs
MAX_BLOCKS = 1 << 16

#: the loop each raw kernel's body sits in: ``k`` runs over the ``total`` output elements
ELEMENT_LOOP = (
    "for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < total;\n"
    "     k += (long long)blockDim.x * gridDim.x)"
)


def c_type(dtype) -> str:
    """The C type of ``dtype`` in a raw kernel's source."""
    name = np.dtype(dtype).name
    try:
        return C_TYPES[name]
    except KeyError:
        raise TypeError(f"the cupy backend's raw kernels take no {name} arrays") from None


def computed_dtype(dtype) -> np.dtype:
    """The dtype a raw kernel computes in: float16 goes through float32."""
    dtype = np.dtype(dtype)
    return np.dtype("float32") if dtype == np.float16 else dtype


def output_dtypes(node) -> tuple[np.dtype, np.dtype]:
    """``node``'s output dtype and the dtype a raw kernel computes that output in."""
    dtype = np.dtype(node.outputs[0].type.dtype)
    return dtype, computed_dtype(dtype)


def launch(kernel, total: int, *args) -> None:
    """Run ``kernel(*args, total)`` with enough threads for ``total`` output elements.

    Integers among ``args`` are passed as ``long long`` (the kernels' size parameters);
    an empty output launches nothing.
    """
    total = int(total)
    if total <= 0:
        return
    blocks = min((total + BLOCK - 1) // BLOCK, MAX_BLOCKS)
    values = tuple(np.int64(a) if isinstance(a, (int, np.integer)) else a for a in args)
    kernel((blocks,), (BLOCK,), (*values, np.int64(total)))
