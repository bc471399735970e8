"""Entry point of the CuPy backend (group ``croton``); discovering it imports no cupy."""

from __future__ import annotations

from croton.plugin import hookimpl


@hookimpl
def croton_backends():
    from croton_cupy.backend import CupyBackend

    return [CupyBackend()]
