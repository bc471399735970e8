"""Scan: a host loop over the inner graph's device kernels."""

from __future__ import annotations

from croton_cupy.lowering import lowers  # noqa: F401
