"""croton's GPU backend: generated CUDA kernels through CuPy, cuBLAS for products."""
