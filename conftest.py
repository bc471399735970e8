"""Test-session defaults: the suite checks croton's semantics on the reference backend.

Graphs compiled without a backend run on numpy here, which compiles instantly; the
numba backend is tested by its own tests and by the conformance suite
(``pytest --pyargs croton.testing --croton-backend=numba``). Setting
``CROTON_BACKEND`` runs the whole suite on another backend instead.
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _reference_backend_by_default():
    import croton

    if os.environ.get("CROTON_BACKEND") or croton.config.backend is not None:
        yield
        return
    with croton.config.change(backend="numpy"):
        yield
