"""Products (cuBLAS), layout, shape, indexing and inner-graph maps."""

from __future__ import annotations

from croton_cupy.lowering import lowers  # noqa: F401
