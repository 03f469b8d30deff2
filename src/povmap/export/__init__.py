"""The geoportal bundle: RFC 7946 GeoJSON, GeoPackage, shapefile, SLD/QML, ISO metadata.

``povmap.export`` is both this package and the function that writes a bundle: calling the
package, ``povmap.export(layers, out_dir, ...)``, calls :func:`export`, while its modules stay
importable as usual (``import povmap.export.kugi``, ``povmap.export.suppress``):

- :mod:`.writers`: GeoJSON and GeoPackage writers (atomic).
- :mod:`.kugi`: KUGI field names, short poverty field names, the data dictionary.
- :mod:`.styles`: SLD 1.0 and QML from the map's :class:`~povmap.classify.Classification`.
- :mod:`.metadata`: ISO 19115/19139 XML following SNI 8843-1:2019.
- :mod:`.shapefile`: zipped shapefile.
- :mod:`.suppress`: small-cell suppression for public exports.
- :mod:`.bundle`: all of it into one folder, all or nothing.
- :mod:`.trend`: the outputs of :func:`povmap.trend` into one folder, all or nothing.
"""

from .._module import make_callable
from .bundle import FORMATS, BundleOptions, export, export_result
from .kugi import to_kugi
from .metadata import MetadataConfig, load_config
from .styles import qml, sld
from .suppress import Suppressed, Suppression, suppress_below, suppress_layers, suppress_result
from .trend import write_trend
from .writers import write_geojson, write_gpkg

__all__ = [
    "FORMATS",
    "BundleOptions",
    "MetadataConfig",
    "export",
    "export_result",
    "load_config",
    "qml",
    "sld",
    "suppress_below",
    "Suppressed",
    "Suppression",
    "suppress_layers",
    "suppress_result",
    "to_kugi",
    "write_geojson",
    "write_gpkg",
    "write_trend",
]


# ``povmap.export(...)`` writes a bundle; ``povmap.export.kugi`` and the others stay modules.
make_callable(__name__, export)
