"""What an analysis run gives: the classified layers, the join report, the inputs and pockets.

A plain container below the outputs, so that render and export can take a whole run without
importing the pipeline that makes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from .boundaries import BoundaryInfo
from .classify import Classification, Classified
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
    classifications
        The classes of each layer, by the names of ``layers`` (each layer classified on its own
        values with the same scheme); :meth:`classified` pairs a layer with its classes.
    suppression
        What small-cell suppression blanked, once applied to ``layers``
        (:func:`povmap.export.suppress.suppress_result`), as ``Suppression.to_dict()``: the
        manifest's ``penyamaran``; None before.
    """

    layers: dict[str, gpd.GeoDataFrame]
    report: JoinReport
    inputs: dict[str, Path]
    pockets: Pockets | None = None
    boundary: BoundaryInfo | None = None
    classifications: dict[str, Classification] = field(default_factory=dict)
    suppression: dict | None = None

    @property
    def main(self) -> gpd.GeoDataFrame:
        """The finest layer: what the choropleth colours."""
        return next(iter(self.layers.values()))

    @property
    def classification(self) -> Classification:
        """The class breaks of the finest layer."""
        return self.classifications[next(iter(self.layers))]

    def classified(self, name: str | None = None) -> Classified:
        """Layer ``name`` with its classes, for maps, static maps and styles.

        Parameters
        ----------
        name
            A key of :attr:`layers` (``"desa"``, ``"kecamatan"``); by default the finest.

        Returns
        -------
        Classified
            The layer (with ``kelas``) and its :class:`~povmap.Classification`.
        """
        name = name or next(iter(self.layers))
        return Classified(self.layers[name], self.classifications[name])
