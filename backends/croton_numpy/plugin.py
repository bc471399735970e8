"""Entry point of the numpy backend (group ``croton``), found like any third-party plugin."""

from __future__ import annotations

from croton.plugin import hookimpl


@hookimpl
def croton_backends():
    from croton_numpy.backend import NumpyBackend

    return [NumpyBackend()]
