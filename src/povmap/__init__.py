"""povmap: extreme poverty maps per desa for Indonesian local governments.

The pipeline, one function per stage; what a stage finds beside its table comes back beside it
(``.gdf``/``.frame`` and ``.source``, ``.classification``), never hidden in ``.attrs``::

    bounds = povmap.read_boundaries("ADMINISTRASIDESA_AR_25K.shp")  # bounds.gdf, bounds.source
    counts = povmap.read_counts("p3ke_rekap.xlsx")  # counts.frame, counts.source
    result = povmap.join(bounds, counts)       # result.joined, result.report
    layer = povmap.add_rates(result.joined)
    kec = povmap.aggregate(layer, "kecamatan")
    layer = povmap.classify(layer, "persen_miskin_ekstrem", scheme="quantiles", k=5)
    m = povmap.choropleth(layer, kecamatan=kec)   # layer.gdf, layer.classification
    m.save("peta.html")                        # self-contained: opens without internet
    t = povmap.trend(bounds, {"2022": counts_2022, "2024": counts_2024}, target=0)

Helpers for codes, names and numbers live in their modules: :mod:`povmap.codes`,
:mod:`povmap.names`, :mod:`povmap.counts` (``parse_number``), :mod:`povmap.classify`.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from ._errors import PovmapError, PovmapInputError, PovmapWarning

#: Public name -> the module that defines it. Imported on first use (PEP 562), so that
#: ``import povmap`` and ``povmap --help`` load neither geopandas' plotting stack, folium nor esda.
_LAZY = {
    "__version__": "_version",  # importlib.metadata takes as long as click to import
    "BoundaryInfo": "boundaries",
    "BoundaryLayer": "boundaries",
    "Classification": "classify",
    "Classified": "classify",
    "CountsInfo": "counts",
    "CountsTable": "counts",
    "JoinReport": "join",
    "JoinResult": "join",
    "Options": "pipeline",
    "Pockets": "pockets",
    "Targeting": "targeting",
    "Trend": "trend",
    "add_rates": "metrics",
    "aggregate": "metrics",
    "choropleth": "render",
    "classify": "classify",
    "find_pockets": "pockets",
    "join": "join",
    "read_boundaries": "boundaries",
    "read_counts": "counts",
    "run": "pipeline",
    "save_map": "_offline",
    "suppress_below": "export",
    "write_geojson": "export",
    "write_gpkg": "export",
}

__all__ = [
    "BoundaryInfo",
    "BoundaryLayer",
    "Classification",
    "Classified",
    "CountsInfo",
    "CountsTable",
    "JoinReport",
    "JoinResult",
    "Options",
    "Pockets",
    "PovmapError",
    "PovmapInputError",
    "PovmapWarning",
    "Targeting",
    "Trend",
    "__version__",
    "add_rates",
    "aggregate",
    "choropleth",
    "classify",
    "export",
    "find_pockets",
    "join",
    "read_boundaries",
    "read_counts",
    "run",
    "save_map",
    "suppress_below",
    "targeting",
    "trend",
    "write_geojson",
    "write_gpkg",
]


#: Modules that are also their main function: ``povmap.export(...)`` writes a bundle,
#: ``povmap.trend(...)`` follows vintages, ``povmap.targeting(...)`` aims programs (see
#: :mod:`povmap._module`).
_CALLABLE_MODULES = ("export", "targeting", "trend")


def __getattr__(name: str) -> Any:
    if name in _CALLABLE_MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    # ``povmap.join`` and ``povmap.classify`` are functions named like their modules. Importing
    # the module povmap.join (the pipeline does) binds it as an attribute of the package, which
    # would hide the function; the eager __init__ of old rebound the functions after its imports.
    # Keep the public function whenever the import system binds the module of the same name.
    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _LAZY.get(name) == name:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


if TYPE_CHECKING:  # for type checkers and IDEs: the names above, eagerly
    from . import export, targeting, trend
    from ._offline import save_map
    from ._version import __version__
    from .boundaries import BoundaryInfo, BoundaryLayer, read_boundaries
    from .classify import Classification, Classified, classify
    from .counts import CountsInfo, CountsTable, read_counts
    from .export import suppress_below, write_geojson, write_gpkg
    from .join import JoinReport, JoinResult, join
    from .metrics import add_rates, aggregate
    from .pipeline import Options, run
    from .pockets import Pockets, find_pockets
    from .render import choropleth
    from .targeting import Targeting
    from .trend import Trend
