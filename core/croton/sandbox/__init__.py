"""Theano's sandbox names that users' code still imports (``croton.sandbox.rng_mrg``)."""
