"""Pooling and its gradients as dedicated kernels."""

from __future__ import annotations

from croton_cupy.lowering import lowers  # noqa: F401
