"""Writing a map to a file: HTML (offline or CDN), PNG or PDF, an optional atlas, and the manifest.

Shared by the ``povmap map`` command and the demo, so neither reaches into the other.
"""

from __future__ import annotations

from pathlib import Path

from .._io import staged_outputs
from .._offline import save_map
from ..manifest import build_manifest, write_manifest
from ..result import Result
from .choice import check_map_output
from .interactive import choropleth


def write_map(
    result: Result,
    output: Path,
    *,
    title: str | None,
    source: str | None,
    tiles: str | None,
    lang: str,
    offline: bool = True,
    vintage: str | None = None,
    atlas_path: Path | None = None,
    pockets: object | None = None,
    national: bool | None = None,
) -> Path:
    """Render ``result`` to ``output`` (HTML, PNG or PDF) and write its manifest beside it.

    The map, its manifest and the atlas are written all or nothing (:func:`staged_outputs`).
    ``pockets`` defaults to the pockets the pipeline found (``--kantong``), if any.
    ``national`` chooses the HTML map's kind (:func:`povmap.choropleth`; None: by the layer's
    size).
    """
    suffix = check_map_output(output)
    manifest_path = output.with_suffix(".manifest.json")
    with staged_outputs(
        [output, manifest_path, atlas_path], inputs=result.inputs.values()
    ) as outputs:
        # Each layer with the classes the run gave it (scheme, k, breaks, --min-berdata).
        kecamatan = result.classified("kecamatan") if "kecamatan" in result.layers else None
        pockets = pockets if pockets is not None else result.pockets
        if suffix in (".png", ".pdf"):
            # matplotlib only for the maps that need it: an HTML map alone does not load it.
            from .static import save_static, static_map

            fig = static_map(
                result.classified(),
                kecamatan=kecamatan,
                title=title,
                source=source,
                vintage=vintage,
                lang=lang,
                pockets=pockets,
            )
            save_static(fig, output)
        else:
            m = choropleth(
                result.classified(),
                kecamatan=kecamatan,
                pockets=pockets,
                title=title,
                source=source,
                vintage=vintage,
                lang=lang,
                tiles=tiles,
                national=national,
            )
            save_map(m, output, offline=offline)
        written = [output]
        if atlas_path is not None:
            from .static import atlas

            written.append(
                atlas(
                    result.classified(),
                    atlas_path,
                    kecamatan=kecamatan,
                    title=title,
                    source=source,
                    vintage=vintage,
                    lang=lang,
                    pockets=pockets,
                )
            )
        # A map of suppressed layers (--suppress-below) says what was blanked, as a bundle does.
        applied = result.suppression
        # Hashed where they are staged: the manifest is written before the files are moved in.
        manifest = build_manifest(
            [outputs.path(p) for p in written],
            inputs=result.inputs,
            report=result.report.to_dict(),
            classifications=result.classifications,
            classification=result.classification,
            boundary=result.boundary,
            suppression=applied,
        )
        write_manifest(manifest_path, manifest)
    return output
