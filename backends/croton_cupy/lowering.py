"""The CuPy backend's lowering rules: ``rule(op, node) -> kernel(*input_values)``.

Values are ``cupy.ndarray`` (0-d arrays for scalars). A kernel returns its output as a
device array of exactly the node's output dtype (a tuple for a multi-output node).
Rules build their device kernels when they run, not when the module is imported, and
never touch the device at lowering time.
"""

from __future__ import annotations

from croton.backend import LoweringRegistry

registry = LoweringRegistry("cupy")
lowers = registry.lowers


# the rules, one module per family of ops (importing them registers them)
from croton_cupy import (  # noqa: E402,F401,I001
    elemwise,
    nnet,
    arrays,
    conv,
    pool,
    scan,
    ifelse,
    random,
    linalg,
)
