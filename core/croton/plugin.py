"""The plugin manager: pluggy hooks, found through the ``croton`` entry-point group.

A plugin is a module (or object) registered under the entry-point group ``croton``
that implements some of these hooks::

    import pluggy
    hookimpl = pluggy.HookimplMarker("croton")

    @hookimpl
    def croton_backends():
        return [MyBackend()]

    @hookimpl
    def croton_lowerings(backend):
        if backend.name == "numpy":
            return {MyOp: my_numpy_rule}

Hooks only register; they should do no heavy work at import.
"""

from __future__ import annotations

import importlib.metadata
import threading
import warnings

import pluggy

PROJECT = "croton"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class CrotonHooks:
    """The hooks a plugin may implement."""

    @hookspec
    def croton_backends(self):
        """Return a list of `croton.backend.Backend` objects this plugin offers."""

    @hookspec
    def croton_lowerings(self, backend):
        """Return ``{op_class: rule}`` to add to ``backend``'s registry, or None.

        This is how a plugin teaches an existing backend its own ops.
        """


class PluginLoadWarning(UserWarning):
    """A plugin failed to load and was skipped."""


_lock = threading.RLock()
_manager: pluggy.PluginManager | None = None
_failures: dict[str, str] = {}


def _new_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(CrotonHooks)
    return manager


def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, loading entry points on first use."""
    global _manager
    with _lock:
        if _manager is None:
            manager = _new_manager()
            for entry_point in importlib.metadata.entry_points(group=PROJECT):
                _load(manager, entry_point)
            _manager = manager
        return _manager


def _load(manager: pluggy.PluginManager, entry_point) -> None:
    try:
        plugin = entry_point.load()
        if manager.get_plugin(entry_point.name) is None:
            manager.register(plugin, name=entry_point.name)
    except Exception as err:  # a broken plugin must not break croton
        _failures[entry_point.name] = f"{type(err).__name__}: {err}"
        warnings.warn(
            f"croton plugin {entry_point.name!r} ({entry_point.value}) failed to load and "
            f"was skipped: {type(err).__name__}: {err}",
            PluginLoadWarning,
            stacklevel=3,
        )


def register(plugin, name: str | None = None) -> None:
    """Register a plugin object in this process (without an entry point)."""
    from croton import backend

    manager = plugin_manager()
    manager.register(plugin, name=name)
    backend.reset()


def unregister(name: str) -> None:
    """Remove a plugin registered under ``name``."""
    from croton import backend

    plugin_manager().unregister(name=name)
    backend.reset()


def failed_plugins() -> dict[str, str]:
    """Plugins that failed to load, with the error."""
    plugin_manager()
    return dict(_failures)


def reload() -> None:
    """Forget loaded plugins; the next use discovers entry points again."""
    global _manager
    from croton import backend

    with _lock:
        _manager = None
        _failures.clear()
    backend.reset()
