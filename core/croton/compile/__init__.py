"""Compilation: ``function``, ``In``, ``Out``, shared variables."""

from croton.compile.function import Function, function
from croton.compile.io import In, Out
from croton.compile.ops import as_op
from croton.compile.shared import SharedVariable, shared

__all__ = ["Function", "In", "Out", "SharedVariable", "as_op", "function", "shared"]
