"""Why ``pyogrio.read_dataframe(..., use_arrow=True)`` kills the interpreter on the national file.

Minimal reproduction (run it in a subprocess: it ends in a segmentation fault, exit code 139):

    python benchmarks/repro_arrow_null_geometry.py

Found with pyogrio 0.13.0 (its wheel bundles GDAL 3.12.4), pyarrow 26.0.1, pandas 3.1. The national
FlatGeobuf has one desa without geometry (96.01.05.1012, feature 82,443). GDAL's FlatGeobuf Arrow
stream writes that null geometry into the WKB column as an *invalid* Arrow array: no validity
bitmap (``null_count`` 0) and the offset of the next slot reset to 0 instead of repeating the
previous end (offsets ``[0, 93, 0]`` below), so the slot's length is negative. pyarrow trusts the
offsets when it converts the column to Python ``bytes`` (``Table.to_pandas``) and reads outside
the buffer. ``Array.validate(full=True)`` reports it ("Offset invariant failure"). GeoPackage and
GeoJSON streams of the same layer are valid; only FlatGeobuf with a null geometry is affected.

povmap never reads through Arrow (``use_arrow=False`` is passed explicitly, so not even
``PYOGRIO_USE_ARROW=1`` in the environment turns it on): ``tests/test_scale.py::
test_boundaries_never_read_through_arrow``.
"""

import os
import sys
import tempfile

import geopandas as gpd
import pyogrio
import shapely
from pyogrio.raw import read_arrow

path = os.path.join(tempfile.mkdtemp(), "two.fgb")
gpd.GeoDataFrame({"kode": ["a", "b"]}, geometry=[shapely.box(0, 0, 1, 1), None], crs=4326).to_file(
    path, driver="FlatGeobuf", SPATIAL_INDEX="NO"
)
meta, table = read_arrow(path)
wkb = table.column(table.num_columns - 1).chunks[0]
print("null_count", wkb.null_count, "offsets", list(memoryview(wkb.buffers()[1]).cast("i")))
try:
    wkb.validate(full=True)
except Exception as exc:  # pyarrow.lib.ArrowInvalid
    print("invalid Arrow array:", exc)
sys.stdout.flush()
pyogrio.read_dataframe(path, use_arrow=True)  # segmentation fault here
print("no crash: this pyogrio/GDAL writes a valid array")
