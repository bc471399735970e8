"""Op definitions: type and shape inference and gradients; kernels live in backends."""

from __future__ import annotations


def core_op_classes() -> list[type]:
    """Every public op class croton's core defines, sorted by name.

    A backend that lowers all of them runs every graph croton builds; `croton backends`
    and the conformance suite measure coverage against this list.
    """
    import importlib
    import inspect
    import pkgutil

    from croton.graph.basic import Op

    found = set()
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, Op)
                and cls.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found.add(cls)
    return sorted(found, key=lambda cls: cls.__name__)
