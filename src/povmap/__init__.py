"""povmap: extreme poverty maps per desa for Indonesian local governments.

The pipeline, one function per stage, each taking and returning plain (Geo)DataFrames::

    gdf = povmap.read_boundaries("ADMINISTRASIDESA_AR_25K.shp")
    counts = povmap.read_counts("p3ke_rekap.xlsx")
    result = povmap.join(gdf, counts)          # result.joined, result.report
    layer = povmap.add_rates(result.joined)
    kec = povmap.aggregate(layer, "kecamatan")
    layer = povmap.classify(layer, "persen_miskin_ekstrem", scheme="quantiles", k=5)
    m = povmap.choropleth(layer, kecamatan=kec)

Helpers for codes, names and numbers live in their modules: :mod:`povmap.codes`,
:mod:`povmap.names`, :mod:`povmap.counts` (``parse_number``), :mod:`povmap.classify`.
"""

from importlib.metadata import PackageNotFoundError, version

from . import export  # a callable package: povmap.export(...) writes a bundle
from ._errors import PovmapError, PovmapInputError
from .boundaries import read_boundaries
from .classify import Classification, classify
from .counts import read_counts
from .export import suppress_below, write_geojson, write_gpkg
from .join import JoinReport, JoinResult, join
from .metrics import add_rates, aggregate
from .pipeline import Options, run
from .pockets import Pockets, find_pockets
from .render import choropleth

try:
    __version__ = version("povmap")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

__all__ = [
    "Classification",
    "JoinReport",
    "JoinResult",
    "Options",
    "Pockets",
    "PovmapError",
    "PovmapInputError",
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
    "suppress_below",
    "write_geojson",
    "write_gpkg",
]
