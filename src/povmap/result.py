"""What an analysis run gives: the classified layers, the join report, the inputs and pockets.

A plain container below the outputs, so that render and export can take a whole run without
importing the pipeline that makes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from .classify import Classification, classification_of
from .join import JoinReport
from .pockets import Pockets


@dataclass
class Result:
    """Analysed layers, finest first (``{"desa": ..., "kecamatan": ...}``), and the join report."""

    layers: dict[str, gpd.GeoDataFrame]
    report: JoinReport
    inputs: dict[str, Path]
    pockets: Pockets | None = None

    @property
    def main(self) -> gpd.GeoDataFrame:
        """The finest layer: what the choropleth colours."""
        return next(iter(self.layers.values()))

    @property
    def classification(self) -> Classification:
        """The class breaks of the finest layer."""
        return classification_of(self.main)
