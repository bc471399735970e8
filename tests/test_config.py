"""`croton.config`: options, validation, `change`, and ``CROTON_FLAGS``."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.compile.function import UnusedInputError
from croton.config import OPTIONS, Config

DEFAULTS = {
    "floatX": "float64",
    "backend": None,
    "mode": "FAST_RUN",
    "on_unused_input": "raise",
    "print_rewrites": False,
    "allow_fallback": False,
}


def test_defaults_of_a_fresh_config():
    fresh = Config()
    for name, value in DEFAULTS.items():
        assert getattr(fresh, name) == value
    for name, (default, _, description) in OPTIONS.items():
        assert getattr(fresh, name) == default
        assert description


def test_every_option_is_listed_in_the_repr():
    text = repr(croton.config)
    for name in OPTIONS:
        assert f"{name} = {getattr(croton.config, name)!r}" in text


def test_config_is_the_same_object_everywhere():
    from croton.config import config

    assert croton.config is config


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("floatX", "float32", "float32"),
        ("mode", "NONE", "NONE"),
        ("on_unused_input", "warn", "warn"),
        ("print_rewrites", "yes", True),
        ("print_rewrites", "0", False),
        ("allow_fallback", "on", True),
        ("allow_fallback", 1, True),
        ("backend", "numpy", "numpy"),
        ("backend", "auto", None),
        ("backend", "", None),
        ("numba_opt", "3", 3),
        ("numba_opt", 0, 0),
    ],
)
def test_setting_an_option_validates_and_converts(name, value, expected):
    fresh = Config()
    setattr(fresh, name, value)
    assert getattr(fresh, name) == expected


@pytest.mark.parametrize(
    ("name", "value", "error", "message"),
    [
        ("floatX", "int32", ValueError, r"croton\.config\.floatX: expected one of"),
        ("mode", "TURBO", ValueError, r"croton\.config\.mode"),
        ("on_unused_input", "sometimes", ValueError, r"croton\.config\.on_unused_input"),
        ("print_rewrites", "maybe", ValueError, r"expected a boolean, got 'maybe'"),
        ("numba_opt", 4, ValueError, r"croton\.config\.numba_opt: expected 0, 1, 2 or 3, got 4"),
        ("numba_opt", "fast", ValueError, r"croton\.config\.numba_opt"),
        ("no_such_option", 1, AttributeError, r"has no option 'no_such_option'; options: \["),
    ],
)
def test_invalid_values_are_rejected_and_the_old_value_kept(name, value, error, message):
    fresh = Config()
    before = repr(fresh)
    with pytest.raises(error, match=message):
        setattr(fresh, name, value)
    assert repr(fresh) == before


def test_change_sets_and_restores():
    before = (croton.config.floatX, croton.config.on_unused_input)
    with croton.config.change(floatX="float32", on_unused_input="ignore") as inside:
        assert inside is croton.config
        assert croton.config.floatX == "float32"
        assert T.matrix("m").dtype == "float32"
        x, unused = T.scalars("x", "unused")
        f = croton.function([x, unused], x * 2)
        result = f(1.5, 0.0)
        assert result.dtype == np.float32 and result == np.float32(1.5) * 2
    assert (croton.config.floatX, croton.config.on_unused_input) == before
    assert T.matrix("m").dtype == before[0]
    with pytest.raises(UnusedInputError):
        croton.function([x, unused], x * 2)


def test_change_restores_after_an_exception():
    before = croton.config.floatX
    with pytest.raises(KeyError):
        with croton.config.change(floatX="float16"):
            assert croton.config.floatX == "float16"
            raise KeyError("inside")
    assert croton.config.floatX == before


def test_change_with_an_invalid_value_restores_the_valid_ones():
    before = repr(croton.config)
    with pytest.raises(ValueError, match="mode"):
        with croton.config.change(floatX="float32", mode="TURBO"):
            pass
    assert repr(croton.config) == before


def test_nested_changes():
    outer = croton.config.floatX
    with croton.config.change(floatX="float32"):
        with croton.config.change(floatX="float16"):
            assert T.vector().dtype == "float16"
        assert T.vector().dtype == "float32"
    assert croton.config.floatX == outer


def test_backend_option_selects_the_backend():
    x = T.dvector("x")
    with croton.config.change(backend="no-such-backend"):
        with pytest.raises(Exception, match="unknown croton backend 'no-such-backend'"):
            croton.function([x], x * 2)
    name = croton.function([x], x).maker.backend.name
    with croton.config.change(backend=name):
        f = croton.function([x], x * 2)
    assert f.maker.backend.name == name
    np.testing.assert_array_equal(f([1.0, 2.0]), np.array([1.0, 2.0]) * 2)


def test_mode_option_is_the_default_mode():
    x = T.dvector("x")
    with croton.config.change(mode="NONE"):
        naive = croton.function([x], x * 1)
    rewritten = croton.function([x], x * 1)
    assert naive.maker.mode == "NONE"
    assert rewritten.maker.mode == croton.config.mode
    assert len(naive.maker.fgraph.apply_nodes) > len(rewritten.maker.fgraph.apply_nodes)
    data = np.array([3.0, -4.0])
    np.testing.assert_array_equal(naive(data), rewritten(data))


# -- CROTON_FLAGS ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ("floatX=float32", {"floatX": "float32"}),
        (
            " floatX = float16 , mode=FAST_COMPILE,print_rewrites=true,",
            {"floatX": "float16", "mode": "FAST_COMPILE", "print_rewrites": True},
        ),
        ("backend=numpy,on_unused_input=warn", {"backend": "numpy", "on_unused_input": "warn"}),
        ("", {}),
    ],
)
def test_flags_are_parsed(flags, expected):
    parsed = Config(flags)
    for name, default in DEFAULTS.items():
        assert getattr(parsed, name) == expected.get(name, default)


@pytest.mark.parametrize(
    ("flags", "error", "message"),
    [
        ("floatX", ValueError, r"entry 'floatX' is not of the form name=value"),
        ("floatX=int8", ValueError, r"croton\.config\.floatX"),
        ("speed=max", AttributeError, r"no option 'speed'"),
    ],
)
def test_invalid_flags_are_rejected(flags, error, message):
    with pytest.raises(error, match=message):
        Config(flags)


def _python_with_flags(flags: str, code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, CROTON_FLAGS=flags)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


def test_croton_flags_environment_variable_is_read_at_import():
    code = (
        "import croton, croton.tensor as T\n"
        "v = T.vector('v')\n"
        "f = croton.function([v], v * 2)\n"
        "print(croton.config.floatX, croton.config.mode, f([1.5]).dtype, f.maker.mode)\n"
    )
    done = _python_with_flags("floatX=float32,mode=FAST_COMPILE", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["float32", "FAST_COMPILE", "float32", "FAST_COMPILE"]


def test_invalid_croton_flags_fail_the_import_with_a_clear_error():
    done = _python_with_flags("floatX=float8", "import croton")
    assert done.returncode != 0
    assert "croton.config.floatX" in done.stderr
    assert "float8" in done.stderr
