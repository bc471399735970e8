"""``croton.config``: global settings, also read from ``CROTON_FLAGS``.

``CROTON_FLAGS="floatX=float32,backend=numpy"`` sets options when croton is imported;
attributes can be changed at run time (``croton.config.floatX = "float32"``), and
`Config.change` sets some temporarily.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator


def _choice(*options: str | None) -> Callable:
    def check(value):
        if value not in options:
            raise ValueError(f"expected one of {list(options)}, got {value!r}")
        return value

    return check


def _boolean(value) -> bool:
    if isinstance(value, str):
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected a boolean, got {value!r}")
    return bool(value)


def _count(value):
    number = int(value)
    if number < 0 or number != float(value):
        raise ValueError(f"expected a non-negative integer, got {value!r}")
    return number


def _level(value) -> int:
    number = _count(value)
    if number > 3:
        raise ValueError(f"expected 0, 1, 2 or 3, got {value!r}")
    return number


def _optional_name(value):
    return None if value in (None, "", "None", "auto") else str(value)


#: name -> (default, validator, description)
OPTIONS: dict[str, tuple] = {
    "floatX": (
        "float64",
        _choice("float64", "float32", "float16"),
        "dtype of T.matrix() and friends",
    ),
    "backend": (None, _optional_name, "default backend name (None: the fastest available)"),
    "mode": ("FAST_RUN", _choice("FAST_RUN", "FAST_COMPILE", "NONE"), "default compilation mode"),
    "optimizer": ("fast_run", _choice("fast_run", "fast_compile", "None", None), "rewrite level"),
    "on_unused_input": ("raise", _choice("raise", "warn", "ignore"), "default for function()"),
    "on_rewrite_error": ("warn", _choice("warn", "raise", "ignore"), "a rewrite that raises"),
    "print_rewrites": (False, _boolean, "report which rewrites fired"),
    "allow_fallback": (False, _boolean, "run ops a backend cannot lower on the reference backend"),
    "numba_parallel": (True, _boolean, "numba: compile multi-threaded variants of large loops"),
    "numba_parallel_threshold": (
        200_000,
        _count,
        "numba: loops over at least this many elements run on several threads",
    ),
    "numba_segment_lines": (
        800,
        _count,
        "numba: a run of jitted nodes whose generated code is longer than this many lines "
        "is cut into several segments (numba's compile time grows faster than a function's "
        "length); 0 never cuts",
    ),
    "numba_opt": (
        2,
        _level,
        "numba: LLVM optimisation level (0-3) of croton's jitted code; numba's own default "
        "(3, NUMBA_OPT) still applies to other functions",
    ),
    "numba_threaded_compile": (
        "background",
        _choice("background", "eager"),
        "numba: build a graph's multi-threaded variant in a background process the first "
        "time a call needs it, or (eager) when the graph compiles",
    ),
}


class Config:
    """Croton's settings; every option is an attribute, validated when set."""

    def __init__(self, flags: str | None = None):
        for name, (default, _, _) in OPTIONS.items():
            object.__setattr__(self, name, default)
        if flags:
            self.apply_flags(flags)

    def __setattr__(self, name: str, value) -> None:
        if name not in OPTIONS:
            raise AttributeError(
                f"croton.config has no option {name!r}; options: {sorted(OPTIONS)}"
            )
        try:
            value = OPTIONS[name][1](value)
        except ValueError as err:
            raise ValueError(f"croton.config.{name}: {err}") from None
        object.__setattr__(self, name, value)

    def apply_flags(self, flags: str) -> None:
        """Set options from ``"name=value,name=value"`` (the ``CROTON_FLAGS`` format)."""
        for item in filter(None, (part.strip() for part in flags.split(","))):
            name, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"CROTON_FLAGS entry {item!r} is not of the form name=value")
            setattr(self, name.strip(), value.strip())

    @contextlib.contextmanager
    def change(self, **values) -> Iterator[Config]:
        """Set options inside a ``with`` block, restoring them afterwards."""
        saved = {name: getattr(self, name) for name in values}
        try:
            for name, value in values.items():
                setattr(self, name, value)
            yield self
        finally:
            for name, value in saved.items():
                object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return "\n".join(f"{name} = {getattr(self, name)!r}" for name in OPTIONS)


config = Config(os.environ.get("CROTON_FLAGS"))
