"""Signal processing with Theano's names (``croton.tensor.signal``): ``pool.pool_2d``."""

from croton.tensor.signal import pool

__all__ = ["pool"]
