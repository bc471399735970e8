"""Every conformance case through the cupy backend's rules, with its kernels run on the host.

Without a GPU, the compile tier proves that the generated CUDA compiles; this proves that
it computes what NumPy computes. Each op runs through its cupy rule, with numpy standing
in for CuPy's array functions and every generated kernel (elementwise, reduction, raw)
compiled for the host by the C++ compiler (`host_cuda`); the cases then go through
`check_case`, forward and gradients, as on any backend.

The softmax family's kernels are the exception: a block of threads shares each row
through shared memory and warp shuffles, which one host thread cannot stand in for. Their
ops keep the reference rules here; the compile tier and the GPU tier check theirs.
"""

from __future__ import annotations

import host_cuda
import pytest

from croton.ops.nnet import CrossEntropySoftmax, LogSoftmax, Softmax
from croton.testing.cases import all_cases
from croton.testing.compare import check_case

#: ops whose kernels need a block of cooperating threads
BLOCK_KERNELS = (Softmax, LogSoftmax, CrossEntropySoftmax)


@pytest.fixture
def host(monkeypatch, cupy_backend):
    own = [c for c in cupy_backend.registry.op_classes if c not in BLOCK_KERNELS]
    return host_cuda.host_backend(monkeypatch, own)


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.id)
def test_every_conformance_case_agrees_with_numpy_on_the_host(host, case):
    check_case(case, host)
