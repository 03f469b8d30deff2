"""Maps: the interactive folium map and static maps (PNG/PDF) for slides and reports.

Split by concern: :mod:`.interactive` assembles the page from :mod:`.layers`, :mod:`.tooltips`,
:mod:`.legend` and :mod:`.controls`; :mod:`.topo` embeds the geometry compactly; :mod:`.static`
draws matplotlib maps with the same classes and colours.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# folium and matplotlib take a while to import: the public names load their modules on first use
# (PEP 562), so that ``povmap map`` can check its options (:mod:`.choice`) and start its work
# before folium is loaded, and an HTML map does not pay for matplotlib.
_MODULES = {
    "choropleth": ".interactive",
    "graduated_items": ".legend",
    "tooltip_frame": ".tooltips",
    "atlas": ".static",
    "save_static": ".static",
    "static_map": ".static",
}

if TYPE_CHECKING:
    from .interactive import choropleth
    from .legend import graduated_items
    from .static import atlas, save_static, static_map
    from .tooltips import tooltip_frame

__all__ = ["atlas", "choropleth", "graduated_items", "save_static", "static_map", "tooltip_frame"]


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        value = getattr(importlib.import_module(_MODULES[name], __name__), name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
