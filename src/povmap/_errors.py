"""Errors povmap raises for bad input.

The CLI turns a :class:`PovmapInputError` into exit code 1 and prints its message, so every message
must name the file, the row or the column, and say what to do.
"""

from __future__ import annotations


class PovmapError(Exception):
    """Base class of povmap's own errors."""


class PovmapInputError(PovmapError, ValueError):
    """The input (a file, a column, a row, a parameter value) is not usable as given."""
