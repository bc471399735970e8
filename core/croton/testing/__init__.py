"""Testing helpers shipped with croton (the conformance suite arrives here)."""
