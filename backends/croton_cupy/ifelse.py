"""Lazy ifelse: the condition is read on the host, one branch runs."""

from __future__ import annotations

from croton_cupy.lowering import lowers  # noqa: F401
