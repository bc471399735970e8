"""The jax backend's lowering rules: ``rule(op, node) -> kernel(*input_values)``.

A kernel is traced by ``jax.jit`` with the whole graph; it returns its output with
exactly the node's dtype (a tuple for a node with several outputs). Importing this
package registers every rule and does not import jax: the rules use jax only when they
run, at compile time.
"""

from croton_jax.lowering import (
    conv,
    elemwise,
    ifelse,
    linalg,
    map,
    math,
    pool,
    random,
    scan,
    shape,
    subtensor,
)
from croton_jax.lowering.common import registry

__all__ = ["registry"]
