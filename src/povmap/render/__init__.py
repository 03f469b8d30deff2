"""Maps: the interactive folium map and static maps (PNG/PDF) for slides and reports.

Split by concern: :mod:`.interactive` assembles the page from :mod:`.layers`, :mod:`.tooltips`,
:mod:`.legend` and :mod:`.controls`; :mod:`.topo` embeds the geometry compactly; :mod:`.static`
draws matplotlib maps with the same classes and colours.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .interactive import choropleth
from .legend import graduated_items
from .tooltips import tooltip_frame

# matplotlib takes seconds to import: the static maps load it on first use (PEP 562), so that an
# HTML map (``povmap map -o peta.html``) does not pay for it.
_STATIC = ("atlas", "save_static", "static_map")

if TYPE_CHECKING:
    from .static import atlas, save_static, static_map

__all__ = ["atlas", "choropleth", "graduated_items", "save_static", "static_map", "tooltip_frame"]


def __getattr__(name: str) -> Any:
    if name in _STATIC:
        value = getattr(importlib.import_module(".static", __name__), name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
