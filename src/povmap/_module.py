"""Modules that can be called as their main function: ``povmap.export(...)``, ``povmap.trend(...)``.

A function named like its module would shadow the module as an attribute of the package, and then
``import povmap.trend as t`` or ``povmap.export.suppress`` give the function, not the module.
A module whose class is callable keeps both working.
"""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import Callable


def make_callable(name: str, function: Callable) -> None:
    """Make the module ``name`` (already in ``sys.modules``) call ``function`` when called."""

    class CallableModule(types.ModuleType):
        __signature__ = inspect.signature(function)
        __doc__ = sys.modules[name].__doc__

        def __call__(self, *args, **kwargs):
            return function(*args, **kwargs)

    sys.modules[name].__class__ = CallableModule
