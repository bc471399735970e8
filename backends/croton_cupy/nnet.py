"""Softmax, log-softmax and the softmax cross-entropy as dedicated kernels."""

from __future__ import annotations

from croton_cupy.lowering import lowers  # noqa: F401
