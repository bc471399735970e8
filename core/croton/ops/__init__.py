"""Op definitions: type and shape inference and gradients; kernels live in backends."""
