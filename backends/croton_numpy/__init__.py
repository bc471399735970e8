"""croton's reference backend: plain numpy, obviously correct.

Every op has a rule here; other backends are checked against this one.
"""

from croton_numpy.backend import NumpyBackend

__all__ = ["NumpyBackend"]
