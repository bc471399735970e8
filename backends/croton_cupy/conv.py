"""conv2d and its gradients: im2col and cuBLAS."""

from __future__ import annotations

from croton_cupy.lowering import lowers  # noqa: F401
