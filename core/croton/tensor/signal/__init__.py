"""Signal processing with Theano's names (``croton.tensor.signal``): ``pool.pool_2d``,
and ``downsample.max_pool_2d`` (its older name)."""

from croton.tensor.signal import downsample, pool

__all__ = ["downsample", "pool"]
