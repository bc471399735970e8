"""The plugin: found through its entry point, lazy, and complete; missing rules and fallback."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton import plugin
from croton.backend import FallbackWarning, MissingLoweringError, get_backend
from croton.graph.basic import Apply, Op
from croton_jax.backend import JaxBackend
from croton_numpy.lowering import registry as numpy_registry


def test_entry_point_is_registered():
    points = {e.name: e.value for e in importlib.metadata.entry_points(group="croton")}
    assert points.get("jax") == "croton_jax.plugin"


def test_backend_is_discovered_and_available():
    backend = get_backend("jax")
    assert isinstance(backend, JaxBackend)
    assert backend.is_available() and backend.unavailable_reason() is None
    assert backend.uses_numpy_arrays is False
    assert backend.version == importlib.metadata.version("jax")


def test_croton_info_lists_jax(capsys):
    from croton.cli import main

    assert main(["info"]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["jax", importlib.metadata.version("jax"), "available"] in lines


def test_numpy_stays_the_default_backend():
    x = T.dvector("x")
    with croton.config.change(backend=None):
        f = croton.function([x], x + 1)
    assert f.maker.backend.name != "jax"


def test_importing_croton_and_the_plugin_does_not_import_jax():
    script = textwrap.dedent(
        """
        import sys
        import croton, croton.backend, croton_jax, croton_jax.plugin
        names = [b.name for b in croton.backend.list_backends()]
        croton.backend.get_backend("jax").is_available()
        assert "jax" in names, names
        assert "jax" not in sys.modules, "jax was imported"
        import croton.tensor as T
        import numpy as np
        x = T.dvector("x")
        croton.function([x], x * 2, backend="jax")
        assert "jax" in sys.modules
        import jax
        assert jax.config.jax_enable_x64
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize("module", ["jax", "jaxlib"])
def test_unavailable_without_jax(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)  # as if it could not be imported
    backend = JaxBackend()
    assert backend.unavailable_reason() == f"{module} not installed"
    assert not backend.is_available()


def test_every_op_the_numpy_backend_lowers_has_a_jax_rule():
    jax_registry = get_backend("jax").registry
    missing = [cls.__name__ for cls in numpy_registry.op_classes if cls not in jax_registry]
    assert not missing
    assert set(numpy_registry.op_classes) <= set(jax_registry.op_classes)


class Triple(Op):
    """An op only the numpy backend learns to run (through a plugin)."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])


class TriplePlugin:
    @plugin.hookimpl
    def croton_lowerings(self, backend):
        if backend.name == "numpy":
            return {Triple: lambda op, node: lambda x: x * 3}
        return None


@pytest.fixture
def triple_on_numpy():
    plugin.register(TriplePlugin(), name="triple-test")
    yield
    plugin.unregister("triple-test")


def test_missing_lowering_names_the_op_and_who_lowers_it(triple_on_numpy):
    x = T.dvector("x")
    with pytest.raises(MissingLoweringError) as info:
        croton.function([x], Triple()(x) + 1, backend="jax")
    message = str(info.value)
    assert "'jax'" in message and "Triple" in message and "numpy" in message


def test_fallback_runs_the_reference_kernel_eagerly(triple_on_numpy):
    x = T.dvector("x")
    with pytest.warns(FallbackWarning):
        f = croton.function([x], T.exp(Triple()(x) + 1), backend="jax", allow_fallback=True)
    assert "-- eager --" in f.source()
    data = np.array([0.5, -1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = f(data)
    np.testing.assert_allclose(result, np.exp(data * 3 + 1), rtol=1e-14)
    assert result.dtype == np.float64
