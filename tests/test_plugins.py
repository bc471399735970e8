"""Plugins: entry-point discovery, broken plugins, backend selection, lowering gaps."""

from __future__ import annotations

import importlib.metadata
import itertools
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import croton
import croton.backend
import croton.plugin
import croton.tensor as T
from croton.backend import BackendError, FallbackWarning, MissingLoweringError
from croton.graph.basic import Apply, Op
from croton.plugin import PluginLoadWarning

_MODULE_NUMBERS = itertools.count()


@pytest.fixture
def entry_points(monkeypatch, tmp_path):
    """``entry_points({name: module source or None for a missing module})``.

    Adds entry points in group ``croton`` next to the installed ones and reloads the
    plugin manager; everything is restored afterwards.
    """
    monkeypatch.syspath_prepend(str(tmp_path))
    real = importlib.metadata.entry_points

    def install(plugins: dict[str, str | None]):
        extra = []
        for name, source in plugins.items():
            module = f"croton_test_plugin_{next(_MODULE_NUMBERS)}"
            monkeypatch.delitem(sys.modules, module, raising=False)
            if source is not None:
                (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
            extra.append(importlib.metadata.EntryPoint(name=name, value=module, group="croton"))

        def entry_points(**kwargs):
            found = list(real(**kwargs))
            return found + extra if kwargs.get("group") == "croton" else found

        monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
        croton.plugin.reload()

    yield install
    monkeypatch.undo()
    croton.plugin.reload()


TOY_BACKEND = """
import numpy as np
from croton.backend import Backend
from croton.plugin import hookimpl

class ToyBackend(Backend):
    name = "toy"
    version = "1.2"
    priority = {priority}

    def unavailable_reason(self):
        return {reason!r}

    def compile(self, fgraph, *, allow_fallback=False):
        from croton.backend import get_backend
        return get_backend("numpy").compile(fgraph, allow_fallback=allow_fallback)

@hookimpl
def croton_backends():
    return [ToyBackend()]
"""


def test_the_numpy_backend_comes_from_its_entry_point():
    names = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="croton")}
    assert names["numpy"] == "croton_numpy.plugin"
    backend = croton.backend.get_backend("numpy")
    assert backend.name == "numpy" and backend.is_available()


def test_a_third_party_backend_is_discovered_through_its_entry_point(entry_points):
    entry_points({"toy": TOY_BACKEND.format(priority=-1, reason=None)})
    backend = croton.backend.get_backend("toy")
    assert backend.version == "1.2"
    x = T.dvector("x")
    f = croton.function([x], T.exp(x) + 1, backend="toy")
    assert f.maker.backend is backend
    np.testing.assert_allclose(f(np.arange(3.0)), np.exp(np.arange(3.0)) + 1)


def test_a_broken_plugin_is_reported_and_skipped(entry_points):
    entry_points({"broken": "raise RuntimeError('boom')", "missing": None})
    with pytest.warns(PluginLoadWarning) as caught:
        backends = croton.backend.list_backends()
    messages = " ".join(str(w.message) for w in caught)
    assert "'broken'" in messages and "boom" in messages and "'missing'" in messages
    assert "numpy" in [b.name for b in backends]
    assert set(croton.plugin.failed_plugins()) == {"broken", "missing"}
    x = T.dvector("x")  # croton still works
    np.testing.assert_allclose(croton.function([x], x * 2)(np.ones(2)), [2.0, 2.0])


def test_an_unavailable_backend_says_why(entry_points):
    entry_points({"toy": TOY_BACKEND.format(priority=100, reason="toy hardware not found")})
    with pytest.raises(BackendError, match="toy hardware not found"):
        croton.backend.get_backend("toy")
    # never chosen automatically, despite its priority
    with croton.config.change(backend=None):
        assert croton.backend.select_backend().name != "toy"


def test_an_unknown_backend_lists_the_installed_ones():
    with pytest.raises(BackendError, match=r"'no-such'.*numpy"):
        croton.function([], T.constant(1.0), backend="no-such")


def test_selection_order(entry_points, monkeypatch):
    entry_points({"toy": TOY_BACKEND.format(priority=100, reason=None)})
    monkeypatch.delenv("CROTON_BACKEND", raising=False)
    with croton.config.change(backend=None):
        assert croton.backend.select_backend().name == "toy"  # highest priority available
        monkeypatch.setenv("CROTON_BACKEND", "numpy")
        assert croton.backend.select_backend().name == "numpy"  # then the environment
    with croton.config.change(backend="toy"):
        assert croton.backend.select_backend().name == "toy"  # then config
        assert croton.backend.select_backend("numpy").name == "numpy"  # then the argument


class Triple(Op):
    """A test op no backend knows: ``3 * x``."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def infer_shape(self, node, shapes):
        return shapes

    def grad(self, inputs, output_grads):
        return [3 * output_grads[0]]


def test_an_op_without_lowering_names_the_op_and_backend():
    x = T.dvector("x")
    with pytest.raises(MissingLoweringError, match=r"'numpy' has no lowering for Triple"):
        croton.function([x], Triple()(x) + 1)


def test_a_plugin_teaches_a_backend_its_op():
    class Plugin:
        @croton.plugin.hookimpl
        def croton_lowerings(self, backend):
            if backend.name == "numpy":
                return {Triple: lambda op, node: lambda x: 3 * x}

    croton.plugin.register(Plugin(), name="triple")
    try:
        x = T.dvector("x")
        f = croton.function([x], Triple()(x) + 1)
        np.testing.assert_allclose(f(np.arange(3.0)), 3 * np.arange(3.0) + 1)
        g = croton.function([x], croton.grad(T.sum(Triple()(x) ** 2), x))
        np.testing.assert_allclose(g(np.arange(3.0)), 18 * np.arange(3.0))
    finally:
        croton.plugin.unregister("triple")
    with pytest.raises(MissingLoweringError):
        croton.function([x], Triple()(x))


def test_fallback_runs_a_node_on_the_reference_backend_with_a_warning(entry_points):
    source = TOY_BACKEND.format(priority=-1, reason=None).replace(
        "        from croton.backend import get_backend\n"
        '        return get_backend("numpy").compile(fgraph, allow_fallback=allow_fallback)',
        "        from croton.backend import resolve_rules\n"
        "        nodes = fgraph.toposort()\n"
        "        rules = resolve_rules(nodes, self, allow_fallback)\n"
        "        kernels = [rule(node.op, node) for node, (rule, _) in zip(nodes, rules)]\n"
        "        return lambda *args: _run(fgraph, nodes, kernels, args)",
    ) + textwrap.dedent(
        """
        def _run(fgraph, nodes, kernels, args):
            values = dict(zip(fgraph.inputs, args))
            for node, kernel in zip(nodes, kernels):
                inputs = [values[v] if v in values else v.data for v in node.inputs]
                result = kernel(*inputs)
                for out, value in zip(node.outputs, result if len(node.outputs) > 1 else [result]):
                    values[out] = value
            return [values[v] if v in values else v.data for v in fgraph.outputs]
        """
    )
    entry_points({"toy": source})
    x = T.dvector("x")
    with pytest.raises(MissingLoweringError, match=r"'toy' has no lowering for Elemwise.*numpy"):
        croton.function([x], T.exp(x), backend="toy")
    with pytest.warns(FallbackWarning, match="'toy' cannot lower"):
        f = croton.function([x], T.exp(x), backend="toy", allow_fallback=True)
    np.testing.assert_allclose(f(np.arange(3.0)), np.exp(np.arange(3.0)))
    with croton.config.change(allow_fallback=True), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        croton.function([x], T.exp(x), backend="toy")
    assert any(issubclass(w.category, FallbackWarning) for w in caught)


def test_two_plugins_offering_one_name_keep_the_first(entry_points):
    entry_points(
        {
            "toy": TOY_BACKEND.format(priority=1, reason=None),
            "toy-again": TOY_BACKEND.format(priority=2, reason=None).replace('"1.2"', '"9.9"'),
        }
    )
    with pytest.warns(UserWarning, match="two plugins offer a backend named 'toy'"):
        backend = croton.backend.get_backend("toy")
    assert backend.version == "1.2"


RULES_MODULE = """
from croton.backend import LoweringRegistry
from croton.ops.elemwise import Elemwise
from croton.ops.reduce import Reduce

registry = LoweringRegistry("lazy")
registry.register(Elemwise, lambda op, node: "own elemwise rule")
registry.register(Reduce, lambda op, node: "own reduce rule")
"""


def test_a_backends_own_rules_are_imported_at_their_first_lookup(monkeypatch, tmp_path):
    from croton.backend import LoweringRegistry
    from croton.ops.elemwise import Elemwise
    from croton.ops.reduce import Reduce

    module = f"croton_test_rules_{next(_MODULE_NUMBERS)}"
    (tmp_path / f"{module}.py").write_text(RULES_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = LoweringRegistry("lazy", rules_from=module)
    # a plugin's rule, registered at discovery, replaces the backend's own
    registry.register(Reduce, lambda op, node: "plugin's reduce rule", replace=True)
    assert module not in sys.modules
    assert registry.lookup_class(Reduce)(None, None) == "plugin's reduce rule"
    assert module in sys.modules
    assert registry.lookup_class(Elemwise)(None, None) == "own elemwise rule"
    assert set(registry.op_classes) == {Elemwise, Reduce}
    # a rule that does not replace is checked against the backend's own
    late = LoweringRegistry("lazy", rules_from=module)
    with pytest.raises(ValueError, match="already has a rule for Elemwise"):
        late.register(Elemwise, lambda op, node: None)


def test_discovering_backends_imports_none_of_their_rules():
    # only the backend a graph compiles on (and the reference) needs its rules
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        import croton, croton.tensor as T
        from croton.backend import list_backends
        backends = list_backends()
        assert {"numpy", "numba", "cupy"} <= {b.name for b in backends}
        rules = lambda: sorted(m for m in sys.modules if m.endswith(".lowering"))
        print(rules())
        x = T.dvector("x")
        f = croton.function([x], T.exp(x) + 1, backend="numba")
        assert np.allclose(f(np.arange(3.0)), np.exp(np.arange(3.0)) + 1)
        print(rules())
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    before, after = run.stdout.strip().splitlines()
    assert before == "[]"
    assert "'croton_numba.lowering'" in after and "croton_cupy" not in after
