"""Theano's ``theano.scan_module`` names: `scan` and `until`."""

from __future__ import annotations

from croton.scan import scan, until

__all__ = ["scan", "until"]
