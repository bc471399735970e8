"""The numpy backend object."""

from __future__ import annotations

import numpy as np

from croton.backend import Backend, resolve_rules
from croton.compile.program import Program, reraise_with_node


class NumpyExecutable:
    """A compiled graph: one generated Python function calling numpy kernels."""

    def __init__(self, program: Program, backend_name: str):
        self._program = program
        self._run = program.function
        self._backend_name = backend_name

    def __call__(self, *args):
        try:
            with np.errstate(all="ignore"):  # nan and inf propagate silently, as in Theano
                return self._run(*args)
        except Exception as err:
            reraise_with_node(err, self._program.failed_node(err), self._backend_name)

    def source(self) -> str:
        return self._program.source


class NumpyBackend(Backend):
    """croton's reference backend: each node is one numpy call."""

    name = "numpy"
    priority = 0
    device = "cpu"
    _instance: NumpyBackend | None = None
    lowerings = "croton_numpy.lowering"

    def __init__(self):
        super().__init__()
        self.version = np.__version__
        NumpyBackend._instance = self

    @classmethod
    def shared(cls) -> NumpyBackend:
        """The registered instance (inner graphs compile with it)."""
        from croton.backend import get_backend

        return get_backend("numpy")

    def compile(self, fgraph, *, allow_fallback: bool = False) -> NumpyExecutable:
        nodes = fgraph.toposort()
        rules = resolve_rules(nodes, self, allow_fallback)
        kernels = [rule(node.op, node) for node, (rule, _) in zip(nodes, rules)]
        program = Program(fgraph.inputs, fgraph.outputs, nodes, kernels)
        return NumpyExecutable(program, self.name)
