"""The numba backend's `Scan` rule: for now every scan runs as a Python step.

The loop contract a jitted version implements is the docstring of `croton.ops.scan.Scan`.
"""

from __future__ import annotations

from croton.ops.scan import Scan
from croton_numba.lowering import NotLowerable, lowers


@lowers(Scan)
def _scan(op, node, name, context):
    raise NotLowerable("scan loops are not jitted yet (they run the numpy backend's loop)")
