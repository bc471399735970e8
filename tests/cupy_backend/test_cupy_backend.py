"""The cupy backend as users meet it, on any machine: discovery, availability, selection.

Nothing here needs a GPU or even CuPy: where CuPy is missing the backend must still be
found and must say why it cannot run. (The file is not called ``test_backend.py``
because ``tests/numba`` has one, and test directories are not packages.)
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import croton
import croton.backend
import croton.tensor as T
from croton.backend import BackendError
from croton.cli import main
from croton.graph.type import TensorType
from croton_cupy import runtime
from croton_cupy.backend import CupyBackend

#: these tests check the backend where CuPy is missing too (tests/cupy_backend/conftest.py)
RUNS_WITHOUT_CUPY = True

#: the reasons the backend may give on a machine where it cannot run
REASONS = ("cupy not installed", "cupy cannot be imported", "no CUDA device")


def _run_python(source: str) -> str:
    """Run ``source`` in a fresh interpreter (no backend chosen by the environment); its
    standard output."""
    env = {k: v for k, v in os.environ.items() if k not in ("CROTON_BACKEND", "CROTON_FLAGS")}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def reason():
    """Why the cupy backend cannot run here; skips the test where it can (a GPU is present)."""
    why = runtime.unavailable_reason()
    if why is None:
        pytest.skip("the cupy backend is available here (a CUDA device is present)")
    return why


def test_the_backend_comes_from_its_entry_point():
    found = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="croton")}
    assert found["cupy"] == "croton_cupy.plugin"
    backend = croton.backend._discover()["cupy"]
    assert isinstance(backend, CupyBackend)
    assert backend.name == "cupy" and backend.device == "gpu"
    assert CupyBackend.shared() is backend
    assert "cupy" in [b.name for b in croton.backend.list_backends()]


def test_it_is_unavailable_here_with_a_clear_reason(reason):
    backend = CupyBackend.shared()
    assert backend.is_available() is False
    assert backend.unavailable_reason() == reason
    assert reason.startswith(REASONS), reason


def test_asking_for_it_raises_a_backend_error_naming_the_reason(reason):
    x = T.fvector("x")
    with pytest.raises(BackendError, match="'cupy' is not available here") as caught:
        croton.function([x], x * 2, backend="cupy")
    assert reason in str(caught.value)
    with croton.config.change(backend="cupy"), pytest.raises(BackendError, match="cupy"):
        croton.function([x], x * 2)


def test_croton_backends_lists_it_with_its_reason(reason, capsys):
    assert main(["backends"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.split()[0] == "cupy"]
    assert len(lines) == 1
    assert f"unavailable: {reason}" in lines[0]
    assert main(["info"]) == 0
    assert f"unavailable: {reason}" in capsys.readouterr().out


def test_it_is_never_chosen_automatically(monkeypatch):
    backend = CupyBackend.shared()
    # even where it could run, and whatever its priority, only CPU backends are chosen
    monkeypatch.setattr(backend, "unavailable_reason", lambda: None)
    monkeypatch.setattr(backend, "priority", 10**6)
    monkeypatch.delenv("CROTON_BACKEND", raising=False)
    with croton.config.change(backend=None):
        chosen = croton.backend.select_backend()
    assert chosen.name != "cupy" and chosen.device == "cpu"


def test_a_backend_object_compiles_without_a_device():
    # a Backend object is taken as it is, without asking whether it can run here, so the
    # device-less tests can compile for this backend; constants wait for the first call
    x = T.fvector("x")
    f = croton.function([x], x, backend=CupyBackend.shared())
    assert f.maker.backend is CupyBackend.shared()
    assert f.return_device_arrays is False
    g = croton.function([x], x, backend=CupyBackend.shared(), return_device_arrays=True)
    assert g.return_device_arrays is True


def test_importing_croton_and_discovering_backends_import_no_cupy():
    out = _run_python(
        """
        import sys
        import numpy as np
        import croton, croton.backend, croton.tensor as T
        assert "cupy" not in sys.modules, "import croton"
        names = [b.name for b in croton.backend.list_backends()]
        assert "cupy" in names, names
        backend = croton.backend._discover()["cupy"]
        assert "cupy" not in sys.modules, "discovering backends"
        x = T.dvector("x")
        f = croton.function([x], x + 1)  # the default backend: only CPU backends are asked
        assert f.maker.backend.name != "cupy"
        f(np.ones(2))
        from croton_cupy import runtime
        assert not runtime.is_device_array(np.ones(2))
        assert backend.native_value(np.ones(2), x.type) is None
        assert "cupy" not in sys.modules, "compiling on a CPU backend"
        print("ok")
        """
    )
    assert out.strip() == "ok"


_HIDDEN_BY_SYS_MODULES = """
import sys
sys.modules["cupy"] = None  # what an environment without cupy looks like to importlib
"""

_HIDDEN_BY_A_META_PATH_FINDER = """
import sys

class NoCupy:
    def find_spec(self, name, path=None, target=None):
        if name == "cupy" or name.startswith("cupy."):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, NoCupy())
"""


@pytest.mark.parametrize(
    "hide", [_HIDDEN_BY_SYS_MODULES, _HIDDEN_BY_A_META_PATH_FINDER], ids=["sys.modules", "finder"]
)
def test_without_cupy_the_reason_says_how_to_install_it(hide):
    out = _run_python(
        hide
        + """
import croton, croton.backend, croton.tensor as T
from croton.cli import main

backend = croton.backend._discover()["cupy"]
reason = backend.unavailable_reason()
print("reason:", reason)
assert not backend.is_available()
x = T.dvector("x")
try:
    croton.function([x], x + 1, backend="cupy")
except croton.backend.BackendError as err:
    print("error:", err)
else:
    raise AssertionError("compiled on a backend without cupy")
main(["backends"])
"""
    )
    lines = out.splitlines()
    expected = 'cupy not installed (install it with `pip install "croton[cupy]"`)'
    assert lines[0] == f"reason: {expected}"
    assert lines[1] == f"error: croton backend 'cupy' is not available here: {expected}"
    assert any(line.startswith("cupy ") and line.endswith(expected) for line in lines[2:])


def test_values_that_are_not_device_arrays_are_converted_not_used_in_place():
    backend = CupyBackend.shared()
    vector = TensorType("float32", shape=(None,))
    value = np.arange(3, dtype="float32")
    assert backend.native_value(value, vector) is None
    assert backend.native_value([1.0, 2.0], vector) is None
    assert backend.native_value(np.float32(1.0), TensorType("float32", shape=())) is None
    assert not runtime.is_device_array(value)
    assert not backend.uses_numpy_arrays


def test_to_numpy_copies_values_that_are_not_device_arrays():
    backend = CupyBackend.shared()
    value = np.arange(4.0)
    copy = backend.to_numpy(value)
    assert type(copy) is np.ndarray and copy is not value
    np.testing.assert_array_equal(copy, value)
    copy[0] = 99.0
    assert value[0] == 0.0
    assert backend.to_numpy([1, 2]).tolist() == [1, 2]
    scalar = backend.to_numpy(np.float32(2.5))
    assert scalar.shape == () and scalar.dtype == np.float32


def test_a_directory_called_cupy_is_not_cupy(monkeypatch):
    """A folder named ``cupy`` on the path (a namespace package, no origin) is not CuPy."""
    import importlib.machinery
    import importlib.util

    namespace = importlib.machinery.ModuleSpec("cupy", None, is_package=True)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: namespace)
    assert not runtime.cupy_installed()
