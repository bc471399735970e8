"""croton's conformance suite: every backend checked against the reference backend.

Run it against an installed backend with::

    pytest --pyargs croton.testing --croton-backend=NAME

From Python, `check_case` compares one case of the catalogue (`all_cases`) on a backend
with the reference, raising `ConformanceError` on any difference in dtype, shape or
value (within `tolerance`); `check_error_case` checks that a backend raises what the
reference raises on a bad-input case (`error_cases`).
"""

from croton.testing.cases import Case, all_cases
from croton.testing.cases_errors import ErrorCase, error_cases
from croton.testing.compare import (
    ConformanceError,
    assert_conforms,
    check_case,
    check_error_case,
    tolerance,
)

__all__ = [
    "Case",
    "ConformanceError",
    "ErrorCase",
    "all_cases",
    "assert_conforms",
    "check_case",
    "check_error_case",
    "error_cases",
    "tolerance",
]
