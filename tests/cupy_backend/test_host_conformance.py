"""Every conformance case through the cupy backend's rules, with its kernels run on the host.

Without a GPU, the compile tier proves that the generated CUDA compiles; this proves that
it computes what NumPy computes. Each op runs through its cupy rule, with numpy standing
in for CuPy's array functions and every generated kernel (elementwise, reduction, raw)
compiled for the host by the C++ compiler (`host_cuda`); the cases then go through
`check_case`, forward and gradients, as on any backend.
"""

from __future__ import annotations

import host_cuda
import pytest

from croton.testing.cases import all_cases
from croton.testing.compare import check_case


@pytest.fixture
def host(monkeypatch, cupy_backend):
    return host_cuda.host_backend(monkeypatch, cupy_backend.registry.op_classes)


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.id)
def test_every_conformance_case_agrees_with_numpy_on_the_host(host, case):
    check_case(case, host)
