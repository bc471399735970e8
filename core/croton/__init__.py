"""croton: a symbolic array compiler with Theano's API and pluggable backends.

>>> import croton
>>> import croton.tensor as T
>>> x = T.dscalar("x")
>>> f = croton.function([x], x * 2)
>>> f(3)
array(6.)
"""

from __future__ import annotations

from croton import gradient, ifelse, printing, scan_module, tensor
from croton.autodiff import grad
from croton.compile.function import Function, function
from croton.compile.io import In, Out
from croton.compile.shared import SharedVariable, shared
from croton.config import config
from croton.graph.basic import Apply, Constant, Op, Variable
from croton.graph.traversal import clone
from croton.printing import debugprint, pp
from croton.scan import scan
from croton.scan_module import foldl, foldr, map, reduce
from croton.tensor.blas import dot

__version__ = "0.1.0"

__all__ = [
    "Apply",
    "Constant",
    "Function",
    "In",
    "Op",
    "Out",
    "SharedVariable",
    "Variable",
    "clone",
    "config",
    "debugprint",
    "dot",
    "foldl",
    "foldr",
    "function",
    "grad",
    "gradient",
    "ifelse",
    "map",
    "pp",
    "printing",
    "reduce",
    "scan",
    "scan_module",
    "shared",
    "tensor",
]
