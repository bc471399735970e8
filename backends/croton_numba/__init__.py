"""croton's numba backend: fused loops and whole graphs compiled for the CPU."""
