"""Composition root: the one place that wires every layer together.

It may import drivers, recordings and ui (lazily); the rest of :mod:`nmr_balance` may not
(import-linter checks it). :func:`open_source` is how the CLI, the UI and tests get a source.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the registry imports NumPy: every command's --help would pay for it
    from nmr_balance.source import Source

#: Layer packages that register source schemes via a ``register_sources()`` function.
_PROVIDERS = ("drivers", "recordings")
_loaded = False


def load_providers() -> None:
    """Let each layer package register its URL schemes (idempotent)."""
    global _loaded
    if _loaded:
        return
    for name in _PROVIDERS:
        module = importlib.import_module(name)
        register = getattr(module, "register_sources", None)
        if register is not None:
            register()
    _loaded = True


def open_source(url: str) -> Source:
    """Create the source for ``url`` (not yet opened: use it as a context manager)."""
    from nmr_balance.registry import create_source

    load_providers()
    return create_source(url)
