"""Maps: the interactive folium map and static maps (PNG/PDF) for slides and reports.

Split by concern: :mod:`.interactive` assembles the page from :mod:`.layers`, :mod:`.tooltips`,
:mod:`.legend` and :mod:`.controls`; :mod:`.topo` embeds the geometry compactly; :mod:`.static`
draws matplotlib maps with the same classes and colours.
"""

from .interactive import choropleth
from .legend import graduated_items
from .static import atlas, save_static, static_map
from .tooltips import tooltip_frame

__all__ = ["atlas", "choropleth", "graduated_items", "save_static", "static_map", "tooltip_frame"]
