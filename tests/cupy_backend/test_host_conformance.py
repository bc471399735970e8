"""Every conformance case through the cupy backend's rules, with its kernels run on the host.

Without a GPU, the compile tier proves that the generated CUDA compiles; this proves that
it computes what NumPy computes. The backend runs as it would on a GPU (its executable,
device arrays, constants on the device), with the host standing in for the device
(`host_cuda.simulated_device`): numpy for CuPy's array functions, every generated kernel
(elementwise, reduction, raw) compiled for the CPU by the C++ compiler. The cases go
through `check_case`, forward and gradients, as on any backend; the bad-input cases
raise what numpy raises.
"""

from __future__ import annotations

import host_cuda
import pytest

from croton.testing.cases import all_cases
from croton.testing.cases_errors import error_cases
from croton.testing.compare import check_case, check_error_case


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.id)
def test_every_conformance_case_agrees_with_numpy_on_the_host(monkeypatch, case):
    host_cuda.simulated_device(monkeypatch)
    check_case(case, "cupy")


@pytest.mark.parametrize("case", error_cases(), ids=lambda c: c.id)
def test_every_error_case_raises_as_numpy_on_the_host(monkeypatch, case):
    host_cuda.simulated_device(monkeypatch)
    check_error_case(case, "cupy")
