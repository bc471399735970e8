"""croton-jax: a croton backend that compiles whole graphs with ``jax.jit``.

Select it with ``croton.function(..., backend="jax")``. Importing this package does not
import jax.
"""

from croton_jax.backend import JaxBackend

__all__ = ["JaxBackend"]
