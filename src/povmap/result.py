"""What an analysis run gives: the classified layers, the join report, the inputs and pockets.

A plain container below the outputs, so that render and export can take a whole run without
importing the pipeline that makes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from .boundaries import BoundaryInfo
from .classify import Classification, classification_of
from .join import JoinReport
from .pockets import Pockets


@dataclass
class Result:
    """What :func:`povmap.run` gives: the analysed layers and everything known about them.

    Attributes
    ----------
    layers
        Analysed layers, finest first (``{"desa": ..., "kecamatan": ...}``), EPSG:4326.
    report
        The join report.
    inputs
        The files read, by role (``{"boundaries": ..., "counts": ...}``).
    pockets
        The poverty pockets, when asked for.
    boundary
        What reading the boundary file found (:class:`povmap.BoundaryInfo`), for the manifest
        and the metadata.
    """

    layers: dict[str, gpd.GeoDataFrame]
    report: JoinReport
    inputs: dict[str, Path]
    pockets: Pockets | None = None
    boundary: BoundaryInfo | None = None

    @property
    def main(self) -> gpd.GeoDataFrame:
        """The finest layer: what the choropleth colours."""
        return next(iter(self.layers.values()))

    @property
    def classification(self) -> Classification:
        """The class breaks of the finest layer."""
        return classification_of(self.main)
