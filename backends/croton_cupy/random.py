"""Random draws."""

from __future__ import annotations

from croton_cupy.lowering import lowers  # noqa: F401
