"""Entry point of the numba backend (group ``croton``), found like any third-party plugin."""

from __future__ import annotations

from croton.plugin import hookimpl


@hookimpl
def croton_backends():
    from croton_numba.backend import NumbaBackend

    return [NumbaBackend()]
