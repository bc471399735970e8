"""The pytest plugin behind ``pytest --pyargs croton.testing --croton-backend=NAME``.

It adds the ``--croton-backend`` option (default: the reference backend, as a
self-check), ``--croton-examples`` (random graphs per run), the ``croton_backend``
fixture, and a summary of the cases the backend declared unsupported.
"""

from __future__ import annotations

import pytest

#: skip reasons of declared-unsupported cases start with this
UNSUPPORTED = "declared unsupported by backend"


def pytest_addoption(parser):
    group = parser.getgroup("croton", "croton conformance suite")
    group.addoption(
        "--croton-backend",
        default="numpy",
        metavar="NAME",
        help="the backend the conformance suite checks against the reference (default: numpy)",
    )
    group.addoption(
        "--croton-examples",
        type=int,
        default=40,
        metavar="N",
        help="random expression graphs the conformance suite tries (default: 40)",
    )


@pytest.fixture(scope="session")
def croton_backend(request):
    """The backend under test (a `croton.backend.Backend`); unavailable ones fail loudly."""
    from croton.backend import get_backend

    return get_backend(request.config.getoption("--croton-backend"))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        message = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        if UNSUPPORTED in message:
            reason = message.split(UNSUPPORTED, 1)[1]
            reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        terminalreporter.section("croton: cases the backend declared unsupported")
        for reason, count in sorted(reasons.items()):
            terminalreporter.line(f"{count:5d}  {UNSUPPORTED}{reason}")
