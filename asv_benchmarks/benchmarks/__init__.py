"""croton's asv benchmarks; run ``asv run --python=same`` in ``asv_benchmarks/``."""
