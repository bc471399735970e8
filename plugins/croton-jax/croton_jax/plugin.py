"""Entry point of the jax backend (group ``croton``); importing it does not import jax."""

from __future__ import annotations

from croton.plugin import hookimpl


@hookimpl
def croton_backends():
    from croton_jax.backend import JaxBackend

    return [JaxBackend()]
