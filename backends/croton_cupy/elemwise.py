"""Elementwise ops and reductions: kernels generated from the scalar graph."""

from __future__ import annotations

from croton_cupy.lowering import lowers  # noqa: F401
